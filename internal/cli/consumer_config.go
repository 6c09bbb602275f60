package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// consumerAddOpts are `consumer add`'s flags. Only the limits the user
// gives are sent; the others are left to the server's defaults.
type consumerAddOpts struct {
	conn                                         connFlags
	durable, deliver, startTime, ack, replay     string
	deliverSubject, group, description, backoffs string
	filters                                      listValue
	startSeq, maxDeliver, maxAckPending          int
	maxWaiting                                   int
	ackWait, heartbeat, inactive                 time.Duration
	flowControl, headersOnly, ephemeral, json    bool
}

func consumerAddFlags(e *env, o *consumerAddOpts) *flagSet {
	f := newFlagSet("consumer add", "<stream> [name]",
		"Create a consumer, or update one with the same name, and print it. The name\n"+
			"comes from the argument or --durable; with --ephemeral the consumer is not\n"+
			"durable and the server removes it after --inactive-threshold without interest.\n"+
			"A --deliver-subject makes a push consumer; without one it is a pull consumer.")
	addJSConnFlags(f, &o.conn, e)
	f.stringVar(&o.durable, "durable", "", "NAME", "", "durable name (instead of the name argument)")
	f.boolVar(&o.ephemeral, "ephemeral", "", "not durable: removed after --inactive-threshold without interest")
	f.value(&o.filters, "filter", "", "SUBJECTS", "", "only these subjects; repeat or separate with commas")
	f.stringVar(&o.deliver, "deliver", "", "POLICY", "all", "all, last, new, last_per_subject, by_start_sequence or by_start_time")
	f.intVar(&o.startSeq, "start-seq", "", 0, "first stream sequence (implies --deliver by_start_sequence)")
	f.stringVar(&o.startTime, "start-time", "", "RFC3339", "", "first message time, e.g. 2026-01-02T15:04:05Z (implies --deliver by_start_time)")
	f.stringVar(&o.ack, "ack", "", "POLICY", "explicit", "explicit, all or none")
	f.durationVar(&o.ackWait, "ack-wait", "", 0, "wait for an ack before redelivering (server default 30s)")
	f.intVar(&o.maxDeliver, "max-deliver", "", 0, "deliveries per message, -1 for no limit (server default: none)")
	f.intVar(&o.maxAckPending, "max-ack-pending", "", 0, "unacknowledged messages at most, -1 for no limit (server default 1000)")
	f.intVar(&o.maxWaiting, "max-waiting", "", 0, "pull requests waiting at most (pull only; server default 512)")
	f.stringVar(&o.backoffs, "backoff", "", "DURATIONS", "", "redelivery delays, comma separated, e.g. 1s,5s,30s")
	f.stringVar(&o.replay, "replay", "", "POLICY", "instant", "instant or original")
	f.stringVar(&o.deliverSubject, "deliver-subject", "", "SUBJECT", "", "push: deliver to this subject")
	f.stringVar(&o.group, "deliver-group", "", "GROUP", "", "push: queue group of the subscribers")
	f.durationVar(&o.heartbeat, "heartbeat", "", 0, "push: idle heartbeat interval")
	f.boolVar(&o.flowControl, "flow-control", "", "push: flow control (needs --heartbeat)")
	f.boolVar(&o.headersOnly, "headers-only", "", "deliver headers and sizes, not bodies")
	f.durationVar(&o.inactive, "inactive-threshold", "", 0, "remove the consumer after this long without interest")
	f.stringVar(&o.description, "description", "", "TEXT", "", "a description")
	f.boolVar(&o.json, "json", "", "print the resulting consumer info as JSON")
	return f
}

// consumerConfig builds the configuration from the flags; pos holds the
// checked positional arguments (a stream and perhaps a name).
func (o *consumerAddOpts) consumerConfig(f *flagSet, pos []string) (jetstream.ConsumerConfig, error) {
	cfg := jetstream.ConsumerConfig{
		Description: o.description, DeliverSubject: o.deliverSubject, DeliverGroup: o.group,
		IdleHeartbeat: o.heartbeat, FlowControl: o.flowControl, HeadersOnly: o.headersOnly,
		InactiveThreshold: o.inactive, AckWait: o.ackWait,
	}
	name, err := o.name(pos)
	if err != nil {
		return cfg, err
	}
	if o.ephemeral {
		cfg.Name = name
	} else {
		cfg.Durable = name
	}
	if err := checkSubjects("--filter subject", o.filters, false); err != nil {
		return cfg, err
	}
	if o.deliverSubject != "" {
		if err := checkSubject("--deliver-subject", o.deliverSubject, true); err != nil {
			return cfg, err
		}
	}
	if err := checkQueue("--deliver-group", o.group); err != nil {
		return cfg, err
	}
	if len(o.filters) == 1 {
		cfg.FilterSubject = o.filters[0]
	} else {
		cfg.FilterSubjects = o.filters
	}
	if err := o.policies(f, &cfg); err != nil {
		return cfg, err
	}
	if err := o.limits(f, &cfg); err != nil {
		return cfg, err
	}
	if cfg.BackOff, err = parseBackoff(o.backoffs); err != nil {
		return cfg, err
	}
	return cfg, o.checkPush(f)
}

// name is the consumer's name from the argument or --durable.
func (o *consumerAddOpts) name(pos []string) (string, error) {
	name := o.durable
	if len(pos) == 2 {
		if name != "" && name != pos[1] {
			return "", usageErrorf("the name %q and --durable %q differ", pos[1], name)
		}
		name = pos[1]
	}
	if name == "" && !o.ephemeral {
		return "", usageErrorf("missing consumer name: give it as an argument or --durable, or add --ephemeral")
	}
	if o.ephemeral && o.durable != "" {
		return "", usageErrorf("--durable and --ephemeral cannot be combined")
	}
	if strings.ContainsAny(name, ".*> \t") {
		return "", usageErrorf("invalid consumer name %q: no '.', '*', '>' or spaces", name)
	}
	return name, nil
}

func (o *consumerAddOpts) policies(f *flagSet, cfg *jetstream.ConsumerConfig) error {
	deliver := o.deliver
	switch {
	case !f.isSet("deliver") && f.isSet("start-seq"):
		deliver = "by_start_sequence"
	case !f.isSet("deliver") && f.isSet("start-time"):
		deliver = "by_start_time"
	}
	var err error
	cfg.DeliverPolicy, err = pick("deliver", deliver,
		choice[jetstream.DeliverPolicy]{"all", jetstream.DeliverAllPolicy},
		choice[jetstream.DeliverPolicy]{"last", jetstream.DeliverLastPolicy},
		choice[jetstream.DeliverPolicy]{"new", jetstream.DeliverNewPolicy},
		choice[jetstream.DeliverPolicy]{"last_per_subject", jetstream.DeliverLastPerSubjectPolicy},
		choice[jetstream.DeliverPolicy]{"by_start_sequence", jetstream.DeliverByStartSequencePolicy},
		choice[jetstream.DeliverPolicy]{"by_start_time", jetstream.DeliverByStartTimePolicy})
	if err != nil {
		return err
	}
	if err := o.startAt(f, cfg); err != nil {
		return err
	}
	cfg.AckPolicy, err = pick("ack", o.ack,
		choice[jetstream.AckPolicy]{"explicit", jetstream.AckExplicitPolicy},
		choice[jetstream.AckPolicy]{"all", jetstream.AckAllPolicy},
		choice[jetstream.AckPolicy]{"none", jetstream.AckNonePolicy})
	if err != nil {
		return err
	}
	cfg.ReplayPolicy, err = pick("replay", o.replay,
		choice[jetstream.ReplayPolicy]{"instant", jetstream.ReplayInstantPolicy},
		choice[jetstream.ReplayPolicy]{"original", jetstream.ReplayOriginalPolicy})
	return err
}

// startAt sets the start sequence or time the deliver policy needs, and
// refuses one given with a policy that would ignore it.
func (o *consumerAddOpts) startAt(f *flagSet, cfg *jetstream.ConsumerConfig) error {
	switch cfg.DeliverPolicy {
	case jetstream.DeliverByStartSequencePolicy:
		if o.startSeq < 1 {
			return usageErrorf("--deliver by_start_sequence needs --start-seq of at least 1")
		}
		cfg.OptStartSeq = uint64(o.startSeq)
	case jetstream.DeliverByStartTimePolicy:
		if o.startTime == "" {
			return usageErrorf("--deliver by_start_time needs --start-time")
		}
		t, err := time.Parse(time.RFC3339Nano, o.startTime)
		if err != nil {
			return usageErrorf("invalid --start-time %q: want RFC 3339 such as 2026-01-02T15:04:05Z", o.startTime)
		}
		cfg.OptStartTime = &t
	}
	if f.isSet("start-seq") && cfg.DeliverPolicy != jetstream.DeliverByStartSequencePolicy {
		return usageErrorf("--start-seq needs --deliver by_start_sequence")
	}
	if f.isSet("start-time") && cfg.DeliverPolicy != jetstream.DeliverByStartTimePolicy {
		return usageErrorf("--start-time needs --deliver by_start_time")
	}
	return nil
}

func (o *consumerAddOpts) limits(f *flagSet, cfg *jetstream.ConsumerConfig) error {
	for _, l := range []struct {
		flag string
		v    int
		dst  *int
	}{
		{"max-deliver", o.maxDeliver, &cfg.MaxDeliver},
		{"max-ack-pending", o.maxAckPending, &cfg.MaxAckPending},
	} {
		if !f.isSet(l.flag) {
			continue
		}
		if l.v == 0 || l.v < -1 {
			return usageErrorf("--%s must be -1 (unlimited) or at least 1", l.flag)
		}
		*l.dst = l.v
	}
	if f.isSet("max-waiting") {
		if o.maxWaiting < 1 {
			return usageErrorf("--max-waiting must be at least 1")
		}
		if o.deliverSubject != "" {
			return usageErrorf("--max-waiting is for pull consumers; this one pushes to --deliver-subject")
		}
		cfg.MaxWaiting = o.maxWaiting
	}
	return nil
}

// checkPush refuses push-only settings on a pull consumer.
func (o *consumerAddOpts) checkPush(f *flagSet) error {
	if o.deliverSubject != "" {
		if o.flowControl && o.heartbeat == 0 {
			return usageErrorf("--flow-control needs --heartbeat")
		}
		return nil
	}
	for _, flag := range []string{"deliver-group", "heartbeat", "flow-control"} {
		if f.isSet(flag) {
			return usageErrorf("--%s is for push consumers: add --deliver-subject", flag)
		}
	}
	return nil
}

// parseBackoff reads "1s,5s,30s" into redelivery delays.
func parseBackoff(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, p := range splitList(s) {
		d, err := time.ParseDuration(p)
		if err != nil || d <= 0 {
			return nil, usageErrorf("invalid --backoff %q: want positive durations such as 1s,5s,30s", p)
		}
		out = append(out, d)
	}
	return out, nil
}

// listValue collects a flag given several times, each perhaps a comma
// separated list.
type listValue []string

func (v *listValue) Set(s string) error {
	items := splitList(s)
	if len(items) == 0 {
		return fmt.Errorf("no subjects in %q", s)
	}
	*v = append(*v, items...)
	return nil
}

func (v *listValue) String() string { return strings.Join(*v, ",") }
