package raftnode

import (
	"errors"
	"slices"
	"testing"

	"go.etcd.io/raft/v3"
)

var quietNet = simConfig{nodes: 3, groups: 1, maxDelay: 1}

func TestSimElection(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		c := newSimCluster(t, seed, quietNet)
		g := c.groups[0]
		c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
		l := c.leader(g)
		lst, _ := c.node(l).eng.status(g)
		c.runUntil(2000, "followers know the leader", func() bool {
			for _, n := range c.nodes {
				st, _ := n.eng.status(g)
				if st.Leader != l || st.Term != lst.Term {
					return false
				}
			}
			return true
		})
	}
}

func TestSimReelectionAfterLeaderCrash(t *testing.T) {
	c := newSimCluster(t, 7, quietNet)
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	old := c.leader(g)
	oldSt, _ := c.node(old).eng.status(g)
	c.crash(old)
	c.runUntil(2000, "a new leader", func() bool { return c.leader(g) != 0 })
	st, _ := c.node(c.leader(g)).eng.status(g)
	if st.Term <= oldSt.Term {
		c.fatalf("new leader's term %d not above %d", st.Term, oldSt.Term)
	}
	c.start(old)
	c.runUntil(2000, "the old leader follows", func() bool {
		s, _ := c.node(old).eng.status(g)
		return s.Leader != 0 && s.Leader != old
	})
}

// A leader cut off from the others steps down within an election timeout
// (CheckQuorum), a proposal made to it in the minority never commits and
// is reported dropped once it learns the majority's log, and the majority
// goes on under a new leader.
func TestSimLeaderStepsDownInMinority(t *testing.T) {
	c := newSimCluster(t, 11, quietNet)
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	old := c.leader(g)
	c.partition([]uint64{old})
	p, err := c.node(old).eng.propose(g, mustJSON(kvOp{Op: "put", K: "a", V: "minority", ID: 1}))
	if err != nil {
		c.fatalf("propose to the isolated leader: %v", err)
	}
	c.runUntil(4000, "the isolated leader steps down", func() bool {
		st, _ := c.node(old).eng.status(g)
		return st.State != raft.StateLeader.String()
	})
	c.runUntil(4000, "a leader in the majority", func() bool {
		l := c.leader(g)
		return l != 0 && l != old
	})
	// The majority commits something at the index the minority used.
	nl := c.leader(g)
	for i := range 3 {
		if _, err := c.node(nl).eng.propose(g, mustJSON(kvOp{Op: "put", K: "a", V: "majority", ID: 10 + i})); err != nil {
			c.fatalf("propose to the new leader: %v", err)
		}
	}
	c.heal()
	c.runUntil(4000, "the minority proposal settles", func() bool { return isDone(p) })
	if _, err := p.Result(); !errors.Is(err, ErrDropped) {
		c.fatalf("minority proposal: got %v, want ErrDropped", err)
	}
	c.runUntil(4000, "convergence", c.converged)
	for _, n := range c.nodes {
		if v := n.sms[g].KV["a"]; v != "majority" {
			c.fatalf("node %d: a = %q", n.id, v)
		}
	}
}

// One-way partition: the leader's messages reach the others but nothing
// comes back. Without answers it loses its quorum and steps down; the
// others elect a leader and the group makes progress again once healed.
func TestSimOneWayPartition(t *testing.T) {
	c := newSimCluster(t, 13, quietNet)
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	old := c.leader(g)
	for _, p := range c.peers {
		if p != old {
			c.blocked[[2]uint64{p, old}] = true
		}
	}
	c.runUntil(4000, "the deaf leader steps down", func() bool {
		st, _ := c.node(old).eng.status(g)
		return st.State != raft.StateLeader.String()
	})
	c.runUntil(8000, "another leader", func() bool {
		l := c.leader(g)
		return l != 0 && l != old
	})
	c.heal()
	l := c.leader(g)
	p, err := c.node(l).eng.propose(g, mustJSON(kvOp{Op: "put", K: "k", V: "v", ID: 1}))
	if err != nil {
		c.fatalf("propose: %v", err)
	}
	c.runUntil(4000, "commit after healing", func() bool { return isDone(p) })
	if _, err := p.Result(); err != nil {
		c.fatalf("proposal: %v", err)
	}
}

func TestProposeToFollowerNamesLeader(t *testing.T) {
	c := newSimCluster(t, 5, quietNet)
	g := c.groups[0]
	c.runUntil(2000, "followers know the leader", func() bool {
		l := c.leader(g)
		if l == 0 {
			return false
		}
		for _, n := range c.nodes {
			if st, _ := n.eng.status(g); st.Leader != l {
				return false
			}
		}
		return true
	})
	l := c.leader(g)
	f := l%3 + 1
	_, err := c.node(f).eng.propose(g, []byte("{}"))
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.Leader != l {
		c.fatalf("propose to follower: got %v, want NotLeaderError naming %d", err, l)
	}
	// Status on the leader shows each peer's progress.
	st, _ := c.node(l).eng.status(g)
	if len(st.Progress) != 3 {
		c.fatalf("leader progress: %+v", st.Progress)
	}
}

// One iteration saves the Readies of every group with one sync.
func TestOneSavePerIteration(t *testing.T) {
	store := NewMemStorage()
	opts := DefaultOptions()
	opts.NodeID = 1
	opts.Storage = store
	opts.Transport = simTransport{}
	opts.Logger = discardLogger()
	e := newEngine(opts)
	const groups = 16
	for g := uint64(1); g <= groups; g++ {
		if err := e.addGroup(g, []uint64{1}, newKV()); err != nil {
			t.Fatal(err)
		}
		if err := e.campaign(g); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if err := e.process(); err != nil {
			t.Fatal(err)
		}
	}
	var ps []*Proposal
	for g := uint64(1); g <= groups; g++ {
		p, err := e.propose(g, mustJSON(kvOp{Op: "put", K: "k", V: "v"}))
		if err != nil {
			t.Fatalf("group %d: %v", g, err)
		}
		ps = append(ps, p)
	}
	before := store.Syncs()
	if err := e.process(); err != nil {
		t.Fatal(err)
	}
	if got := store.Syncs() - before; got != 1 {
		t.Fatalf("%d syncs for one iteration over %d groups, want 1", got, groups)
	}
	// The commit is learnt when the save is acknowledged at Advance; the
	// next iteration applies.
	if err := e.process(); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		r, err := p.Result()
		if err != nil || r.Index == 0 {
			t.Fatalf("group %d: %+v %v", i+1, r, err)
		}
	}
}

func isDone(p *Proposal) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// Every member loses power at once, some in the middle of a save; what was
// acknowledged is still there after the restart, in the same order.
func TestSimWholeClusterCrash(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4, 5} {
		cfg := quietNet
		cfg.snapshotEntries = 16
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		acked := map[int]Result{}
		next := 1
		for round := 0; round < 3000 && len(acked) < 60; round++ {
			if l := c.leader(g); l != 0 && round%3 == 0 {
				id := next
				next++
				if p, err := c.node(l).eng.propose(g, mustJSON(kvOp{Op: "put", K: "k", V: "v", ID: id})); err == nil {
					c.watch(p, func(r Result) { acked[id] = r })
				}
			}
			c.step()
		}
		for i, n := range c.nodes {
			n.store.CrashNextSave(i) // the next save keeps 0, 1 or 2 records
		}
		c.step()
		for _, n := range c.nodes {
			c.crash(n.id)
		}
		c.recover()
		c.runUntil(20000, "convergence", c.converged)
		at := map[int]histEntry{}
		for _, h := range c.node(1).sms[g].Hist {
			at[h.ID] = h
		}
		for id, r := range acked {
			if h, ok := at[id]; !ok || h.Index != r.Index || h.Term != r.Term {
				c.fatalf("acked proposal %d at %d/%d: after restart %v %+v", id, r.Index, r.Term, ok, h)
			}
		}
		for _, n := range c.nodes[1:] {
			if !slices.Equal(n.sms[g].Hist, c.node(1).sms[g].Hist) {
				c.fatalf("node %d applied another history", n.id)
			}
		}
		if len(acked) == 0 {
			c.fatalf("nothing acked")
		}
	}
}

func TestRemoveGroup(t *testing.T) {
	c := newSimCluster(t, 3, simConfig{nodes: 1, groups: 2, maxDelay: 0})
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	e := c.node(1).eng
	p, err := e.propose(g, mustJSON(kvOp{Op: "put", K: "k"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.removeGroup(g); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Result(); !errors.Is(err, ErrStopped) {
		t.Fatalf("proposal of a removed group: %v", err)
	}
	if _, err := e.status(g); !errors.Is(err, ErrNoGroup) {
		t.Fatalf("status of a removed group: %v", err)
	}
	if _, err := e.propose(g, nil); !errors.Is(err, ErrNoGroup) {
		t.Fatalf("propose to a removed group: %v", err)
	}
	if err := e.addGroup(c.groups[1], []uint64{1}, newKV()); !errors.Is(err, ErrGroupExists) {
		t.Fatalf("adding a running group: %v", err)
	}
}

// A member down while the others compact their logs catches up from a
// snapshot sent by the leader.
func TestSimSnapshotCatchUp(t *testing.T) {
	cfg := quietNet
	cfg.snapshotEntries = 10
	c := newSimCluster(t, 9, cfg)
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	down := c.leader(g)%3 + 1
	c.crash(down)
	n := 0
	c.runUntil(20000, "60 commits without one member", func() bool {
		if l := c.leader(g); l != 0 && n < 60 {
			if p, err := c.node(l).eng.propose(g, mustJSON(kvOp{Op: "put", K: "k", V: "v", ID: n})); err == nil {
				n++
				c.watch(p, func(Result) {})
			}
		}
		st, _ := c.node(c.peers[0]).eng.status(g)
		if c.peers[0] == down {
			st, _ = c.node(c.peers[1]).eng.status(g)
		}
		return n == 60 && st.Applied >= 60
	})
	// The leader's log no longer holds what the member lacks: only a
	// snapshot can bring it up to date.
	first, _ := mustOpen(t, c.node(c.leader(g)).store, g).FirstIndex()
	last, _ := mustOpen(t, c.node(down).store, g).LastIndex()
	if first <= last+1 {
		c.fatalf("leader's log starts at %d, the member's ends at %d: no snapshot needed", first, last)
	}
	c.start(down)
	c.runUntil(20000, "convergence", c.converged)
	if !slices.Equal(c.node(down).sms[g].Hist, c.node(c.leader(g)).sms[g].Hist) {
		c.fatalf("restarted member applied another history")
	}
}

func mustOpen(t *testing.T, s *MemStorage, g uint64) raft.Storage {
	t.Helper()
	st, err := s.Open(g)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
