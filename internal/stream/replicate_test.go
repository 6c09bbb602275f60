package stream

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/filestore"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// pipeStep is one step of a leader's pipeline: "pub" proposes (queueing
// the entry), "apply" applies the oldest queued entry on the leader and
// the follower, "reset" calls ResetProposals, "drop" loses the queued
// entries (never committed), "foreign" applies an entry another leader
// proposed on a fresh stream. A refusal that rests on proposals in
// flight reads ", resting on" the last of them.
type pipeStep struct {
	op   string
	subj string
	hdr  []string
	want string
}

func TestProposePipeline(t *testing.T) {
	pub := func(subj, want string, hdr ...string) pipeStep {
		return pipeStep{op: "pub", subj: subj, hdr: hdr, want: want}
	}
	apply := func(want string) pipeStep { return pipeStep{op: "apply", want: want} }
	const (
		id     = "Nats-Msg-Id"
		lastSq = "Nats-Expected-Last-Sequence"
		subjSq = "Nats-Expected-Last-Subject-Sequence"
		subjOf = "Nats-Expected-Last-Subject-Sequence-Subject"
		lastID = "Nats-Expected-Last-Msg-Id"
	)
	cases := []struct {
		name  string
		cfg   func(*jsapi.StreamConfig)
		steps []pipeStep
	}{
		{"consecutive sequences", nil, []pipeStep{
			pub("S.a", "seq 1"), pub("S.b", "seq 2"), pub("S.a", "seq 3"),
			apply("seq 1"), pub("S.c", "seq 4"),
			apply("seq 2"), apply("seq 3"), apply("seq 4"), pub("S.c", "seq 5"),
		}},
		{"message ids inside the pipeline", nil, []pipeStep{
			pub("S.a", "seq 1", id, "m1"), pub("S.b", "dup 1", id, "m1"), pub("S.a", "seq 2", id, "m2"),
			apply("seq 1"), pub("S.a", "dup 1", id, "m1"), pub("S.a", "dup 2", id, "m2"),
			apply("seq 2"), pub("S.a", "dup 2", id, "m2"), pub("S.a", "seq 3", id, "m3"),
		}},
		{"expected last sequence", nil, []pipeStep{
			pub("S.a", "seq 1"), pub("S.a", "seq 2", lastSq, "1"),
			pub("S.a", "err wrong last sequence: 2, resting on 2", lastSq, "1"),
			apply("seq 1"), pub("S.a", "err wrong last sequence: 2, resting on 2", lastSq, "1"),
			apply("seq 2"), pub("S.a", "err wrong last sequence: 2", lastSq, "1"),
			pub("S.a", "seq 3", lastSq, "2"),
		}},
		{"expected last subject sequence", nil, []pipeStep{
			pub("S.a", "seq 1"), apply("seq 1"), pub("S.b", "seq 2"),
			pub("S.a", "seq 3", subjSq, "1"), pub("S.a", "err wrong last sequence: 3, resting on 3", subjSq, "1"),
			pub("S.b", "err wrong last sequence: 2, resting on 2", subjSq, "7"),
			pub("S.c", "seq 4", subjSq, "2", subjOf, "S.b"), pub("S.d", "seq 5", subjSq, "0"),
			apply("seq 2"), apply("seq 3"), pub("S.a", "seq 6", subjSq, "3"),
		}},
		{"pending roll-up of the stream", func(c *jsapi.StreamConfig) { c.AllowRollup = true }, []pipeStep{
			pub("S.a", "seq 1"), apply("seq 1"), pub("S.b", "seq 2", "Nats-Rollup", "all"),
			pub("S.a", "err wrong last sequence: 0, resting on 2", subjSq, "1"), pub("S.a", "seq 3", subjSq, "0"),
			pub("S.b", "seq 4", subjSq, "2"), apply("seq 2"), apply("seq 3"), apply("seq 4"),
			pub("S.a", "seq 5", subjSq, "3"),
		}},
		{"expected last message id", nil, []pipeStep{
			pub("S.a", "seq 1", id, "m1"), pub("S.a", "seq 2", id, "m2", lastID, "m1"),
			pub("S.a", "err wrong last msg ID: m2, resting on 2", lastID, "m1"), pub("S.a", "seq 3", lastID, "m2"),
			pub("S.a", "err wrong last msg ID: , resting on 3", lastID, "m2"),
			apply("seq 1"), apply("seq 2"), apply("seq 3"), pub("S.a", "err wrong last msg ID: ", lastID, "m2"),
		}},
		// A refusal that rests on a proposal in flight is not final: once
		// that proposal is dropped, the same message is decided again on
		// what is applied, and passes; one on applied state alone is final.
		{"a refusal resting on a dropped proposal", nil, []pipeStep{
			pub("S.a", "seq 1"), apply("seq 1"), pub("S.a", "seq 2"), pub("S.b", "seq 3"),
			pub("S.a", "err wrong last sequence: 2, resting on 2", subjSq, "1"),
			pub("S.b", "err wrong last sequence: 0", subjSq, "5", subjOf, "S.c"),
			pub("S.a", "err wrong last sequence: 3, resting on 3", lastSq, "1"),
			{op: "reset"}, {op: "drop"},
			pub("S.a", "seq 2", subjSq, "1"), apply("seq 2"),
			pub("S.a", "err wrong last sequence: 2", subjSq, "1"),
		}},
		{"discard new counts proposals", func(c *jsapi.StreamConfig) { c.Discard, c.MaxMsgs = jsapi.DiscardNew, 2 }, []pipeStep{
			pub("S.a", "seq 1"), pub("S.a", "seq 2"),
			pub("S.a", "err maximum messages exceeded"), apply("seq 1"),
			pub("S.a", "err maximum messages exceeded"), apply("seq 2"),
			pub("S.a", "err maximum messages exceeded"),
		}},
		{"discard new per subject counts proposals", func(c *jsapi.StreamConfig) {
			c.Discard, c.MaxMsgsPer, c.DiscardNewPer = jsapi.DiscardNew, 1, true
		}, []pipeStep{
			pub("S.a", "seq 1"), pub("S.a", "err maximum messages per subject exceeded"), pub("S.b", "seq 2"),
		}},
		{"reset forgets the proposals", nil, []pipeStep{
			pub("S.a", "seq 1", id, "m1"), pub("S.a", "seq 2"), {op: "reset"}, {op: "drop"},
			pub("S.a", "seq 1", id, "m1"), pub("S.a", "seq 2", lastSq, "1"), apply("seq 1"), apply("seq 2"),
		}},
		{"a reset leader's entries still apply", nil, []pipeStep{
			pub("S.a", "seq 1", id, "m1"), {op: "reset"}, apply("seq 1"),
			pub("S.a", "dup 1", id, "m1"), pub("S.a", "seq 2", id, "m2"),
		}},
		{"another leader's entry voids the tail", nil, []pipeStep{
			pub("S.a", "seq 1", id, "m1"), pub("S.a", "seq 2", id, "m2"),
			{op: "foreign", subj: "S.x", hdr: []string{id, "x"}, want: "seq 1"},
			pub("S.a", "seq 2", id, "m1"), pub("S.a", "dup 1", id, "x"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig("S")
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			leader, _, _ := newTestStream(t, cfg)
			follower, _ := replica(t, cfg, store.NewMemory())
			var queue [][]byte
			applyAll := func(b []byte) string {
				seq, err := leader.ApplyEntry(b)
				fseq, ferr := follower.ApplyEntry(b)
				if seq != fseq || fmt.Sprint(err) != fmt.Sprint(ferr) {
					t.Fatalf("leader applied %d %v, follower %d %v", seq, err, fseq, ferr)
				}
				if err != nil {
					return "error " + err.Error()
				}
				return fmt.Sprintf("seq %d", seq)
			}
			for i, st := range c.steps {
				var got string
				switch st.op {
				case "pub":
					b, a := leader.Propose(st.subj, hdr(st.hdr...), []byte("x"))
					got = wordAnswer(t, b, a)
					if a != nil && a.InFlight > 0 {
						got += fmt.Sprintf(", resting on %d", a.InFlight)
					}
					if b != nil {
						queue = append(queue, b)
					}
				case "apply":
					got = applyAll(queue[0])
					queue = queue[1:]
				case "reset":
					leader.ResetProposals()
				case "drop":
					queue = nil
				case "foreign":
					other, _, _ := newTestStream(t, cfg)
					b, a := other.Propose(st.subj, hdr(st.hdr...), nil)
					if a != nil {
						t.Fatalf("step %d: foreign proposal answered %+v", i, a)
					}
					got = applyAll(b)
				}
				if got != st.want {
					t.Fatalf("step %d (%s %s %q): got %q, want %q", i, st.op, st.subj, st.hdr, got, st.want)
				}
			}
			for _, b := range queue {
				applyAll(b)
			}
			if a, b := dumpState(leader), dumpState(follower); a != b {
				t.Fatalf("replicas differ:\nleader\n%s\nfollower\n%s", a, b)
			}
		})
	}
}

// wordAnswer words Propose's result: the entry's sequence, a duplicate,
// or an error.
func wordAnswer(t *testing.T, b []byte, a *Answer) string {
	t.Helper()
	switch {
	case a != nil && a.Err != nil:
		return "err " + a.Err.Description
	case a != nil && a.Duplicate:
		return fmt.Sprintf("dup %d", a.Seq)
	case a != nil:
		return fmt.Sprintf("answer %+v", a)
	}
	e, err := DecodeEntry(b)
	if err != nil {
		t.Fatalf("proposed entry does not decode: %v", err)
	}
	return fmt.Sprintf("seq %d", e.Seq)
}

// TestApplyEntryReplay restarts a replica, which then sees committed
// entries again from its Raft log: those it applied change nothing.
func TestApplyEntryReplay(t *testing.T) {
	cfg := baseConfig("S")
	leader, _, clk := newTestStream(t, cfg)
	var entries [][]byte
	for i := range 4 {
		clk.add(time.Second)
		b, a := leader.Propose(fmt.Sprintf("S.%d", i%2), hdr("Nats-Msg-Id", fmt.Sprint(i)), []byte("x"))
		if a != nil {
			t.Fatalf("proposal %d answered %+v", i, a)
		}
		entries = append(entries, b)
	}
	fsys := vfs.NewMem()
	open := func() *Stream {
		st, err := filestore.Open(fsys, "/s", filestore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := replica(t, cfg, st)
		return s
	}
	r := open()
	for i, b := range entries[:3] {
		if seq, err := r.ApplyEntry(b); err != nil || seq != uint64(i+1) {
			t.Fatalf("entry %d: seq %d, err %v", i+1, seq, err)
		}
	}
	before := dumpState(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = open()
	if got := dumpState(r); got != before {
		t.Fatalf("restart changed the state:\n%s\nwas\n%s", got, before)
	}
	for i, b := range entries[:3] {
		if seq, err := r.ApplyEntry(b); !errors.Is(err, ErrApplied) || seq != uint64(i+1) {
			t.Fatalf("replayed entry %d: seq %d, err %v", i+1, seq, err)
		}
	}
	if got := dumpState(r); got != before {
		t.Fatalf("replay changed the state:\n%s\nwas\n%s", got, before)
	}
	if seq, err := r.ApplyEntry(entries[3]); err != nil || seq != 4 {
		t.Fatalf("entry 4: seq %d, err %v", seq, err)
	}
	for _, b := range entries {
		if _, err := leader.ApplyEntry(b); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := dumpState(leader), dumpState(r); a != b {
		t.Fatalf("replicas differ:\nleader\n%s\nreplica\n%s", a, b)
	}
}

func TestApplyEntryGapAndErrors(t *testing.T) {
	s, _ := replica(t, baseConfig("S"), store.NewMemory())
	ts := t0.UnixNano()
	for _, c := range []struct {
		e    Entry
		want string
	}{
		{Entry{Kind: EntryMsg, Seq: 1, Time: ts, Subject: "S.a"}, "seq 1 <nil>"},
		{Entry{Kind: EntryMsg, Seq: 4, Time: ts, Subject: "S.a"}, "seq 4 <nil>"},
		{Entry{Kind: EntrySkip, Seq: 6, Time: ts, Subject: "S.a", MsgID: "k"}, "seq 6 <nil>"},
		{Entry{Kind: EntryMsg, Seq: 5, Time: ts, Subject: "S.a"}, "seq 5 stream: entry already applied: 5, last 6"},
	} {
		seq, err := s.ApplyEntry(EncodeEntry(&c.e))
		if got := fmt.Sprintf("seq %d %v", seq, err); got != c.want {
			t.Fatalf("entry %+v: %s, want %s", c.e, got, c.want)
		}
	}
	want := "first=1 last=6 msgs=2 deleted=2-3,5-6\nsubjects S.a=2\ndedup k=6 last_id=k\n1 S.a ts=0s\n4 S.a ts=0s"
	if got := dumpState(s); got != want {
		t.Fatalf("state:\n%s\nwant\n%s", got, want)
	}
	if _, err := s.ApplyEntry([]byte{9}); !errors.Is(err, ErrBadEntry) {
		t.Fatalf("bad bytes: %v", err)
	}
	s.Close()
	if _, err := s.ApplyEntry(EncodeEntry(&Entry{Seq: 7})); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
	if _, a := s.Propose("S.a", nil, nil); a == nil || !a.Err.IsID(jsapi.ErrClusterNotAvail) {
		t.Fatalf("closed proposal: %+v", a)
	}
}

func TestProposeBound(t *testing.T) {
	s, _, _ := newTestStream(t, baseConfig("S"))
	for i := range maxProposals {
		if _, a := s.Propose("S.a", nil, nil); a != nil {
			t.Fatalf("proposal %d answered %+v", i, a)
		}
	}
	if _, a := s.Propose("S.a", nil, nil); a == nil || !a.Err.IsID(jsapi.ErrClusterNotAvail) {
		t.Fatalf("proposal past the bound: %+v", a)
	}
	s.ResetProposals()
	if b, a := s.Propose("S.a", nil, nil); a != nil || wordAnswer(t, b, a) != "seq 1" {
		t.Fatalf("after reset: %+v", a)
	}
}

func TestRespond(t *testing.T) {
	s, rec, _ := newTestStream(t, baseConfig("S"))
	s.Respond("r1", &Answer{Seq: 3})
	s.Respond("r2", &Answer{Seq: 2, Duplicate: true})
	s.Respond("r3", &Answer{Err: jsapi.NewError(jsapi.ErrStreamWrongLastSequence, 4)})
	s.Respond("", &Answer{Seq: 1})
	// Answers go out through the ack queue, on its goroutine.
	waitFor(t, "three replies", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.msgs) == 3
	})
	for reply, want := range map[string]string{
		"r1": `{"stream":"S","seq":3}`,
		"r2": `{"stream":"S","seq":2,"duplicate": true}`,
		"r3": `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"},"stream":"S","seq":0}`,
	} {
		if got := rec.last(reply); got != want {
			t.Errorf("%s: %s, want %s", reply, got, want)
		}
	}
	if n := len(rec.msgs); n != 3 {
		t.Errorf("%d replies sent, want 3", n)
	}
	s.Respond("r4", nil)
	if n := len(rec.msgs); n != 3 {
		t.Errorf("%d replies sent, want 3 (nothing for no answer)", n)
	}
}

// BenchmarkProposeApply measures a replicated publish's stream side on
// the leader: proposing (checks, the tail, encoding) a window of 64
// publishes with message IDs, then applying them.
func BenchmarkProposeApply(b *testing.B) {
	s, err := New(baseConfig("B"), Options{Store: store.NewMemory(), Out: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := make([]byte, 128)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	window := make([][]byte, 0, 64)
	for i := 0; i < b.N; i++ {
		e, a := s.Propose("B.x", hdr("Nats-Msg-Id", strconv.Itoa(i)), data)
		if a != nil {
			b.Fatalf("answered %+v", a)
		}
		if window = append(window, e); len(window) == cap(window) || i == b.N-1 {
			for _, e := range window {
				if _, err := s.ApplyEntry(e); err != nil {
					b.Fatal(err)
				}
			}
			window = window[:0]
		}
	}
}

// A guarded entry is applied only on the last sequence it names; on any
// other it changes nothing, on every replica alike.
func TestApplyGuarded(t *testing.T) {
	s, _, _ := newTestStream(t, baseConfig("S"))
	apply := func(seq, after uint64) error {
		_, err := s.ApplyEntry(EncodeEntry(&Entry{Kind: EntryMsg, Seq: seq, Subject: "S.a", Data: []byte("x"), Guarded: true, After: after}))
		return err
	}
	for _, tc := range []struct {
		seq, after uint64
		want       error
		last       uint64
	}{
		{3, 0, nil, 3},        // an empty stream: last 0
		{5, 4, ErrGuard, 3},   // a copy before it never made it
		{5, 3, nil, 5},        // the gap 4 is the origin's
		{5, 3, ErrApplied, 5}, // proposed twice
		{9, 3, ErrGuard, 5},
		{6, 5, nil, 6},
	} {
		if err := apply(tc.seq, tc.after); !errors.Is(err, tc.want) {
			t.Fatalf("seq %d after %d: %v, want %v", tc.seq, tc.after, err, tc.want)
		}
		if st := s.Info(false, "").State; st.LastSeq != tc.last {
			t.Fatalf("seq %d after %d: last %d, want %d", tc.seq, tc.after, st.LastSeq, tc.last)
		}
	}
	if st := s.Info(false, "").State; st.Msgs != 3 {
		t.Fatalf("%d messages, want 3", st.Msgs)
	}
}

// TestProposeChained: a chained proposal is applied only after the one
// proposed just before it, so a chain whose link was lost in flight keeps
// only the prefix before the loss; a plain publish between two links
// would break the chain too, which is why PublishChain lets none in.
func TestProposeChained(t *testing.T) {
	leader, _, _ := newTestStream(t, baseConfig("S"))
	first, a1 := leader.Propose("S.a", nil, []byte("1"))
	second, a2 := leader.ProposeChained("S.a", nil, []byte("2"))
	third, a3 := leader.ProposeChained("S.a", nil, []byte("3"))
	if a1 != nil || a2 != nil || a3 != nil {
		t.Fatalf("answers %v %v %v", a1, a2, a3)
	}
	whole, _, _ := newTestStream(t, baseConfig("S"))
	cut, _, _ := newTestStream(t, baseConfig("S"))
	for _, e := range [][]byte{first, second, third} {
		if _, err := whole.ApplyEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cut.ApplyEntry(first); err != nil {
		t.Fatal(err)
	}
	// The second link never made it: the third must not be stored.
	if _, err := cut.ApplyEntry(third); !errors.Is(err, ErrGuard) {
		t.Fatalf("third link without the second: %v, want ErrGuard", err)
	}
	for name, tc := range map[string]struct {
		s    *Stream
		msgs uint64
	}{"whole": {whole, 3}, "cut": {cut, 1}} {
		if st := tc.s.Info(false, "").State; st.Msgs != tc.msgs || st.LastSeq != tc.msgs {
			t.Errorf("%s chain: %d messages, last %d; want %d, %d", name, st.Msgs, st.LastSeq, tc.msgs, tc.msgs)
		}
	}
}

// TestProposalsSettled: after a reset, the stream is unsettled until its
// applied state passes every sequence proposed before the reset.
func TestProposalsSettled(t *testing.T) {
	s, _, _ := newTestStream(t, baseConfig("S"))
	if !s.ProposalsSettled() {
		t.Fatal("a new stream is not settled")
	}
	var entries [][]byte
	for i := range 3 {
		e, a := s.Propose("S.a", nil, []byte(fmt.Sprint(i)))
		if a != nil {
			t.Fatal(a)
		}
		entries = append(entries, e)
	}
	s.ResetProposals() // the second was dropped, say
	for i, step := range []struct {
		apply   int
		settled bool
	}{{-1, false}, {0, false}, {2, true}} {
		if step.apply >= 0 {
			if _, err := s.ApplyEntry(entries[step.apply]); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.ProposalsSettled(); got != step.settled {
			t.Fatalf("step %d: settled %v, want %v", i, got, step.settled)
		}
	}
}
