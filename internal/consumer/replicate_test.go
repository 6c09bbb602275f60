package consumer

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// batchLog stands in for a consumer's Raft group: it keeps what the
// leader proposed, and the test commits it when it chooses.
type batchLog struct {
	mu      sync.Mutex
	batches [][]byte
}

func (l *batchLog) propose(b []byte) {
	l.mu.Lock()
	l.batches = append(l.batches, b)
	l.mu.Unlock()
}

func (l *batchLog) from(i int) [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.batches[i:]...)
}

// newLeader starts a replicated pull consumer over a memory store.
func newLeader(t *testing.T, cfg jsapi.ConsumerConfig, msgs int) (*Consumer, *fakeSource, *fakeOut, *batchLog) {
	t.Helper()
	src := &fakeSource{st: store.NewMemory()}
	for i := range msgs {
		src.add([]string{"a", "b", "c"}[i%3], fmt.Sprint(i+1))
	}
	out := &fakeOut{interest: true}
	cfg, e := Normalize(cfg, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	log := &batchLog{}
	c := New(cfg.Name, cfg, Options{Source: src, Out: out, Replicate: log.propose})
	t.Cleanup(c.Stop)
	return c, src, out, log
}

// settled reports whether the leader has no request waiting and every
// event it decided is in a proposed batch: its state is then what the
// proposed batches give.
func settled(c *Consumer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting) == 0 && len(c.replEvents) == 0 && c.replStart == nil && !c.replFlushing
}

var replSeed = flag.Uint64("consumer.seed", 0, "seed of TestReplicatedConsumerRandom (0: from the clock)")

// TestReplicatedConsumerRandom drives a leader with seeded random
// publishes, pulls, acks, NAKs, +TERMs and AckSyncs, and feeds its
// batches to two replicas: after every batch the replicas agree, and
// once the leader settles all three hold the same State.
func TestReplicatedConsumerRandom(t *testing.T) {
	for _, policy := range []jsapi.AckPolicy{jsapi.AckExplicit, jsapi.AckAll, jsapi.AckNone} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			seed := *replSeed
			if seed == 0 {
				seed = uint64(time.Now().UnixNano())
			}
			t.Logf("seed %d", seed)
			defer func() {
				if t.Failed() {
					t.Logf("replay: go test -run TestReplicatedConsumerRandom -consumer.seed %d", seed)
				}
			}()
			runReplicated(t, seed, policy)
		})
	}
}

func runReplicated(t *testing.T, seed uint64, policy jsapi.AckPolicy) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	cfg := jsapi.ConsumerConfig{Durable: "R", AckPolicy: policy, AckWait: time.Hour, MaxDeliver: 3,
		DeliverPolicy:  []jsapi.DeliverPolicy{jsapi.DeliverAll, jsapi.DeliverLastPerSubject, jsapi.DeliverNew}[rng.IntN(3)],
		FilterSubjects: [][]string{nil, {"a"}, {"a", "c"}}[rng.IntN(3)]}
	if cfg.DeliverPolicy == jsapi.DeliverLastPerSubject && cfg.FilterSubjects == nil {
		cfg.FilterSubjects = []string{"a", "b"} // it needs a filter
	}
	t.Logf("deliver policy %v, filters %v", cfg.DeliverPolicy, cfg.FilterSubjects)
	c, src, out, log := newLeader(t, cfg, 5)
	reps := []*Replica{NewReplica(policy, nil, 0), NewReplica(policy, nil, 0)}
	committed := 0
	var syncs []string
	commit := func() {
		for _, b := range log.from(committed) {
			committed++
			for i, r := range reps {
				if err := r.ApplyReplicated(b); err != nil {
					t.Fatalf("replica %d, batch %d: %v", i, committed, err)
				}
			}
			if err := c.ApplyReplicated(b); err != nil {
				t.Fatalf("leader, batch %d: %v", committed, err)
			}
			if s0, s1 := reps[0].State(), reps[1].State(); !reflect.DeepEqual(s0, s1) {
				t.Fatalf("batch %d: replicas differ:\n%+v\n%+v", committed, s0, s1)
			}
		}
	}
	seen := 0
	var acks []string // ack subjects of deliveries so far
	for step := range 200 {
		switch op := rng.IntN(20); {
		case op < 3:
			for range 1 + rng.IntN(5) {
				src.add([]string{"a", "b", "c"}[rng.IntN(3)], "x")
			}
		case op < 8:
			c.Pull(fmt.Sprintf("r%d", step), jsapi.NextRequest{Batch: 1 + rng.IntN(8), NoWait: true})
		case len(acks) > 0:
			// Mostly recent deliveries, which are likelier still pending.
			subj := acks[max(0, len(acks)-1-rng.IntN(20))]
			if rng.IntN(4) == 0 {
				subj = acks[rng.IntN(len(acks))]
			}
			body := []string{"+ACK", "+ACK", "-NAK", "+TERM", "+WPI"}[rng.IntN(5)]
			reply := ""
			if rng.IntN(4) == 0 {
				reply = fmt.Sprintf("sync%d", step)
				syncs = append(syncs, reply)
			}
			c.Ack(subj, reply, []byte(body))
		}
		eventually(t, "the leader to settle", func() bool { return settled(c) })
		for _, d := range out.all()[seen:] {
			if strings.HasPrefix(d.reply, "$JS.ACK.") {
				acks = append(acks, d.reply)
			}
			seen++
		}
		if rng.IntN(3) == 0 {
			continue // leave batches uncommitted for a while
		}
		commit()
		if l, r := c.State(), reps[0].State(); !reflect.DeepEqual(l, r) {
			t.Fatalf("step %d: leader and replicas differ:\nleader  %+v\nreplica %+v", step, l, r)
		}
	}
	commit()
	// Every AckSync is answered once everything is committed.
	eventually(t, "every AckSync answered", func() bool {
		got := map[string]bool{}
		for _, d := range out.all() {
			got[d.to] = true
		}
		for _, s := range syncs {
			if !got[s] {
				return false
			}
		}
		return true
	})
	kinds := map[EventKind]int{}
	for _, b := range log.from(0) {
		evs, _ := DecodeEvents(b)
		for _, ev := range evs {
			kinds[ev.Kind]++
		}
	}
	st := c.State()
	t.Logf("%d batches; delivered %d, acked %d, terminated %d; %d AckSyncs; %d pending, floor %d", committed,
		kinds[EventDelivered], kinds[EventAcked], kinds[EventTerminated], len(syncs), len(st.Pending), st.FloorS)
	if p, cm := c.Committed(); p != cm || int(cm) != committed {
		t.Fatalf("proposed %d, committed %d, batches %d", p, cm, committed)
	}
}

// TestReplicaReplay: a replayed batch changes nothing, a missing one is
// refused, and a replica restarted from a saved state and batch sequence
// catches up by the log's tail, skipping what its state holds.
func TestReplicaReplay(t *testing.T) {
	c, _, out, log := newLeader(t, jsapi.ConsumerConfig{Durable: "R", AckPolicy: jsapi.AckExplicit, AckWait: time.Hour}, 6)
	c.Pull("r1", jsapi.NextRequest{Batch: 4})
	got := waitFor(t, out, 4)
	c.Ack(got[1].reply, "", []byte("+ACK"))
	c.Ack(got[2].reply, "", []byte("+TERM"))
	c.Pull("r2", jsapi.NextRequest{Batch: 2})
	waitFor(t, out, 6)
	eventually(t, "the leader to settle", func() bool { return settled(c) })
	all := log.from(0)
	if len(all) < 3 {
		t.Fatalf("%d batches", len(all))
	}

	r := NewReplica(jsapi.AckExplicit, nil, 0)
	mid := len(all) / 2
	for _, b := range all[:mid] {
		if err := r.ApplyReplicated(b); err != nil {
			t.Fatal(err)
		}
	}
	saved, savedAt := r.State(), r.Applied()
	for _, b := range all[mid:] {
		if err := r.ApplyReplicated(b); err != nil {
			t.Fatal(err)
		}
	}
	want := r.State()
	if live := c.State(); !reflect.DeepEqual(want, live) {
		t.Fatalf("replica %+v\nleader %+v", want, live)
	}
	for i, b := range all {
		if err := r.ApplyReplicated(b); !errors.Is(err, ErrApplied) {
			t.Fatalf("replayed batch %d: %v", i+1, err)
		}
	}
	if st := r.State(); !reflect.DeepEqual(st, want) {
		t.Fatalf("replay changed the state:\n%+v\n%+v", st, want)
	}

	restarted := NewReplica(jsapi.AckExplicit, &saved, savedAt)
	if err := restarted.ApplyReplicated(all[len(all)-1]); len(all)-1 > mid && !errors.Is(err, ErrBatchGap) {
		t.Fatalf("batch past a gap: %v", err)
	}
	for _, b := range all {
		if err := restarted.ApplyReplicated(b); err != nil && !errors.Is(err, ErrApplied) {
			t.Fatal(err)
		}
	}
	if st := restarted.State(); !reflect.DeepEqual(st, want) {
		t.Fatalf("restarted replica %+v\nwant %+v", st, want)
	}
	if err := r.ApplyReplicated([]byte{9}); !errors.Is(err, ErrBadBatch) {
		t.Fatalf("garbage: %v", err)
	}
}

// TestAckSyncWaitsForCommit: with Replicate set, an AckSync is answered
// only once the batch holding its ack is committed.
func TestAckSyncWaitsForCommit(t *testing.T) {
	c, _, out, log := newLeader(t, jsapi.ConsumerConfig{Durable: "R", AckPolicy: jsapi.AckExplicit, AckWait: time.Hour}, 3)
	c.Pull("r1", jsapi.NextRequest{Batch: 2})
	got := waitFor(t, out, 2)
	eventually(t, "the leader to settle", func() bool { return settled(c) })
	before := len(log.from(0))
	for _, b := range log.from(0) { // the deliveries are committed
		if err := c.ApplyReplicated(b); err != nil {
			t.Fatal(err)
		}
	}

	c.Ack(got[0].reply, "sync", []byte("+ACK"))
	answered := func() bool {
		for _, d := range out.all() {
			if d.to == "sync" {
				return true
			}
		}
		return false
	}
	eventually(t, "the ack's batch", func() bool { return len(log.from(0)) > before })
	if answered() {
		t.Fatal("AckSync answered before its ack was committed")
	}
	batch := log.from(before)
	if evs, err := DecodeEvents(batch[0]); err != nil || len(evs) != 1 || evs[0].Kind != EventAcked {
		t.Fatalf("ack batch %+v, %v", evs, err)
	}
	if err := c.ApplyReplicated(batch[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the AckSync answered", answered)
	if err := c.ApplyReplicated(batch[0]); !errors.Is(err, ErrApplied) {
		t.Fatalf("batch committed twice: %v", err)
	}

	// An AckSync with nothing left to commit is answered at once.
	c.Ack(got[0].reply, "again", []byte("+ACK"))
	eventually(t, "the repeated AckSync answered", func() bool {
		for _, d := range out.all() {
			if d.to == "again" {
				return true
			}
		}
		return false
	})

	// A batch this leader never proposed is another leader's.
	foreign := EncodeBatch(&Batch{Seq: uint64(before) + 2, Events: []Event{{Kind: EventAcked, Stream: 2}}})
	if err := c.ApplyReplicated(foreign); !errors.Is(err, ErrNotProposed) {
		t.Fatalf("foreign batch: %v", err)
	}
}

// TestLeaderFromReplica: a replica that becomes the leader continues the
// batch sequence from its own, and proposes no start state.
func TestLeaderFromReplica(t *testing.T) {
	c, src, out, log := newLeader(t, jsapi.ConsumerConfig{Durable: "R", AckPolicy: jsapi.AckExplicit, AckWait: time.Hour}, 3)
	c.Pull("r1", jsapi.NextRequest{Batch: 2})
	waitFor(t, out, 2)
	eventually(t, "the leader to settle", func() bool { return settled(c) })
	r := NewReplica(jsapi.AckExplicit, nil, 0)
	for _, b := range log.from(0) {
		if err := r.ApplyReplicated(b); err != nil {
			t.Fatal(err)
		}
	}
	c.Stop()

	st, applied := r.State(), r.Applied()
	log2 := &batchLog{}
	out2 := &fakeOut{interest: true}
	cfg := c.Config()
	c2 := New("R", cfg, Options{Source: src, Out: out2, State: &st, Applied: applied, Replicate: log2.propose})
	t.Cleanup(c2.Stop)
	c2.Pull("r2", jsapi.NextRequest{Batch: 3, NoWait: true})
	waitFor(t, out2, 3) // the two pending again, then the third
	eventually(t, "the new leader to settle", func() bool { return settled(c2) })
	for _, b := range log2.from(0) {
		bt, err := DecodeBatch(b)
		if err != nil || bt.Start != nil || bt.Seq <= applied {
			t.Fatalf("new leader's batch %+v, %v (applied %d)", bt, err, applied)
		}
		if err := r.ApplyReplicated(b); err != nil {
			t.Fatal(err)
		}
	}
	if l, rs := c2.State(), r.State(); !reflect.DeepEqual(l, rs) {
		t.Fatalf("new leader %+v\nreplica %+v", l, rs)
	}
}

// A consumer without acks holds its deliveries up to deliveryCoalesce
// after its last batch and proposes them together; one with acks
// proposes after every turn.
func TestDeliveriesCoalesced(t *testing.T) {
	for _, policy := range []jsapi.AckPolicy{jsapi.AckNone, jsapi.AckExplicit} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			var mu sync.Mutex
			now := time.Unix(1_000_000, 0)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			src := &fakeSource{st: store.NewMemory()}
			for i := range 5 {
				src.add("a", fmt.Sprint(i+1))
			}
			out := &fakeOut{interest: true}
			cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "R", AckPolicy: policy, AckWait: time.Hour}, jsapi.StreamConfig{Name: "S"}, false)
			if e != nil {
				t.Fatal(e)
			}
			log := &batchLog{}
			c := New(cfg.Name, cfg, Options{Source: src, Out: out, Replicate: log.propose, Now: clock})
			t.Cleanup(c.Stop)
			eventually(t, "the starting batch", func() bool { return len(log.from(0)) == 1 })
			for i := range 5 {
				c.Pull(fmt.Sprint("r", i), jsapi.NextRequest{Batch: 1, NoWait: true})
				waitFor(t, out, i+1)
			}
			events := func() int {
				n := 0
				for _, b := range log.from(1) {
					bt, err := DecodeBatch(b)
					if err != nil {
						t.Fatal(err)
					}
					n += len(bt.Events)
				}
				return n
			}
			if policy != jsapi.AckNone {
				eventually(t, "every delivery proposed", func() bool { return events() == 5 })
				if n := len(log.from(1)); n < 2 {
					t.Fatalf("%d batches for 5 turns with acks, want one a turn", n)
				}
				return
			}
			if n := events(); n != 0 {
				t.Fatalf("%d deliveries proposed within the coalescing window, want them held", n)
			}
			mu.Lock()
			now = now.Add(deliveryCoalesce + time.Millisecond)
			mu.Unlock()
			eventually(t, "the held deliveries proposed", func() bool { return events() == 5 })
			if n := len(log.from(1)); n != 1 {
				t.Fatalf("held deliveries went out in %d batches, want 1", n)
			}
			r := NewReplica(policy, nil, 0)
			for _, b := range log.from(0) {
				if err := r.ApplyReplicated(b); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.State(); got.Next != 6 || got.LastStream != 5 || got.FloorS != 5 {
				t.Fatalf("replica after the batch: %+v", got)
			}
		})
	}
}

// TestPlainAcksProposedByTurn: plain acks (no reply) are left to the
// consumer's next turn, which must come without any other event: every
// ack of a delivered batch reaches the log with nothing pulled after it.
func TestPlainAcksProposedByTurn(t *testing.T) {
	const n = 50
	c, _, out, log := newLeader(t, jsapi.ConsumerConfig{Durable: "R", AckPolicy: jsapi.AckExplicit, AckWait: time.Hour}, n)
	c.Pull("r1", jsapi.NextRequest{Batch: n})
	got := waitFor(t, out, n)
	eventually(t, "the leader to settle", func() bool { return settled(c) })
	for _, d := range got {
		c.Ack(d.reply, "", []byte("+ACK"))
	}
	eventually(t, "every ack proposed", func() bool { return settled(c) })
	r := NewReplica(jsapi.AckExplicit, nil, 0)
	for _, b := range log.from(0) {
		if err := r.ApplyReplicated(b); err != nil {
			t.Fatal(err)
		}
	}
	if st := r.State(); st.FloorS != n || len(st.Pending) != 0 {
		t.Fatalf("replica after the acks: floor %d, %d pending; want %d, 0", st.FloorS, len(st.Pending), n)
	}
}
