package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// `starling consumer …` manages consumers and reads through them.

var consumerActions = []action{
	{"add", "Create or update a consumer", runConsumerAdd},
	{"info", "Show a consumer's configuration and state", runConsumerInfo},
	{"ls", "List a stream's consumers", runConsumerLs},
	{"rm", "Delete a consumer", runConsumerRm},
	{"next", "Fetch messages from a pull consumer and print them", runConsumerNext},
	{"sub", "Consume continuously and print messages", runConsumerSub},
}

func runConsumer(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "consumer", consumerActions, args)
}

type consumerAddOpts struct {
	filters, deliver, ack, replay, deliverSubject, group, description string
	startSeq, maxDeliver, maxAckPending, maxWaiting                   int
	ackWait, heartbeat, inactive                                      time.Duration
	flowControl, headersOnly, asJSON                                  bool
}

func runConsumerAdd(ctx context.Context, e *env, args []string) error {
	var o consumerAddOpts
	c, pos, err := groupCmd(e, args, "consumer", "add", "<stream> <name>", "Create (or update) a durable consumer.", func(f *flagSet) {
		f.stringVar(&o.filters, "filter", "", "SUBJECTS", "", "only these subjects, comma separated")
		f.stringVar(&o.deliver, "deliver", "", "POLICY", "all", "all, last, new, last_per_subject or by_start_sequence (with --start-seq)")
		f.intVar(&o.startSeq, "start-seq", "", 0, "first sequence with --deliver by_start_sequence")
		f.stringVar(&o.ack, "ack", "", "POLICY", "explicit", "explicit, all or none")
		f.durationVar(&o.ackWait, "ack-wait", "", 30*time.Second, "wait for an ack before redelivering")
		f.intVar(&o.maxDeliver, "max-deliver", "", -1, "deliveries per message (-1: no limit)")
		f.intVar(&o.maxAckPending, "max-ack-pending", "", 1000, "unacknowledged messages at most")
		f.intVar(&o.maxWaiting, "max-waiting", "", 512, "pull requests waiting at most (pull only)")
		f.stringVar(&o.replay, "replay", "", "POLICY", "instant", "instant or original")
		f.stringVar(&o.deliverSubject, "deliver-subject", "", "SUBJECT", "", "push: deliver to this subject")
		f.stringVar(&o.group, "deliver-group", "", "GROUP", "", "push: queue group of the subscribers")
		f.durationVar(&o.heartbeat, "heartbeat", "", 0, "push: idle heartbeat interval")
		f.boolVar(&o.flowControl, "flow-control", "", "push: flow control (needs --heartbeat)")
		f.boolVar(&o.headersOnly, "headers-only", "", "deliver headers and sizes only")
		f.durationVar(&o.inactive, "inactive-threshold", "", 0, "delete the consumer after this long without interest")
		f.stringVar(&o.description, "description", "", "TEXT", "", "description")
		f.boolVar(&o.asJSON, "json", "", "print the consumer info as JSON")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("consumer add needs a stream and a consumer name")
	}
	cfg, err := o.config(pos[1])
	if err != nil {
		return err
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	cons, err := s.js.CreateOrUpdateConsumer(cctx, pos[0], cfg)
	if err != nil {
		return s.explain(pos[0], err)
	}
	return printConsumerInfo(e, cons.CachedInfo(), o.asJSON)
}

func (o *consumerAddOpts) config(name string) (jetstream.ConsumerConfig, error) {
	cfg := jetstream.ConsumerConfig{
		Durable: name, Description: o.description, AckWait: o.ackWait, MaxDeliver: o.maxDeliver,
		MaxAckPending: o.maxAckPending, DeliverSubject: o.deliverSubject, DeliverGroup: o.group,
		IdleHeartbeat: o.heartbeat, FlowControl: o.flowControl, HeadersOnly: o.headersOnly, InactiveThreshold: o.inactive,
		OptStartSeq: uint64(max(o.startSeq, 0)),
	}
	if o.deliverSubject == "" {
		cfg.MaxWaiting = o.maxWaiting
	}
	if f := splitList(o.filters); len(f) == 1 {
		cfg.FilterSubject = f[0]
	} else {
		cfg.FilterSubjects = f
	}
	var err error
	if cfg.DeliverPolicy, err = pick("deliver", o.deliver,
		choice[jetstream.DeliverPolicy]{"all", jetstream.DeliverAllPolicy}, choice[jetstream.DeliverPolicy]{"last", jetstream.DeliverLastPolicy},
		choice[jetstream.DeliverPolicy]{"new", jetstream.DeliverNewPolicy}, choice[jetstream.DeliverPolicy]{"last_per_subject", jetstream.DeliverLastPerSubjectPolicy},
		choice[jetstream.DeliverPolicy]{"by_start_sequence", jetstream.DeliverByStartSequencePolicy}); err != nil {
		return cfg, err
	}
	if cfg.AckPolicy, err = pick("ack", o.ack, choice[jetstream.AckPolicy]{"explicit", jetstream.AckExplicitPolicy},
		choice[jetstream.AckPolicy]{"all", jetstream.AckAllPolicy}, choice[jetstream.AckPolicy]{"none", jetstream.AckNonePolicy}); err != nil {
		return cfg, err
	}
	if cfg.ReplayPolicy, err = pick("replay", o.replay, choice[jetstream.ReplayPolicy]{"instant", jetstream.ReplayInstantPolicy},
		choice[jetstream.ReplayPolicy]{"original", jetstream.ReplayOriginalPolicy}); err != nil {
		return cfg, err
	}
	if cfg.DeliverPolicy == jetstream.DeliverByStartSequencePolicy && o.startSeq < 1 {
		return cfg, usageErrorf("--deliver by_start_sequence needs --start-seq")
	}
	return cfg, nil
}

// consumerOpen looks the consumer up.
func consumerOpen(ctx context.Context, c *connFlags, stream, name string) (*jsSession, jetstream.Consumer, error) {
	s, err := openJS(c)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	cons, err := s.js.Consumer(cctx, stream, name)
	if err != nil {
		s.close()
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, nil, fmt.Errorf("consumer %s not found on stream %s", name, stream)
		}
		return nil, nil, s.explain(stream, err)
	}
	return s, cons, nil
}

func runConsumerInfo(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	c, pos, err := groupCmd(e, args, "consumer", "info", "<stream> <name>", "Show a consumer.", func(f *flagSet) {
		f.boolVar(&asJSON, "json", "", "print the consumer info as JSON")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("consumer info needs a stream and a consumer name")
	}
	s, cons, err := consumerOpen(ctx, c, pos[0], pos[1])
	if err != nil {
		return err
	}
	defer s.close()
	return printConsumerInfo(e, cons.CachedInfo(), asJSON)
}

func printConsumerInfo(e *env, ci *jetstream.ConsumerInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ci)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Consumer %s on stream %s, created %s\n\n", ci.Name, ci.Stream, ci.Created.UTC().Format(time.RFC3339))
	cfg := ci.Config
	sec := newSection(&b, "Configuration")
	kind := "pull"
	if cfg.DeliverSubject != "" {
		kind = "push to " + cfg.DeliverSubject
	}
	sec.row("Mode", kind)
	sec.row("Deliver policy", enumWord(cfg.DeliverPolicy))
	sec.row("Ack policy", enumWord(cfg.AckPolicy))
	sec.row("Ack wait", cfg.AckWait.String())
	sec.row("Filter", strings.Join(append([]string{cfg.FilterSubject}, cfg.FilterSubjects...), " "))
	sec.row("Max ack pending", commaInt(int64(cfg.MaxAckPending)))
	sec.end()
	b.WriteString("\n")
	sec = newSection(&b, "State")
	sec.row("Delivered", fmt.Sprintf("consumer seq %d, stream seq %d", ci.Delivered.Consumer, ci.Delivered.Stream))
	sec.row("Ack floor", fmt.Sprintf("consumer seq %d, stream seq %d", ci.AckFloor.Consumer, ci.AckFloor.Stream))
	sec.row("Pending", commaInt(int64(ci.NumPending)))
	sec.row("Awaiting ack", commaInt(int64(ci.NumAckPending)))
	sec.row("Redelivered", commaInt(int64(ci.NumRedelivered)))
	sec.row("Waiting pulls", commaInt(int64(ci.NumWaiting)))
	sec.end()
	_, err := io.WriteString(e.stdout, b.String())
	return err
}

func runConsumerLs(ctx context.Context, e *env, args []string) error {
	c, pos, err := groupCmd(e, args, "consumer", "ls", "<stream>", "List a stream's consumers.", nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("consumer ls needs a stream name")
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.stream(ctx, pos[0])
	if err != nil {
		return err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILTER\tACK\tPENDING\tACK PENDING\tREDELIVERED\tWAITING")
	list := st.ListConsumers(cctx)
	for ci := range list.Info() {
		filter := ci.Config.FilterSubject
		if filter == "" {
			filter = strings.Join(ci.Config.FilterSubjects, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\n", ci.Name, filter, enumWord(ci.Config.AckPolicy), ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting)
	}
	if err := list.Err(); err != nil {
		return s.explain(pos[0], err)
	}
	tw.Flush()
	_, err = io.WriteString(e.stdout, b.String())
	return err
}

func runConsumerRm(ctx context.Context, e *env, args []string) error {
	var force bool
	c, pos, err := groupCmd(e, args, "consumer", "rm", "<stream> <name>", "Delete a consumer.", func(f *flagSet) {
		f.boolVar(&force, "force", "f", "really delete (required)")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("consumer rm needs a stream and a consumer name")
	}
	if !force {
		return usageErrorf("consumer rm deletes %s: add --force to confirm", pos[1])
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.js.DeleteConsumer(cctx, pos[0], pos[1]); err != nil {
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprintf(e.stdout, "Deleted consumer %s\n", pos[1])
	return err
}

func runConsumerNext(ctx context.Context, e *env, args []string) error {
	var count int
	var noAck bool
	c, pos, err := groupCmd(e, args, "consumer", "next", "<stream> <name>", "Fetch messages from a pull consumer, print and ack them.", func(f *flagSet) {
		f.intVar(&count, "count", "", 1, "messages to fetch")
		f.boolVar(&noAck, "no-ack", "", "do not acknowledge")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 || count < 1 {
		return usageErrorf("consumer next needs a stream, a consumer name and --count of at least 1")
	}
	s, cons, err := consumerOpen(ctx, c, pos[0], pos[1])
	if err != nil {
		return err
	}
	defer s.close()
	batch, err := cons.Fetch(count, jetstream.FetchMaxWait(s.timeout))
	if err != nil {
		return s.explain(pos[0], err)
	}
	n := 0
	for m := range batch.Messages() {
		if err := printConsumed(e, m, noAck); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("no messages")
	}
	return nil
}

func printConsumed(e *env, m jetstream.Msg, noAck bool) error {
	md, _ := m.Metadata()
	var seq uint64
	if md != nil {
		seq = md.Sequence.Stream
	}
	if _, err := fmt.Fprintf(e.stdout, "[%d] %s: %s\n", seq, m.Subject(), m.Data()); err != nil {
		return err
	}
	if noAck {
		return nil
	}
	return m.Ack()
}

func runConsumerSub(ctx context.Context, e *env, args []string) error {
	var count int
	c, pos, err := groupCmd(e, args, "consumer", "sub", "<stream> <name>", "Consume continuously, printing and acking each message.", func(f *flagSet) {
		f.intVar(&count, "count", "", 0, "stop after this many messages (0: until interrupted)")
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErrorf("consumer sub needs a stream and a consumer name")
	}
	s, cons, err := consumerOpen(ctx, c, pos[0], pos[1])
	if err != nil {
		return err
	}
	defer s.close()
	it, err := cons.Messages()
	if err != nil {
		return s.explain(pos[0], err)
	}
	defer it.Stop()
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for n := 0; count == 0 || n < count; n++ {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return s.explain(pos[0], err)
		}
		if err := printConsumed(e, m, false); err != nil {
			return err
		}
	}
	return nil
}
