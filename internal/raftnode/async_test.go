package raftnode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// TestProposeAsync: queued proposals are made in the order queued, each
// caller is told its outcome once, and after Close the queue refuses.
func TestProposeAsync(t *testing.T) {
	opts := DefaultOptions()
	opts.NodeID, opts.Storage, opts.Transport, opts.TickInterval = 1, NewMemStorage(), dropAll{}, 5*time.Millisecond
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sm := &listSM{}
	if err := h.AddGroup(ctx, 1, []uint64{1}, sm); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := h.Status(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if st.Leader == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no leader")
		case <-time.After(5 * time.Millisecond):
		}
	}
	const n = 500
	var mu sync.Mutex
	results := map[int]uint64{}
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		for {
			err := h.ProposeAsync(1, []byte(fmt.Sprint(i)), func(r Result, err error) {
				mu.Lock()
				if err == nil {
					results[i] = r.Index
				}
				mu.Unlock()
				wg.Done()
			})
			if !errors.Is(err, ErrBusy) {
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			time.Sleep(time.Millisecond) // the queue is full: let the loop catch up
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(results) != n {
		t.Fatalf("%d of %d proposals committed", len(results), n)
	}
	for i := 1; i < n; i++ {
		if results[i] <= results[i-1] {
			t.Fatalf("proposal %d at index %d, after %d at %d: out of order", i, results[i], i-1, results[i-1])
		}
	}
	if got := sm.applied(); len(got) != n || got[0] != "0" || got[n-1] != fmt.Sprint(n-1) {
		t.Fatalf("applied %d entries", len(got))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.ProposeAsync(1, []byte("late"), func(Result, error) { t.Error("notified after Close") }); !errors.Is(err, ErrStopped) {
		t.Fatalf("after Close: %v", err)
	}
}

// listSM keeps what it applied.
type listSM struct {
	mu  sync.Mutex
	got []string
}

func (s *listSM) Apply(entries []Entry) ([]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if len(e.Data) > 0 {
			s.got = append(s.got, string(e.Data))
		}
	}
	return make([]any, len(entries)), nil
}
func (s *listSM) Snapshot() ([]byte, error) { return nil, nil }
func (s *listSM) Restore([]byte) error      { return nil }

func (s *listSM) applied() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestQueuedProposalsShareAppends: proposals taken by one drain reach each
// follower in one append message, in the order queued, and each hears its
// own outcome; a proposal of another group in between splits the run but
// keeps the order.
func TestQueuedProposalsShareAppends(t *testing.T) {
	c := newSimCluster(t, 3, simConfig{nodes: 3, groups: 2, maxDelay: 1})
	g, other := c.groups[0], c.groups[1]
	c.runUntil(2000, "leaders", func() bool { return c.leader(g) != 0 && c.leader(other) != 0 })
	c.run(20) // the leaders' first entries are committed and sent
	l := c.node(c.leader(g))
	before := len(c.msgs)
	const n = 40
	got := make([]uint64, n)
	for i := range n {
		grp := g
		if i == n/2 && c.leader(other) == l.id {
			grp = other
		}
		data := mustJSON(kvOp{Op: "put", K: fmt.Sprint("k", i), V: "v"})
		l.eng.queueAsync(asyncProposal{group: grp, data: data, notify: func(r Result, err error) {
			if err != nil {
				t.Errorf("proposal %d: %v", i, err)
			}
			got[i] = r.Index
		}})
	}
	l.eng.flushAsync()
	if err := l.eng.process(); err != nil {
		t.Fatal(err)
	}
	apps := map[uint64]int{} // follower -> appends of group g
	entries := 0
	for _, m := range c.msgs[before:] {
		if m.env.Group == g && m.env.Msg.GetType() == raftpb.MsgApp {
			apps[m.to]++
			entries += len(m.env.Msg.GetEntries())
		}
	}
	if len(apps) != 2 {
		t.Fatalf("appends went to %v, want both followers", apps)
	}
	for to, k := range apps {
		if k > 2 { // the run before and the run after the other group's
			t.Fatalf("follower %d got %d appends for %d proposals", to, k, n)
		}
	}
	c.runUntil(2000, "every proposal committed", func() bool { return !slices.Contains(got, 0) })
	last := uint64(0)
	for i, idx := range got {
		if i == n/2 && c.leader(other) == l.id {
			continue // the other group's: an index of its own log
		}
		if idx <= last {
			t.Fatalf("proposal %d at index %d, after one at %d: not in the order queued", i, idx, last)
		}
		last = idx
	}
}

// TestQueuedProposalsCutBySize: a run of queued proposals is cut at the
// size of one append, so each raft message stays within MaxSizePerMsg.
func TestQueuedProposalsCutBySize(t *testing.T) {
	c := newSimCluster(t, 5, quietNet)
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	c.run(20) // the followers are replicating, not probed
	l := c.node(c.leader(g))
	l.eng.cfg.MaxSizePerMsg = 1000
	done := 0
	for i := range 10 {
		data := mustJSON(kvOp{Op: "put", K: fmt.Sprint("k", i), V: strings.Repeat("v", 300)})
		l.eng.queueAsync(asyncProposal{group: g, data: data, notify: func(r Result, err error) {
			if err != nil {
				t.Errorf("proposal %d: %v", i, err)
			}
			done++
		}})
	}
	before := len(c.msgs)
	l.eng.flushAsync()
	if err := l.eng.process(); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.msgs[before:] {
		if m.env.Msg.GetType() != raftpb.MsgApp {
			continue
		}
		size := 0
		for _, e := range m.env.Msg.GetEntries() {
			size += len(e.GetData())
		}
		// raft's own bound is still 1 MB: only the cut keeps it small.
		if size > 1000 {
			t.Fatalf("an append of %d entries (%d bytes), over the bound", len(m.env.Msg.GetEntries()), size)
		}
	}
	c.runUntil(2000, "every proposal committed", func() bool { return done == 10 })
}
