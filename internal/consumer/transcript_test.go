package consumer

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream/transcript"
)

// Transcripts of consumer state transitions (testdata/events): events
// applied to replicas of a consumer's delivery state, one a line:
//
//	delivered s=5 c=3 n=2   message 5 went out as consumer sequence 3, 2nd delivery
//	acked s=5
//	terminated s=5
//
// Commands:
//
//	consumer ack=explicit|all|none next=N lps=3,5
//	                        fresh replicas positioned at next (or at the
//	                        last-per-subject set), as a new consumer is
//	apply                   the input's events, each applied to every
//	                        replica; prints whether it changed the state
//	                        and what an ack removed
//	state                   the persisted state, the same on every replica
//
// Of three replicas, the third is rebuilt from the first's persisted
// state before every event, as a restarted consumer would be: the state
// must carry everything later events depend on.

func TestEventTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/events/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var reps [3]*deliveryState
			var policy jsapi.AckPolicy
			transcript.Run(t, f, func(t *testing.T, c *transcript.Case) string {
				switch c.Cmd {
				case "consumer":
					var err error
					if policy, err = ackPolicy(c); err != nil {
						t.Fatalf("%s: %v", c.Pos, err)
					}
					for i := range reps {
						reps[i] = startState(t, c)
					}
					return "ok"
				case "apply":
					var out []string
					for _, line := range c.Input {
						ev, err := parseEvent(line)
						if err != nil {
							t.Fatalf("%s: %v", c.Pos, err)
						}
						st := reps[0].state()
						reps[2] = &deliveryState{}
						reps[2].restore(&st)
						out = append(out, sameOut(t, c, reps[:], func(d *deliveryState) string { return applyEvent(d, ev, policy) }))
					}
					return strings.Join(out, "\n")
				case "state":
					return sameOut(t, c, reps[:], func(d *deliveryState) string { return dumpConsumer(d) })
				}
				t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
				return ""
			})
		})
	}
}

func ackPolicy(c *transcript.Case) (jsapi.AckPolicy, error) {
	v, _ := c.Arg("ack")
	switch v {
	case "explicit", "":
		return jsapi.AckExplicit, nil
	case "all":
		return jsapi.AckAll, nil
	case "none":
		return jsapi.AckNone, nil
	}
	return 0, fmt.Errorf("ack policy %q", v)
}

// startState positions a fresh state as Consumer.start does.
func startState(t *testing.T, c *transcript.Case) *deliveryState {
	d := &deliveryState{pending: map[uint64]*pendingAck{}, sseq: 1}
	if v, ok := c.Arg("next"); ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: next: %v", c.Pos, err)
		}
		d.sseq = n
	}
	if v, ok := c.Arg("lps"); ok {
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				t.Fatalf("%s: lps: %v", c.Pos, err)
			}
			d.lps = append(d.lps, n)
		}
	}
	d.floorS = d.sseq - 1
	if len(d.lps) > 0 {
		d.floorS = d.lps[0] - 1
	}
	return d
}

func parseEvent(line string) (Event, error) {
	fields, err := transcript.Fields(line)
	if err != nil || len(fields) == 0 {
		return Event{}, fmt.Errorf("bad event %q: %v", line, err)
	}
	var ev Event
	switch fields[0].Key {
	case "delivered":
		ev.Kind, ev.Deliveries = EventDelivered, 1
	case "acked":
		ev.Kind = EventAcked
	case "terminated":
		ev.Kind = EventTerminated
	default:
		return ev, fmt.Errorf("event %q", fields[0].Key)
	}
	for _, f := range fields[1:] {
		n, err := strconv.ParseUint(f.Val, 10, 64)
		if err != nil {
			return ev, fmt.Errorf("%s in %q: %v", f.Key, line, err)
		}
		switch f.Key {
		case "s":
			ev.Stream = n
		case "c":
			ev.Consumer = n
		case "n":
			ev.Deliveries = int(n)
		default:
			return ev, fmt.Errorf("field %q in %q", f.Key, line)
		}
	}
	return ev, nil
}

func applyEvent(d *deliveryState, ev Event, policy jsapi.AckPolicy) string {
	acked, changed := d.apply(ev, policy, nil)
	out := "unchanged"
	if changed {
		out = "changed"
	}
	if len(acked) > 0 {
		out += fmt.Sprintf(" acked=%v", acked)
	}
	return out
}

func sameOut(t *testing.T, c *transcript.Case, reps []*deliveryState, fn func(*deliveryState) string) string {
	t.Helper()
	var first string
	for i, d := range reps {
		got := fn(d)
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("%s: replica %d differs from replica 0:\n%s\nreplica 0:\n%s", c.Pos, i, got, first)
		}
	}
	return first
}

// dumpConsumer words the persisted state and the redelivered count.
func dumpConsumer(d *deliveryState) string {
	st := d.state()
	var b strings.Builder
	fmt.Fprintf(&b, "next=%d delivered=c%d/s%d floor=c%d/s%d redelivered=%d", st.Next, st.Delivered, st.LastStream, st.FloorC, st.FloorS, d.redelivers)
	if len(st.Pending) > 0 {
		b.WriteString("\npending")
		for _, p := range st.Pending {
			fmt.Fprintf(&b, " s%d/c%d/n%d", p.Stream, p.Consumer, p.Deliveries)
		}
	}
	if len(st.LastPer) > 0 {
		fmt.Fprintf(&b, "\nlast_per %v", st.LastPer)
	}
	return b.String()
}

// TestLiveConsumerEvents drives a live consumer through deliveries,
// acks, a NAK, a redelivery and a +TERM, rebuilds the events from what
// went out (every delivery's ack subject names its stream and consumer
// sequences and delivery count) and what came back, and applies them to
// a fresh state: it must end where the consumer's own state is.
func TestLiveConsumerEvents(t *testing.T) {
	src := &fakeSource{st: store.NewMemory()}
	for i, subj := range []string{"a", "b", "a", "c", "b"} {
		src.add(subj, fmt.Sprint(i+1))
	}
	out := &fakeOut{interest: true}
	cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "ev", AckPolicy: jsapi.AckExplicit, AckWait: time.Hour}, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	c := New("ev", cfg, Options{Source: src, Out: out})
	t.Cleanup(c.Stop)

	replay := &deliveryState{pending: map[uint64]*pendingAck{}, sseq: 1}
	var events []Event
	seen := 0
	// delivered reads the deliveries since the last call into events.
	delivered := func(n int) []delivery {
		t.Helper()
		var got []delivery
		for want := seen + n; len(got) < n; want++ { // status messages do not count
			all := waitFor(t, out, want)
			got = got[:0]
			for _, d := range all[seen:] {
				if strings.HasPrefix(d.reply, "$JS.ACK.") {
					got = append(got, d)
				}
			}
			if len(got) >= n {
				seen = len(all)
			}
		}
		for _, d := range got {
			tok := strings.Split(d.reply, ".")
			dc, _ := strconv.Atoi(tok[4])
			sseq, _ := strconv.ParseUint(tok[5], 10, 64)
			cseq, _ := strconv.ParseUint(tok[6], 10, 64)
			events = append(events, Event{Kind: EventDelivered, Stream: sseq, Consumer: cseq, Deliveries: dc})
		}
		return got
	}
	ack := func(d delivery, body string, kind EventKind) {
		c.Ack(d.reply, "", []byte(body))
		if kind != 0 {
			sseq, _ := AckSeqs(d.reply)
			events = append(events, Event{Kind: kind, Stream: sseq})
		}
	}

	c.Pull("r1", jsapi.NextRequest{Batch: 4})
	got := delivered(4)
	ack(got[1], "+ACK", EventAcked)
	ack(got[0], "-NAK", 0) // no event: it only makes 1 due again
	c.Pull("r2", jsapi.NextRequest{Batch: 2})
	got2 := delivered(2) // 1 again, then 5
	if !strings.HasPrefix(got2[0].reply, "$JS.ACK.S.ev.2.1.1.") {
		t.Fatalf("redelivery %+v", got2[0])
	}
	ack(got[2], "+TERM", EventTerminated)
	ack(got2[0], "", EventAcked)
	ack(got2[1], "+ACK", EventAcked)

	for _, ev := range events {
		replay.apply(ev, jsapi.AckExplicit, nil)
	}
	live, want := c.State(), replay.state()
	if !reflect.DeepEqual(live, want) {
		t.Fatalf("live consumer state %+v\nreplayed events give %+v\nevents %+v", live, want, events)
	}
	if live.FloorS != 3 || len(live.Pending) != 1 || live.Pending[0].Stream != 4 {
		t.Fatalf("state %+v, want floor 3 and message 4 pending", live)
	}
}
