package stream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/filestore"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// lockedClock is a settable clock safe to read from the stream's timer
// goroutine while the test moves it.
type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lockedClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// opsRig runs the same operations on a single server and on a replicated
// stream (a leader and two followers fed the leader's entries), and
// checks that every answer and the final states agree. Publishes and
// removals are pipelined on the leader (queued, applied later); an
// update and each clock step apply what is queued first, because the
// leader decides expiry from what it has applied and checks publishes
// against the configuration in force.
type opsRig struct {
	t         *testing.T
	clk       *lockedClock
	single    *Stream
	leader    *Stream
	followers []*Stream
	queue     []queued
	log       [][]byte // every entry applied, in order
}

// queued is an entry in flight and the single server's answer to it.
type queued struct {
	b    []byte
	what string
	want string
}

func newOpsRig(t *testing.T, cfg jsapi.StreamConfig) *opsRig {
	t.Helper()
	r := &opsRig{t: t, clk: &lockedClock{t: t0}}
	open := func(replicated bool, now func() time.Time) *Stream {
		s, err := New(cfg, Options{Store: store.NewMemory(), Out: discard{}, Created: t0, Now: now, Replicated: replicated})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	r.single = open(false, r.clk.now)
	r.leader = open(true, r.clk.now)
	r.leader.SetLeader(true) // no Expired hook: the test proposes expiry itself
	for range 2 {
		// A follower must never read a clock.
		armed := &atomic.Bool{}
		f := open(true, func() time.Time {
			if armed.Load() {
				panic("a follower read the clock")
			}
			return t0
		})
		armed.Store(true)
		t.Cleanup(func() { armed.Store(false) })
		r.followers = append(r.followers, f)
	}
	return r
}

func (r *opsRig) replicas() []*Stream { return append([]*Stream{r.leader}, r.followers...) }

func (r *opsRig) pub(subj string, h, data []byte) error {
	r.single.mu.Lock()
	res := r.single.storeLocked(subj, h, data)
	r.single.mu.Unlock()
	b, a := r.leader.Propose(subj, h, data)
	want := wordResult(res)
	if got := wordAnswer(r.t, b, a); got != want {
		return fmt.Errorf("publish on %s %q: leader %q, single server %q", subj, h, got, want)
	}
	if b != nil {
		r.queue = append(r.queue, queued{b: b, what: "publish on " + subj, want: want})
	}
	return nil
}

func (r *opsRig) del(seq uint64, erase bool) error {
	ok, err := r.single.DeleteMsg(seq, erase)
	want := "removed 1"
	switch {
	case err != nil:
		want = "error " + err.Error()
	case !ok:
		want = "error " + jsapi.NewError(jsapi.ErrSequenceNotFound, seq).Error()
	}
	b, aerr := r.leader.ProposeDelete(seq, erase)
	return r.op(fmt.Sprintf("delete %d", seq), b, aerr, want)
}

func (r *opsRig) purge(req store.PurgeRequest) error {
	n, err := r.single.Purge(req)
	want := fmt.Sprintf("removed %d", n)
	if err != nil {
		want = "error " + err.Error()
	}
	b, aerr := r.leader.ProposePurge(req)
	return r.op(fmt.Sprintf("purge %+v", req), b, aerr, want)
}

// op queues a decided entry, or compares an error decided at once.
func (r *opsRig) op(what string, b []byte, aerr *jsapi.ApiError, want string) error {
	if aerr != nil {
		if got := "error " + aerr.Error(); got != want {
			return fmt.Errorf("%s: leader %q, single server %q", what, got, want)
		}
		return nil
	}
	r.queue = append(r.queue, queued{b: b, what: what, want: want})
	return nil
}

func (r *opsRig) update(set func(*jsapi.StreamConfig)) error {
	cfg := r.single.Config()
	set(&cfg)
	if err := r.single.Update(cfg); err != nil {
		return err
	}
	if err := r.applyAll(); err != nil {
		return err
	}
	b, aerr := r.leader.ProposeUpdate(cfg)
	if aerr != nil {
		return aerr
	}
	if err := r.applyToAll(b, "update", "removed 0"); err != nil {
		return err
	}
	return r.expire() // a lowered max_age expires at once on a single server
}

// tick moves the clock and expires what is due.
func (r *opsRig) tick(d time.Duration) error {
	if err := r.applyAll(); err != nil {
		return err
	}
	r.clk.add(d)
	return r.expire()
}

func (r *opsRig) expire() error {
	r.single.onTimer()
	b := r.leader.ProposeExpired()
	if b == nil {
		return nil
	}
	return r.applyToAll(b, "expire", "")
}

func (r *opsRig) applyAll() error {
	for len(r.queue) > 0 {
		q := r.queue[0]
		r.queue = r.queue[1:]
		if err := r.applyToAll(q.b, q.what, q.want); err != nil {
			return err
		}
	}
	return nil
}

// applyToAll applies b on every replica; each must answer alike, and as
// want (the single server's answer) unless want is empty.
func (r *opsRig) applyToAll(b []byte, what, want string) error {
	e, err := DecodeEntry(b)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	r.log = append(r.log, b)
	var first string
	for i, s := range r.replicas() {
		n, err := s.ApplyEntry(b)
		got := ""
		switch {
		case err != nil:
			got = "error " + err.Error()
		case e.Kind <= EntrySkip:
			got = fmt.Sprintf("seq %d", n)
		default:
			got = fmt.Sprintf("removed %d", n)
		}
		if i == 0 {
			first = got
		} else if got != first {
			return fmt.Errorf("%s: replica %d answered %q, the leader %q", what, i, got, first)
		}
	}
	if want != "" && first != want {
		return fmt.Errorf("%s: replicas answered %q, single server %q", what, first, want)
	}
	return nil
}

// check applies what is in flight and compares every replica's state
// with the single server's.
func (r *opsRig) check() (string, error) {
	if err := r.applyAll(); err != nil {
		return "", err
	}
	want := replicatedState(r.single)
	for i, s := range r.replicas() {
		if got := replicatedState(s); got != want {
			return "", fmt.Errorf("replica %d differs from the single server:\n%s\nsingle server:\n%s", i, got, want)
		}
	}
	return want, nil
}

// replicatedState is dumpState without the expiry heap (a replica keeps
// entries of removed messages until it prunes them; what the heap holds
// of stored messages shows in their ttl) and with the configuration.
func replicatedState(s *Stream) string {
	var lines []string
	for _, l := range strings.Split(dumpState(s), "\n") {
		if !strings.HasPrefix(l, "ttls ") {
			lines = append(lines, l)
		}
	}
	cfg := s.Config()
	lines = append(lines, fmt.Sprintf("config max_msgs=%d max_msgs_per=%d max_age=%s", cfg.MaxMsgs, cfg.MaxMsgsPer, cfg.MaxAge))
	return strings.Join(lines, "\n")
}

// TestReplicatedOps runs scripted removals and updates. Steps:
// "pub SUBJ [ttl=D] [id=ID]", "del SEQ [erase]", "purge [SUBJ] [keep=N]
// [seq=N]", "tick D" (clock and expiry), "apply" (what is in flight),
// "set max_msgs=N | max_age=D | max_msgs_per=N". want is the first line
// of the final state.
func TestReplicatedOps(t *testing.T) {
	cases := []struct {
		name  string
		cfg   func(*jsapi.StreamConfig)
		steps string
		want  string
	}{
		{"deletes", nil,
			"pub S.a; pub S.b; pub S.a; del 2; del 2; del 9; apply; del 3 erase; del 2; pub S.c",
			"first=1 last=4 msgs=2 deleted=2-3"},
		{"deletes in flight with publishes", nil,
			"pub S.a; pub S.b; del 2; pub S.c; del 3; del 4",
			"first=1 last=3 msgs=1 deleted=2-3"},
		{"purge everything", nil,
			"pub S.a; pub S.b; apply; pub S.a; purge; pub S.b",
			"first=4 last=4 msgs=1"},
		{"filtered purge", nil,
			"pub S.a; pub S.b; pub S.a; purge S.a; pub S.a; apply; pub S.b",
			"first=2 last=5 msgs=3 deleted=3"},
		{"purge keeping some", nil,
			"pub S.a; pub S.b; pub S.a; pub S.a; purge S.a keep=1; pub S.a; purge keep=2; pub S.b",
			"first=4 last=6 msgs=3"},
		{"purge up to a sequence", nil,
			"pub S.a; pub S.b; pub S.a; purge seq=3; pub S.a; purge S.a seq=5; pub S.b; purge seq=9; pub S.c; apply; purge seq=20; apply; pub S.d",
			"first=20 last=20 msgs=1"},
		{"expiry by age", func(c *jsapi.StreamConfig) { c.MaxAge = time.Minute }, "pub S.a; tick 30s; pub S.b; pub S.a; tick 31s; pub S.c; tick 59s",
			"first=4 last=4 msgs=1"},
		{"expiry by ttl", func(c *jsapi.StreamConfig) { c.AllowMsgTTL = true }, "pub S.a ttl=10s; pub S.b; pub S.c ttl=1m; tick 11s; pub S.a ttl=5s; tick 50s",
			"first=2 last=4 msgs=1 deleted=3-4"},
		{"ttl and age together", func(c *jsapi.StreamConfig) { c.AllowMsgTTL, c.MaxAge = true, time.Minute },
			"pub S.a; pub S.b ttl=5s; tick 6s; pub S.c ttl=1m; pub S.d; tick 1m; tick 10s",
			"first=5 last=4 msgs=0"},
		{"delete markers", func(c *jsapi.StreamConfig) {
			c.AllowMsgTTL, c.MaxAge, c.SubjectDeleteMarkerTTL = true, time.Minute, 30*time.Second
		}, "pub S.a; pub S.b ttl=5s; pub S.c ttl=5s; pub S.a; pub S.d; tick 6s; pub S.c; pub S.e; apply; tick 1m; pub S.f",
			"first=8 last=13 msgs=6"},
		{"lowering max_msgs", nil,
			"pub S.a; pub S.b; pub S.c; pub S.d; set max_msgs=2; pub S.e; set max_msgs=-1; pub S.f",
			"first=4 last=6 msgs=3"},
		{"lowering max_msgs_per and max_age", nil,
			"pub S.a; pub S.a; pub S.a; pub S.b; set max_msgs_per=1; tick 10s; pub S.b; set max_age=5s; pub S.c",
			"first=5 last=6 msgs=2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig("S")
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			r := newOpsRig(t, cfg)
			for i, step := range strings.Split(c.steps, ";") {
				if err := r.step(strings.Fields(step)); err != nil {
					t.Fatalf("step %d %q: %v", i, step, err)
				}
			}
			got, err := r.check()
			if err != nil {
				t.Fatal(err)
			}
			if first, _, _ := strings.Cut(got, "\n"); first != c.want {
				t.Fatalf("state %q, want %q\n%s", first, c.want, got)
			}
			restartAndReplay(t, cfg, r.log, got)
		})
	}
}

func (r *opsRig) step(f []string) error {
	args := map[string]string{}
	var plain []string
	for _, a := range f[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			args[k] = v
		} else {
			plain = append(plain, a)
		}
	}
	num := func(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }
	dur := func(s string) time.Duration { d, _ := time.ParseDuration(s); return d }
	switch f[0] {
	case "pub":
		var kv []string
		if v, ok := args["ttl"]; ok {
			kv = append(kv, "Nats-TTL", v)
		}
		if v, ok := args["id"]; ok {
			kv = append(kv, "Nats-Msg-Id", v)
		}
		var h []byte
		if len(kv) > 0 {
			h = hdr(kv...)
		}
		return r.pub(plain[0], h, []byte("x"))
	case "del":
		return r.del(num(plain[0]), len(plain) > 1 && plain[1] == "erase")
	case "purge":
		req := store.PurgeRequest{Keep: num(args["keep"]), Seq: num(args["seq"])}
		if len(plain) > 0 {
			req.Subject = plain[0]
		}
		return r.purge(req)
	case "tick":
		return r.tick(dur(plain[0]))
	case "apply":
		return r.applyAll()
	case "set":
		return r.update(func(c *jsapi.StreamConfig) {
			for k, v := range args {
				switch k {
				case "max_msgs":
					c.MaxMsgs, _ = strconv.ParseInt(v, 10, 64)
				case "max_msgs_per":
					c.MaxMsgsPer, _ = strconv.ParseInt(v, 10, 64)
				case "max_age":
					c.MaxAge = dur(v)
				}
			}
		})
	}
	return errors.New("unknown step")
}

// TestReplicatedExpiryTimer: a replicated stream's timer removes
// nothing; the leader's reports what is due through Options.Expired.
func TestReplicatedExpiryTimer(t *testing.T) {
	cfg := baseConfig("S")
	cfg.AllowMsgTTL = true
	clk := &lockedClock{t: t0}
	reports := make(chan []byte, 16)
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: discard{}, Now: clk.now, Replicated: true,
		Expired: func(b []byte) {
			select {
			case reports <- b:
			default: // the test reads one; later reports may be dropped
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, h := range [][]byte{hdr("Nats-TTL", "1s"), nil} {
		b, a := s.Propose("S.a", h, nil)
		if a != nil {
			t.Fatalf("answered %+v", a)
		}
		if _, err := s.ApplyEntry(b); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(2 * time.Second)
	s.onTimer() // a follower's timer: nothing removed, nothing reported
	if st := s.Store().State(); st.Msgs != 2 || len(reports) != 0 {
		t.Fatalf("follower's timer: %+v, %d reports", st, len(reports))
	}
	s.SetLeader(true)
	var b []byte
	select {
	case b = <-reports:
	case <-time.After(10 * time.Second):
		t.Fatal("the leader's timer reported nothing")
	}
	if st := s.Store().State(); st.Msgs != 2 {
		t.Fatalf("the leader's timer removed messages: %+v", st)
	}
	e, err := DecodeEntry(b)
	if err != nil || e.Kind != EntryExpire || fmt.Sprint(e.Seqs) != "[1]" || e.Target != 0 || e.Seq != 2 {
		t.Fatalf("reported %+v, %v", e, err)
	}
	if n, err := s.ApplyEntry(b); n != 1 || err != nil {
		t.Fatalf("applied: %d %v", n, err)
	}
	if n, err := s.ApplyEntry(b); n != 0 || err != nil {
		t.Fatalf("applied again: %d %v", n, err)
	}
	if st := s.Store().State(); st.Msgs != 1 || st.FirstSeq != 2 {
		t.Fatalf("after the entry: %+v", st)
	}
	if b := s.ProposeExpired(); b != nil {
		t.Fatalf("nothing is due, yet %q", b)
	}
}

func TestProposeOpRefusals(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(*jsapi.StreamConfig)
		op   func(*Stream) *jsapi.ApiError
		want string
	}{
		{"sealed delete", func(c *jsapi.StreamConfig) { c.Sealed = true },
			func(s *Stream) *jsapi.ApiError { _, e := s.ProposeDelete(1, false); return e }, "invalid operation on sealed stream"},
		{"sealed purge", func(c *jsapi.StreamConfig) { c.Sealed = true },
			func(s *Stream) *jsapi.ApiError { _, e := s.ProposePurge(store.PurgeRequest{}); return e }, "invalid operation on sealed stream"},
		{"deny delete", func(c *jsapi.StreamConfig) { c.DenyDelete = true },
			func(s *Stream) *jsapi.ApiError { _, e := s.ProposeDelete(1, false); return e }, "message delete not permitted"},
		{"deny purge", func(c *jsapi.StreamConfig) { c.DenyPurge = true },
			func(s *Stream) *jsapi.ApiError { _, e := s.ProposePurge(store.PurgeRequest{}); return e }, "stream purge not permitted"},
		{"keep and sequence", nil,
			func(s *Stream) *jsapi.ApiError { _, e := s.ProposePurge(store.PurgeRequest{Seq: 2, Keep: 1}); return e }, "bad request"},
		{"sequence 0", nil,
			func(s *Stream) *jsapi.ApiError { _, e := s.ProposeDelete(0, false); return e }, "sequence 0 not found"},
		{"closed", nil,
			func(s *Stream) *jsapi.ApiError { s.Close(); _, e := s.ProposeUpdate(s.Config()); return e }, "JetStream system temporarily unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := baseConfig("S")
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			s, _, _ := newTestStream(t, cfg)
			if e := c.op(s); e == nil || e.Description != c.want {
				t.Fatalf("got %v, want %q", e, c.want)
			}
		})
	}
}

// restartAndReplay applies log to a replica on a file store, restarts it
// and replays the whole log, as a replica that restarts without a
// snapshot does: its messages must end as in want. (The de-duplication
// window is rebuilt from stored messages on a restart, so it is left out.)
func restartAndReplay(t *testing.T, cfg jsapi.StreamConfig, log [][]byte, want string) {
	t.Helper()
	fsys := vfs.NewMem()
	open := func() *Stream {
		st, err := filestore.Open(fsys, "/s", filestore.Config{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(cfg, Options{Store: st, Out: discard{}, Created: t0, Now: func() time.Time { return t0 }, Replicated: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	apply := func(s *Stream) {
		for i, b := range log {
			if _, err := s.ApplyEntry(b); err != nil && !errors.Is(err, ErrApplied) && !errors.As(err, new(*jsapi.ApiError)) {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
	}
	s := open()
	apply(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	apply(s)
	if got, want := withoutDedup(replicatedState(s)), withoutDedup(want); got != want {
		t.Fatalf("restarted and replayed:\n%s\nwant\n%s", got, want)
	}
}

func withoutDedup(state string) string {
	var lines []string
	for _, l := range strings.Split(state, "\n") {
		if !strings.HasPrefix(l, "dedup") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
