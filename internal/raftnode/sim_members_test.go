package raftnode

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// join adds a node to the simulation whose groups start empty, waiting to
// be added as a member.
func (c *simCluster) join() uint64 {
	id := uint64(len(c.nodes) + 1)
	c.peers = append(c.peers, id)
	c.nodes = append(c.nodes, &simNode{id: id, store: NewMemStorage()})
	c.start(id)
	return id
}

// change proposes a membership change through whoever leads until it has
// applied, and returns the leader's members then. A proposal whose
// outcome is unknown is proposed again only if the change is not in
// effect.
func (c *simCluster) change(g uint64, add, remove []uint64) Members {
	c.t.Helper()
	var (
		p   *Proposal
		out Members
	)
	done := func(m Members) bool {
		for _, n := range add {
			if !slices.Contains(m.Voters, n) {
				return false
			}
		}
		for _, n := range remove {
			if slices.Contains(m.Voters, n) {
				return false
			}
		}
		return len(m.Outgoing) == 0
	}
	c.runUntil(20000, fmt.Sprintf("change +%v -%v", add, remove), func() bool {
		if p != nil {
			if !isDone(p) {
				return false
			}
			r, err := p.Result()
			if err == nil {
				out = r.Value.(Members)
				if !done(out) {
					c.fatalf("change +%v -%v settled with members %+v", add, remove, out)
				}
				return true
			}
			p = nil
		}
		l := c.leader(g)
		if l == 0 {
			return false
		}
		if st, _ := c.node(l).eng.status(g); done(st.Members) {
			out = st.Members
			return true
		}
		p, _ = c.node(l).eng.changeMembers(g, add, remove, nil)
		return false
	})
	return out
}

// load proposes puts with unique ids through whoever leads, in every
// round with probability rate, and records what was acknowledged.
type load struct {
	c     *simCluster
	next  int
	rate  float64
	acked map[int]Result
	props map[int]*Proposal
}

func (c *simCluster) startLoad(rate float64) *load {
	ld := &load{c: c, rate: rate, acked: map[int]Result{}, props: map[int]*Proposal{}}
	ld.resume()
	return ld
}

// resume starts proposing again after check; ids go on from the last.
func (ld *load) resume() {
	c := ld.c
	c.before = func() {
		if c.rng.Float64() >= ld.rate {
			return
		}
		g := c.groups[0]
		l := c.leader(g)
		if l == 0 {
			return
		}
		id := ld.next + 1
		if p, err := c.node(l).eng.propose(g, mustJSON(kvOp{Op: "put", K: "k", V: "v", ID: id})); err == nil {
			ld.next = id
			ld.props[id] = p
			c.watch(p, func(r Result) { ld.acked[id] = r })
		}
	}
}

// check waits for the members to converge, then checks that every member
// applied the same entries, each proposal once, every acknowledged one at
// the index and term acknowledged, none reported dropped, and that every
// other node applied a prefix of that history.
func (ld *load) check(wantVoters []uint64) {
	c := ld.c
	c.before = nil
	c.runUntil(20000, "convergence", c.converged)
	g := c.groups[0]
	l := c.leader(g)
	st, _ := c.node(l).eng.status(g)
	if !slices.Equal(st.Members.Voters, wantVoters) || len(st.Members.Outgoing) > 0 {
		c.fatalf("members %+v, want voters %v", st.Members, wantVoters)
	}
	ref := c.node(l).sms[g].Hist
	seen := map[int]histEntry{}
	for _, h := range ref {
		if _, dup := seen[h.ID]; dup {
			c.fatalf("proposal %d applied twice: %v", h.ID, ref)
		}
		seen[h.ID] = h
	}
	for id, r := range ld.acked {
		if h, ok := seen[id]; !ok || h.Index != r.Index || h.Term != r.Term {
			c.fatalf("acked proposal %d at %d/%d: applied %v %+v", id, r.Index, r.Term, ok, h)
		}
	}
	for id, p := range ld.props {
		if _, err := p.Result(); errors.Is(err, ErrDropped) {
			if h, ok := seen[id]; ok {
				c.fatalf("proposal %d reported dropped, applied at %d", id, h.Index)
			}
		}
	}
	for _, n := range c.nodes {
		h := n.sms[g].Hist
		if slices.Contains(wantVoters, n.id) && !slices.Equal(h, ref) {
			c.fatalf("member %d applied another history", n.id)
		}
		if len(h) > len(ref) || !slices.Equal(h, ref[:len(h)]) {
			c.fatalf("node %d applied what the members did not", n.id)
		}
	}
	if len(ld.acked) == 0 {
		c.fatalf("nothing acked")
	}
}

var lossyNet = simConfig{groups: 1, drop: 0.02, dup: 0.02, maxDelay: 2, snapshotEntries: 10}

func ids(n ...uint64) []uint64 { return n }

// A group grows from one member to three and five while proposals flow,
// the new members catching up from the leader's snapshot, then shrinks to
// three.
func TestSimGrowAndShrink(t *testing.T) {
	for _, seed := range simSeeds(t, 3) {
		cfg := lossyNet
		cfg.nodes = 1
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
		ld := c.startLoad(0.3)
		c.run(100)
		for range 4 {
			n := c.join()
			c.change(g, ids(n), nil)
			c.run(100)
		}
		ld.check(ids(1, 2, 3, 4, 5))
		ld.resume()
		c.change(g, nil, ids(5))
		c.run(100)
		c.change(g, nil, ids(4))
		c.run(100)
		ld.check(ids(1, 2, 3))
		// The group goes on with the new quorum: two of three, even with
		// a member down.
		c.crash(3)
		ld.resume()
		c.run(300)
		c.start(3)
		ld.check(ids(1, 2, 3))
	}
}

// Replacing a member (one added, one removed in one change) goes through
// joint consensus; the proposal settles once the group left it.
func TestSimReplaceMember(t *testing.T) {
	for _, seed := range simSeeds(t, 3) {
		cfg := lossyNet
		cfg.nodes = 3
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
		ld := c.startLoad(0.3)
		c.run(100)
		n := c.join()
		old := c.leader(g)%3 + 1 // a follower
		m := c.change(g, ids(n), ids(old))
		if !slices.Equal(m.Voters, removeID(ids(1, 2, 3, 4), old)) {
			c.fatalf("members after replacing %d by %d: %+v", old, n, m)
		}
		c.run(200)
		ld.check(removeID(ids(1, 2, 3, 4), old))
	}
}

func removeID(s []uint64, id uint64) []uint64 {
	return slices.DeleteFunc(slices.Clone(s), func(v uint64) bool { return v == id })
}

// The leader removes itself: it steps down once the change applied, knows
// it was removed, and the others elect a leader and go on.
func TestSimRemoveLeader(t *testing.T) {
	for _, seed := range simSeeds(t, 3) {
		cfg := lossyNet
		cfg.nodes = 3
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
		ld := c.startLoad(0.3)
		c.run(100)
		var (
			l   uint64
			p   *Proposal
			err error
		)
		c.runUntil(4000, "the leader proposes its removal", func() bool {
			if l = c.leader(g); l == 0 {
				return false
			}
			p, err = c.node(l).eng.changeMembers(g, nil, ids(l), nil)
			return err == nil
		})
		c.runUntil(4000, "the removal settles", func() bool { return isDone(p) })
		if r, err := p.Result(); err != nil {
			// Lost with a leader change: then the change was not made.
			st, _ := c.node(c.leader(g)).eng.status(g)
			if !slices.Contains(st.Members.Voters, l) {
				c.fatalf("removal of %d failed (%v) yet took effect: %+v %+v", l, err, r, st.Members)
			}
			t.Logf("seed %d: removal of leader %d lost: %v", seed, l, err)
			continue
		}
		c.runUntil(4000, "another leader", func() bool {
			nl := c.leader(g)
			return nl != 0 && nl != l
		})
		st, _ := c.node(l).eng.status(g)
		if !st.Removed || st.State == raft.StateLeader.String() {
			c.fatalf("removed leader %d: %+v", l, st)
		}
		c.run(200)
		ld.check(removeID(ids(1, 2, 3), l))
	}
}

// Membership survives every member losing power at once, some in the
// middle of a save, both after a change and with one in flight; the log's
// snapshot carries the configuration.
func TestSimMembersSurviveRestart(t *testing.T) {
	for _, seed := range simSeeds(t, 3) {
		cfg := lossyNet
		cfg.nodes = 3
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
		ld := c.startLoad(0.3)
		n4, n5 := c.join(), c.join()
		c.change(g, ids(n4), nil)
		c.change(g, ids(n5), nil)
		c.run(300) // enough entries for a compaction after the change
		five := ids(1, 2, 3, 4, 5)
		snap, _ := mustOpen(t, c.node(c.leader(g)).store, g).Snapshot()
		if got := membersOf(snap.GetMetadata().GetConfState()).Voters; !slices.Equal(got, five) {
			c.fatalf("log snapshot at %d names voters %v", snap.GetMetadata().GetIndex(), got)
		}
		c.powerLoss()
		ld.check(five)
		for _, n := range c.nodes {
			if st, _ := n.eng.status(g); !slices.Equal(st.Members.Voters, five) {
				c.fatalf("node %d after restart: %+v", n.id, st.Members)
			}
		}

		// Power lost with a change in flight: afterwards every member has
		// the same configuration, old or new, and the group goes on.
		ld.resume()
		l := c.leader(g)
		for l == 0 {
			c.step()
			l = c.leader(g)
		}
		var p *Proposal
		c.runUntil(4000, "a change proposed", func() bool {
			var err error
			l = c.leader(g)
			p, err = c.node(max(l, 1)).eng.changeMembers(g, nil, ids(n5), nil)
			return l != 0 && err == nil
		})
		_ = p
		c.run(int(seed % 4))
		c.powerLoss()
		c.runUntil(20000, "convergence", c.converged)
		st, _ := c.node(c.leader(g)).eng.status(g)
		want := st.Members.Voters
		if !slices.Equal(want, five) && !slices.Equal(want, ids(1, 2, 3, 4)) {
			c.fatalf("members after power loss mid-change: %+v", st.Members)
		}
		ld.check(want)
	}
}

// powerLoss crashes every node at once, some in the middle of a save, and
// restarts them all.
func (c *simCluster) powerLoss() {
	for i, n := range c.nodes {
		n.store.CrashNextSave(i % 3)
	}
	c.step()
	for _, n := range c.nodes {
		c.crash(n.id)
	}
	c.recover()
}

// A change is refused at once when it cannot be made: on a follower, when
// it is malformed, and while another is in progress.
func TestSimChangeRefused(t *testing.T) {
	c, g, l, f := newSettledSim(t, 5)
	c.runUntil(2000, "the follower knows the leader", func() bool {
		st, _ := c.node(f).eng.status(g)
		return st.Leader == l
	})
	var nl *NotLeaderError
	if _, err := c.node(f).eng.changeMembers(g, nil, ids(l), nil); !errors.As(err, &nl) || nl.Leader != l {
		c.fatalf("change on a follower: %v", err)
	}
	e := c.node(l).eng
	if _, err := e.changeMembers(g, ids(1), nil, nil); !errors.Is(err, ErrBadChange) {
		c.fatalf("adding a voter: %v", err)
	}
	n := c.join()
	p, err := e.changeMembers(g, ids(n), nil, nil)
	if err != nil {
		c.fatalf("add %d: %v", n, err)
	}
	if _, err := e.changeMembers(g, nil, ids(f), nil); !errors.Is(err, ErrChangePending) {
		c.fatalf("a second change while one is pending: %v", err)
	}
	c.runUntil(4000, "the change settles", func() bool { return isDone(p) })
	r, err := p.Result()
	if err != nil || !slices.Equal(r.Value.(Members).Voters, ids(1, 2, 3, 4)) {
		c.fatalf("add %d: %+v %v", n, r, err)
	}
	if _, err := e.changeMembers(g, nil, ids(f), nil); err != nil {
		c.fatalf("a change after the last one applied: %v", err)
	}
}

func TestValidateChange(t *testing.T) {
	cs := &raftpb.ConfState{Voters: ids(1, 2, 3), Learners: ids(5)}
	tests := []struct {
		name               string
		add, remove, learn []uint64
		ok                 bool
	}{
		{"add one", ids(4), nil, nil, true},
		{"remove one", nil, ids(2), nil, true},
		{"replace", ids(4), ids(2), nil, true},
		{"nothing", nil, nil, nil, false},
		{"node zero", ids(0), nil, nil, false},
		{"add a voter", ids(3), nil, nil, false},
		{"remove a stranger", nil, ids(9), nil, false},
		{"both sides", ids(4), ids(4), nil, false},
		{"remove all", nil, ids(1, 2, 3), nil, false},
		{"add a learner", nil, nil, ids(4), true},
		{"promote a learner", ids(5), nil, nil, true},
		{"remove a learner", nil, ids(5), nil, true},
		{"a learner again", nil, nil, ids(5), false},
		{"a voter as learner", nil, nil, ids(2), false},
		{"learner node zero", nil, nil, ids(0), false},
		{"learner and voter at once", ids(4), nil, ids(4), false},
	}
	for _, tc := range tests {
		err := validateChange(cs, tc.add, tc.remove, tc.learn)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadChange)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Under the chaos faults (crashes, crashes mid-save, partitions, a lossy
// network), the group replaces a member again and again, each time with a
// new node, while proposals flow. Safety throughout: at most one leader
// per term (checked every round), the members apply one history, every
// acknowledged proposal once at the index and term acknowledged, and
// every removed node applied a prefix of it.
func TestSimMembershipChaos(t *testing.T) {
	for _, seed := range simSeeds(t, 4) {
		cfg := chaosNet
		cfg.groups = 1
		c := newSimCluster(t, seed, cfg)
		g := c.groups[0]
		rng := c.rng
		ld := c.startLoad(0.3)
		var (
			p           *Proposal
			add, remove uint64
			changes     int
		)
		for round := range 8000 {
			l := c.leader(g)
			switch {
			case l == 0:
			case p != nil && !isDone(p):
			case p != nil:
				if _, err := p.Result(); err == nil {
					changes++
				}
				p = nil
			case round%800 == 0:
				st, _ := c.node(l).eng.status(g)
				if add == 0 || slices.Contains(st.Members.Voters, add) {
					add = c.join()
					remove = st.Members.Voters[rng.Intn(len(st.Members.Voters))]
				}
				if slices.Contains(st.Members.Voters, remove) {
					p, _ = c.node(l).eng.changeMembers(g, ids(add), ids(remove), nil)
				}
			}
			c.injectFaults()
			c.step()
		}
		c.recover()
		c.runUntil(20000, "convergence", c.converged)
		st, _ := c.node(c.leader(g)).eng.status(g)
		t.Logf("seed %d: %d changes, voters %v, %d acked", seed, changes, st.Members.Voters, len(ld.acked))
		if changes == 0 {
			c.fatalf("no change made")
		}
		ld.resume()
		c.run(200)
		ld.check(st.Members.Voters)
	}
}

// A learner gets the log but does not count toward the quorum: with the
// learner and one of three voters down, proposals still commit; back up,
// the learner catches up, and promoted it votes.
func TestSimLearner(t *testing.T) {
	c := newSimCluster(t, 23, quietNet)
	g := c.groups[0]
	c.runUntil(2000, "a leader", func() bool { return c.leader(g) != 0 })
	ld := c.startLoad(0.3)
	n := c.join()
	var p *Proposal
	c.runUntil(4000, "the learner added", func() bool {
		l := c.leader(g)
		if l == 0 {
			return false
		}
		if p == nil || (isDone(p) && func() bool { _, err := p.Result(); return err != nil }()) {
			p, _ = c.node(l).eng.changeMembers(g, nil, nil, ids(n))
			return false
		}
		return isDone(p)
	})
	l := c.leader(g)
	st, _ := c.node(l).eng.status(g)
	if !slices.Equal(st.Members.Learners, ids(n)) || slices.Contains(st.Members.Voters, n) {
		c.fatalf("members after adding learner %d: %+v", n, st.Members)
	}
	f := l%3 + 1
	c.crash(n)
	c.crash(f)
	before := len(ld.acked)
	c.runUntil(4000, "commits with the learner and a voter down", func() bool { return len(ld.acked) > before+20 })
	c.start(f)
	c.start(n)
	c.runUntil(8000, "the learner caught up", func() bool {
		l := c.leader(g)
		if l == 0 || !c.up(n) {
			return false
		}
		ls, _ := c.node(l).eng.status(g)
		ns, _ := c.node(n).eng.status(g)
		return ns.Applied+10 >= ls.Applied && ns.Applied > 0
	})
	if got := c.change(g, ids(n), nil); !slices.Equal(got.Voters, ids(1, 2, 3, n)) || len(got.Learners) != 0 {
		c.fatalf("members after promoting %d: %+v", n, got)
	}
	ld.resume()
	c.run(200)
	ld.check(ids(1, 2, 3, n))
}

// A heartbeat committing past the end of a member's log stops the group
// there (its log lost entries it acknowledged): Status says ErrLogLost,
// not just that the group is not run, until the group is removed.
func TestLogLostStatus(t *testing.T) {
	c, g, l, f := newSettledSim(t, 29)
	e := c.node(f).eng
	st, _ := e.status(g)
	hb := &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: new(l), To: new(f), Term: new(st.Term), Commit: new(st.Commit + 1000)}
	e.step(Envelope{Group: g, Msg: hb})
	if _, err := e.status(g); !errors.Is(err, ErrLogLost) {
		t.Fatalf("status after a heartbeat past the log: %v, want ErrLogLost", err)
	}
	if err := e.removeGroup(g); err != nil {
		t.Fatal(err)
	}
	if _, err := e.status(g); !errors.Is(err, ErrNoGroup) {
		t.Fatalf("status after removal: %v, want ErrNoGroup", err)
	}
}

// A member that lost its log and starts empty while the group still
// counts it neither votes nor campaigns until its log holds a committed
// entry of the current term; caught up, it votes again.
func TestSimAmnesiacHoldsVote(t *testing.T) {
	c, g, l, f := newSettledSim(t, 31)
	c.crash(f)
	c.node(f).store = NewMemStorage()
	c.node(f).boot = nil
	c.start(f)
	ls, _ := c.node(l).eng.status(g)
	vote := func() bool {
		before := len(c.msgs)
		// A transfer's vote request, which Raft answers even while it
		// hears from a leader.
		m := &raftpb.Message{Type: raftpb.MsgVote.Enum(), From: new(l), To: new(f), Term: new(ls.Term + 5),
			Index: new(uint64(1000)), LogTerm: new(ls.Term + 4), Context: []byte("CampaignTransfer")}
		c.node(f).eng.step(Envelope{Group: g, Msg: m})
		c.node(f).eng.process()
		for _, sm := range c.msgs[before:] {
			if sm.from == f && sm.env.Msg.GetType() == raftpb.MsgVoteResp {
				return true
			}
		}
		return false
	}
	if vote() {
		c.fatalf("node %d answered a vote request with an empty log", f)
	}
	c.runUntil(4000, "the empty member caught up", func() bool {
		fs, err := c.node(f).eng.status(g)
		return err == nil && fs.Commit > 0 && fs.Applied >= ls.Commit
	})
	c.runUntil(4000, "the member heals", func() bool { return c.node(f).eng.groups[g].healed() })
	if !vote() {
		c.fatalf("node %d, caught up, still refuses to answer a vote request", f)
	}
}
