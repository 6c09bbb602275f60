package raftnode

import (
	"errors"
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
