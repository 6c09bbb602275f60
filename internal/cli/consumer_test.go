package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// defaultConsumer is what `consumer add S NAME` sends with no other
// flags; edit changes it into a case's expectation.
func defaultConsumer(name string, edit func(*jetstream.ConsumerConfig)) jetstream.ConsumerConfig {
	c := jetstream.ConsumerConfig{Durable: name, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, ReplayPolicy: jetstream.ReplayInstantPolicy}
	if edit != nil {
		edit(&c)
	}
	return c
}

// consumerAddConfig parses `consumer add` arguments into the config it
// would send.
func consumerAddConfig(t *testing.T, args []string) (jetstream.ConsumerConfig, error) {
	t.Helper()
	e, _, _ := testEnv(nil)
	o := &consumerAddOpts{}
	f := consumerAddFlags(e, o)
	pos, err := f.parse(args)
	if err != nil {
		return jetstream.ConsumerConfig{}, err
	}
	if err := f.checkArgs(pos, 1, 2); err != nil {
		return jetstream.ConsumerConfig{}, err
	}
	return o.consumerConfig(f, pos)
}

func TestConsumerAddConfig(t *testing.T) {
	start := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		args []string
		want jetstream.ConsumerConfig
	}{
		{"defaults", []string{"S", "work"}, defaultConsumer("work", nil)},
		{"durable flag", []string{"S", "--durable", "work"}, defaultConsumer("work", nil)},
		{"same name twice", []string{"S", "work", "--durable=work"}, defaultConsumer("work", nil)},
		{"ephemeral named", []string{"S", "tmp", "--ephemeral", "--inactive-threshold", "1m"},
			defaultConsumer("", func(c *jetstream.ConsumerConfig) { c.Name, c.InactiveThreshold = "tmp", time.Minute })},
		{"ephemeral unnamed", []string{"S", "--ephemeral"}, defaultConsumer("", nil)},
		{"one filter", []string{"S", "w", "--filter", "orders.>"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) { c.FilterSubject = "orders.>" })},
		{"filters repeated and listed", []string{"S", "w", "--filter", "a, b", "--filter", "c"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) { c.FilterSubjects = []string{"a", "b", "c"} })},
		{"policies", []string{"S", "w", "--deliver", "LAST_PER_SUBJECT", "--ack", "all", "--replay", "original"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) {
				c.DeliverPolicy, c.AckPolicy, c.ReplayPolicy = jetstream.DeliverLastPerSubjectPolicy, jetstream.AckAllPolicy, jetstream.ReplayOriginalPolicy
			})},
		{"start sequence", []string{"S", "w", "--deliver", "by_start_sequence", "--start-seq", "42"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) {
				c.DeliverPolicy, c.OptStartSeq = jetstream.DeliverByStartSequencePolicy, 42
			})},
		{"start sequence implied", []string{"S", "w", "--start-seq", "7"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) {
				c.DeliverPolicy, c.OptStartSeq = jetstream.DeliverByStartSequencePolicy, 7
			})},
		{"start time implied", []string{"S", "w", "--start-time", "2026-01-02T15:04:05Z"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) {
				c.DeliverPolicy, c.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
			})},
		{"limits", []string{"S", "w", "--ack-wait", "10s", "--max-deliver", "5", "--max-ack-pending", "-1",
			"--max-waiting", "16", "--backoff", "1s, 5s,30s", "--headers-only", "--description", "d"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) {
				c.AckWait, c.MaxDeliver, c.MaxAckPending, c.MaxWaiting = 10*time.Second, 5, -1, 16
				c.BackOff, c.HeadersOnly, c.Description = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}, true, "d"
			})},
		{"push", []string{"S", "w", "--deliver-subject", "out.w", "--deliver-group", "g", "--heartbeat", "5s", "--flow-control"},
			defaultConsumer("w", func(c *jetstream.ConsumerConfig) {
				c.DeliverSubject, c.DeliverGroup, c.IdleHeartbeat, c.FlowControl = "out.w", "g", 5*time.Second, true
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := consumerAddConfig(t, tt.args)
			if err != nil {
				t.Fatalf("%q: %v", tt.args, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%q:\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestConsumerAddConfigErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing argument"},
		{[]string{"S"}, "missing consumer name"},
		{[]string{"S", "a", "b"}, `unexpected argument "b"`},
		{[]string{"S", "a", "--durable", "b"}, `the name "a" and --durable "b" differ`},
		{[]string{"S", "--durable", "a", "--ephemeral"}, "cannot be combined"},
		{[]string{"S", "a.b"}, `invalid consumer name "a.b"`},
		{[]string{"S", "w", "--deliver", "soon"}, "--deliver must be all, last, new, last_per_subject, by_start_sequence or by_start_time"},
		{[]string{"S", "w", "--deliver", "by_start_sequence"}, "needs --start-seq of at least 1"},
		{[]string{"S", "w", "--deliver", "by_start_time"}, "needs --start-time"},
		{[]string{"S", "w", "--start-time", "yesterday"}, `invalid --start-time "yesterday"`},
		{[]string{"S", "w", "--deliver", "all", "--start-seq", "3"}, "--start-seq needs --deliver by_start_sequence"},
		{[]string{"S", "w", "--deliver", "new", "--start-time", "2026-01-02T15:04:05Z"}, "--start-time needs --deliver by_start_time"},
		{[]string{"S", "w", "--ack", "maybe"}, "--ack must be explicit, all or none"},
		{[]string{"S", "w", "--replay", "slow"}, "--replay must be instant or original"},
		{[]string{"S", "w", "--max-deliver", "0"}, "--max-deliver must be -1 (unlimited) or at least 1"},
		{[]string{"S", "w", "--max-ack-pending", "-5"}, "--max-ack-pending must be -1"},
		{[]string{"S", "w", "--max-waiting", "0"}, "--max-waiting must be at least 1"},
		{[]string{"S", "w", "--max-waiting", "5", "--deliver-subject", "x"}, "--max-waiting is for pull consumers"},
		{[]string{"S", "w", "--backoff", "1s,soon"}, `invalid --backoff "soon"`},
		{[]string{"S", "w", "--heartbeat", "1s"}, "--heartbeat is for push consumers"},
		{[]string{"S", "w", "--deliver-group", "g"}, "--deliver-group is for push consumers"},
		{[]string{"S", "w", "--deliver-subject", "x", "--flow-control"}, "--flow-control needs --heartbeat"},
		{[]string{"S", "w", "--filter", " , "}, "no subjects"},
		{[]string{"S", "w", "--ack-wait", "-1s"}, "is negative"},
	}
	for _, tt := range tests {
		_, err := consumerAddConfig(t, tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestConsumerArgErrors checks that mistakes are caught before connecting:
// the server URL points nowhere, so a connection attempt would show up.
func TestConsumerArgErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing action"},
		{[]string{"drop"}, `unknown consumer action "drop"`},
		{[]string{"add", "S"}, "missing consumer name"},
		{[]string{"add", "S", "w", "--ack", "maybe"}, "--ack must be"},
		{[]string{"info", "S"}, "missing argument: usage: starling consumer info [flags] <stream> <name>"},
		{[]string{"info", "S", "w", "x"}, `unexpected argument "x"`},
		{[]string{"ls"}, "missing argument"},
		{[]string{"ls", "S", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"rm", "S", "w"}, "consumer rm deletes w from S: add --force to confirm"},
		{[]string{"next", "S", "w", "--count", "0"}, "--count must be from 1 to 100,000"},
		{[]string{"next", "S"}, "missing argument"},
		{[]string{"sub", "S", "w", "--count", "-1"}, "--count must not be negative"},
		{[]string{"info", "S", "w", "--timeout", "0s"}, "--timeout must be greater than zero"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "consumer", append(tt.args, "-s", "nats://127.0.0.1:1")...)
		if code != 1 || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "see 'starling consumer --help'") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one usage line with %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestConsumerHelp(t *testing.T) {
	code, out, _ := runCmd(t, "consumer", "--help")
	if code != 0 || !strings.Contains(out, "Usage: starling consumer <action>") {
		t.Fatalf("consumer --help: exit %d\n%s", code, out)
	}
	for _, a := range consumerActions {
		code, aout, errOut := runCmd(t, "consumer", a.name, "--help")
		if code != 0 || errOut != "" || !strings.HasPrefix(aout, "Usage: starling consumer "+a.name) {
			t.Errorf("consumer %s --help: exit %d, stderr %q\n%s", a.name, code, errOut, aout)
		}
	}
	_, out, _ = runCmd(t, "consumer", "add", "--help")
	for _, want := range []string{"--durable NAME", "--filter SUBJECTS", "--deliver POLICY", "(default all)", "--start-time RFC3339",
		"--backoff DURATIONS", "--deliver-subject SUBJECT", "--flow-control", "--inactive-threshold DURATION", "--json"} {
		if !strings.Contains(out, want) {
			t.Errorf("consumer add --help lacks %q:\n%s", want, out)
		}
	}
}

func TestConsumerInfoText(t *testing.T) {
	last := testNow.Add(time.Second)
	start := testNow.Add(-time.Hour)
	ci := &jetstream.ConsumerInfo{
		Stream: "ORDERS", Name: "work", Created: testNow,
		Config: jetstream.ConsumerConfig{Durable: "work", Description: "billing", FilterSubjects: []string{"a.>", "b"},
			DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: 30 * time.Second, BackOff: []time.Duration{time.Second, time.Minute}, MaxDeliver: -1, MaxAckPending: 1000,
			MaxWaiting: 512},
		Delivered:  jetstream.SequenceInfo{Consumer: 3, Stream: 1007, Last: &last},
		NumPending: 1234, NumAckPending: 2, NumRedelivered: 1, NumWaiting: 1,
	}
	got := consumerInfoText(ci)
	for _, want := range []string{
		"Information for consumer work on stream ORDERS, created 2026-11-22T17:00:00Z\n\nConfiguration:\n",
		"  Durable name:       work\n",
		"  Description:        billing\n",
		"  Mode:               pull\n",
		"  Filter:             a.>, b\n",
		"  Deliver policy:     by_start_time 2026-11-22T16:00:00Z\n",
		"  Ack policy:         explicit\n",
		"  Ack wait:           30s\n",
		"  Backoff:            1s, 1m0s\n",
		"  Max deliveries:     unlimited\n",
		"  Max ack pending:    1,000\n",
		"  Max waiting pulls:  512\n",
		"\nState:\n",
		"  Last delivered:  consumer sequence 3, stream sequence 1,007 @ 2026-11-22T17:00:01Z\n",
		"  Ack floor:       none\n",
		"  Pending:         1,234\n",
		"  Waiting pulls:   1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	ci.Config = jetstream.ConsumerConfig{DeliverSubject: "out", DeliverGroup: "g", IdleHeartbeat: 5 * time.Second,
		FlowControl: true, AckPolicy: jetstream.AckNonePolicy, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 5}
	ci.PushBound = true
	got = consumerInfoText(ci)
	for _, want := range []string{"  Mode:             push to out\n", "  Deliver policy:   by_start_sequence 5\n",
		"  Deliver group:    g\n", "  Flow control:     true\n", "  Push bound:      true\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("push: missing %q in:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"Ack wait", "Durable", "Max waiting", "Waiting pulls", "Backoff"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("push: %q shown:\n%s", unwanted, got)
		}
	}
}

func TestConsumerTable(t *testing.T) {
	infos := []*jetstream.ConsumerInfo{
		{Name: "pull", Config: jetstream.ConsumerConfig{FilterSubject: "orders.>", AckPolicy: jetstream.AckExplicitPolicy},
			NumPending: 1500, NumAckPending: 3, NumRedelivered: 1, NumWaiting: 2},
		{Name: "push", Config: jetstream.ConsumerConfig{DeliverSubject: "out", AckPolicy: jetstream.AckNonePolicy}},
	}
	want := "" +
		"NAME  FILTER    ACK       PENDING  ACK PENDING  REDELIVERED  WAITING\n" +
		"pull  orders.>  explicit  1,500    3            1            2\n" +
		"push  -         none      0        0            0            push\n"
	if got := consumerTable(infos); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := consumerTable(nil); got != "No consumers defined\n" {
		t.Errorf("empty: %q", got)
	}
}
