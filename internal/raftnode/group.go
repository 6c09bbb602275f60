package raftnode

import (
	"errors"
	"fmt"
	"math/rand"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"google.golang.org/protobuf/proto"
)

// group is one Raft group on this host. Only the host's loop touches it.
type group struct {
	id      uint64
	rn      *raft.RawNode
	sm      StateMachine
	log     raft.Storage
	cs      *raftpb.ConfState // the configuration as of applied, for snapshots
	csAt    uint64            // index of the last configuration change applied
	applied uint64
	snapAt  uint64 // index of the last local snapshot
	// held: the state machine is fetching what a snapshot named, and
	// committed entries up to heldTo wait in the log; configuration
	// changes up to confTo were applied to Raft already (held.go).
	held           bool
	heldTo, confTo uint64
	leading        bool // last role told to a LeaderWatcher (leader.go)
	readyOwed      bool // LeaderReady waits for the lease (leader.go)

	// amnesiac: the member started empty to join (amnesia.go) and may
	// not vote or campaign until its log holds a committed entry of the
	// current term.
	amnesiac bool

	// The election timer (see engine.tick): ticks since the member last
	// heard from a leader or changed role, term or vote, and the
	// randomized timeout in ticks. term and vote are the last seen.
	elapsed, timeout int
	term, vote       uint64

	// unplaced: proposed, not yet seen in a Ready (by proposal id);
	// placed: seen at a log index in the term they were proposed in.
	unplaced map[uint64]*Proposal
	placed   map[uint64]*Proposal

	// change is the last membership change this host proposed (members.go);
	// joint is one whose entry was applied and entered a joint
	// configuration, waiting for the group to leave it, with its result.
	change  *Proposal
	joint   *Proposal
	jointAt Result

	// The leader's lease (lease.go): until when a quorum is known to
	// follow this leader, and how many times it asked.
	lease     atomic.Int64
	leaseFor  time.Duration // how long a quorum's confirmation keeps the lease
	leaseAsks uint64
}

func (g *group) resetTimer(rng *rand.Rand, electionTicks int) {
	g.elapsed = 0
	g.timeout = electionTicks + rng.Intn(electionTicks)
}

// noteState restarts the election timer when the member changed role or
// leader, or took a new term or vote: raft restarts its own timer then.
func (g *group) noteState(rd raft.Ready, rng *rand.Rand, electionTicks int) {
	changed := rd.SoftState != nil
	if hs := rd.HardState; hs != nil && (hs.GetTerm() != g.term || hs.GetVote() != g.vote) {
		g.term, g.vote = hs.GetTerm(), hs.GetVote()
		changed = true
	}
	if changed {
		g.resetTimer(rng, electionTicks)
	}
}

func (g *group) pending() int { return len(g.unplaced) + len(g.placed) }

// propose appends a proposal to the leader's log.
func (g *group) propose(id uint64, data []byte, maxPending int) (*Proposal, error) {
	props, err := g.proposeMany([]uint64{id}, [][]byte{data}, maxPending)
	switch {
	case err != nil:
		return nil, err
	case props[0] == nil:
		return nil, ErrBusy
	}
	return props[0], nil
}

// proposeMany is propose for several entries at once, in one raft
// message (one append to each follower). Proposals past the group's
// bound get a nil Proposal (ErrBusy for the caller); an error is the
// whole message's.
func (g *group) proposeMany(ids []uint64, datas [][]byte, maxPending int) ([]*Proposal, error) {
	st := g.rn.BasicStatus()
	if st.RaftState != raft.StateLeader {
		return nil, &NotLeaderError{Group: g.id, Leader: st.Lead}
	}
	n := min(len(ids), max(0, maxPending-g.pending()))
	props := make([]*Proposal, len(ids))
	if n == 0 {
		return props, nil
	}
	ents := make([]raftpb.Entry, n)
	ptrs := make([]*raftpb.Entry, n)
	for i := range n {
		ents[i].Data = encodeEntry(ids[i], datas[i])
		ptrs[i] = &ents[i]
	}
	err := g.rn.Step(&raftpb.Message{Type: raftpb.MsgProp.Enum(), From: new(st.ID), Entries: ptrs})
	if err != nil {
		if errors.Is(err, raft.ErrProposalDropped) {
			return nil, ErrDropped
		}
		return nil, err
	}
	for i := range n {
		p := newProposal(ids[i], st.GetTerm())
		g.unplaced[ids[i]] = p
		props[i] = p
	}
	return props, nil
}

// noteEntries runs on the entries a Ready wrote to the log. An entry of
// ours in the term we proposed it in gives the proposal its index. Entries
// replace the log from their first index on, so a placed proposal at or
// past that index whose (index, term) is not among them has left the log:
// a leader of a later term wrote over it, which it could not have done had
// the entry committed (Raft's leader completeness), so it never will.
func (g *group) noteEntries(ents []*raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	first := ents[0].GetIndex()
	for idx, p := range g.placed {
		if idx < first {
			continue
		}
		if i := idx - first; i >= uint64(len(ents)) || ents[i].GetTerm() != p.term {
			p.fail(ErrDropped)
			delete(g.placed, idx)
		}
	}
	if len(g.unplaced) == 0 {
		return
	}
	for _, e := range ents {
		id, ok := proposalID(e)
		if !ok {
			continue
		}
		if p := g.unplaced[id]; p != nil && p.term == e.GetTerm() {
			p.index = e.GetIndex()
			delete(g.unplaced, id)
			g.placed[p.index] = p
		}
	}
}

// sweepUnplaced ends proposals the Ready did not carry: Raft appends a
// proposal to its log at once, so the next Ready always carries it unless
// a snapshot replaced the log in between.
func (g *group) sweepUnplaced() {
	for id, p := range g.unplaced {
		p.fail(ErrUnknown)
		delete(g.unplaced, id)
	}
}

// restore installs a snapshot received from the leader (already saved).
func (g *group) restore(snap *raftpb.Snapshot) error {
	held, err := restoreSM(g.sm, snap.GetData(), true)
	if err != nil {
		return fmt.Errorf("raftnode: group %d: restore: %w", g.id, err)
	}
	md := snap.GetMetadata()
	g.applied = md.GetIndex()
	g.snapAt = md.GetIndex()
	g.csAt = g.applied
	g.held = held
	g.heldTo = max(g.heldTo, g.applied)
	g.confTo = max(g.confTo, g.applied)
	g.cs = proto.Clone(md.GetConfState()).(*raftpb.ConfState)
	g.leftJoint()
	for idx, p := range g.placed {
		if idx <= g.applied {
			p.fail(ErrUnknown)
			delete(g.placed, idx)
		}
	}
	return nil
}

// apply hands committed entries to the state machine in order and settles
// the proposals they decide. Configuration changes are applied to Raft
// between runs of normal entries.
func (g *group) apply(ents []*raftpb.Entry) error {
	var run []Entry
	var runEnts []*raftpb.Entry
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		vals, err := g.sm.Apply(run)
		if err != nil {
			return fmt.Errorf("raftnode: group %d: apply: %w", g.id, err)
		}
		for i, e := range runEnts {
			var v any
			if i < len(vals) {
				v = vals[i]
			}
			g.settle(e, v)
		}
		run, runEnts = run[:0], runEnts[:0]
		return nil
	}
	for _, e := range ents {
		switch e.GetType() {
		case raftpb.EntryNormal:
			if len(e.GetData()) == 0 {
				if err := flush(); err != nil {
					return err
				}
				g.settle(e, nil) // a new leader's empty entry
				g.noteOwnEntry(e)
				break
			}
			_, payload, err := decodeEntry(e.GetData())
			if err != nil {
				return fmt.Errorf("raftnode: group %d: entry %d: %w", g.id, e.GetIndex(), err)
			}
			run = append(run, Entry{Index: e.GetIndex(), Term: e.GetTerm(), Data: payload})
			runEnts = append(runEnts, e)
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			if err := flush(); err != nil {
				return err
			}
			if e.GetIndex() <= g.confTo {
				break // applied to Raft while the group was held
			}
			if err := g.applyConfChange(e); err != nil {
				return err
			}
			g.settleChange(e)
		}
		g.applied = e.GetIndex()
	}
	return flush()
}

// settle decides the proposal placed at e's index, if any: ours when the
// term matches, lost for good otherwise.
func (g *group) settle(e *raftpb.Entry, v any) {
	p := g.placed[e.GetIndex()]
	if p == nil {
		return
	}
	delete(g.placed, e.GetIndex())
	if p.term == e.GetTerm() {
		p.succeed(Result{Index: e.GetIndex(), Term: e.GetTerm(), Value: v})
	} else {
		p.fail(ErrDropped)
	}
}

func (g *group) applyConfChange(e *raftpb.Entry) error {
	var cc raftpb.ConfChangeI
	if e.GetType() == raftpb.EntryConfChange {
		c := new(raftpb.ConfChange)
		if err := proto.Unmarshal(e.GetData(), c); err != nil {
			return fmt.Errorf("raftnode: group %d: conf change %d: %w", g.id, e.GetIndex(), err)
		}
		cc = c
	} else {
		c := new(raftpb.ConfChangeV2)
		if err := proto.Unmarshal(e.GetData(), c); err != nil {
			return fmt.Errorf("raftnode: group %d: conf change %d: %w", g.id, e.GetIndex(), err)
		}
		cc = c
	}
	g.cs = g.rn.ApplyConfChange(cc)
	g.csAt = e.GetIndex()
	return nil
}

// failAll ends every proposal in flight with err.
func (g *group) failAll(err error) {
	for id, p := range g.unplaced {
		p.fail(err)
		delete(g.unplaced, id)
	}
	for idx, p := range g.placed {
		p.fail(err)
		delete(g.placed, idx)
	}
	if g.joint != nil {
		g.joint.fail(err)
		g.joint = nil
	}
}

func (g *group) status(node uint64) Status {
	st := g.rn.BasicStatus()
	s := Status{
		Group:   g.id,
		ID:      node,
		Leader:  st.Lead,
		State:   st.RaftState.String(),
		Term:    st.GetTerm(),
		Commit:  st.GetCommit(),
		Applied: g.applied,
		Members: membersOf(g.cs),
		Removed: removedFrom(g.cs, node),
	}
	if st.RaftState == raft.StateLeader {
		s.Progress = make(map[uint64]PeerProgress)
		g.rn.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
			s.Progress[id] = PeerProgress{Match: pr.Match, Next: pr.Next, State: pr.State.String(), RecentActive: pr.RecentActive}
		})
	}
	return s
}
