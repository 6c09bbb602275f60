package raftnode

import (
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Membership changes (see doc.go, "Membership"): the leader proposes one
// ConfChangeV2 at a time; its Context carries the proposal id the way a
// normal entry's header does, so the proposer recognises its entry.

// membersOf lists a configuration, sorted.
func membersOf(cs *raftpb.ConfState) Members {
	sorted := func(ids []uint64) []uint64 {
		if len(ids) == 0 {
			return nil
		}
		out := slices.Clone(ids)
		slices.Sort(out)
		return out
	}
	return Members{
		Voters:   sorted(cs.GetVoters()),
		Outgoing: sorted(cs.GetVotersOutgoing()),
		Learners: sorted(cs.GetLearners()),
	}
}

// removedFrom reports whether a configuration that names members leaves
// node out. An empty one is a joining member's: not removed, waiting.
func removedFrom(cs *raftpb.ConfState, node uint64) bool {
	if len(cs.GetVoters()) == 0 && len(cs.GetVotersOutgoing()) == 0 {
		return false
	}
	for _, set := range [][]uint64{cs.GetVoters(), cs.GetVotersOutgoing(), cs.GetLearners()} {
		if slices.Contains(set, node) {
			return false
		}
	}
	return true
}

// isVoter reports whether node votes in the configuration as of applied.
func (g *group) isVoter(node uint64) bool {
	return slices.Contains(g.cs.GetVoters(), node) || slices.Contains(g.cs.GetVotersOutgoing(), node)
}

// validateChange checks a change against the current configuration, so
// the caller hears why at once instead of Raft ignoring it. add makes
// voters (a learner added is promoted), learn adds learners, remove takes
// voters or learners out.
func validateChange(cs *raftpb.ConfState, add, remove, learn []uint64) error {
	if len(add)+len(remove)+len(learn) == 0 {
		return fmt.Errorf("%w: no node named", ErrBadChange)
	}
	voters, learners := cs.GetVoters(), cs.GetLearners()
	for _, n := range add {
		switch {
		case n == 0:
			return fmt.Errorf("%w: node 0", ErrBadChange)
		case slices.Contains(voters, n):
			return fmt.Errorf("%w: %d is already a voter", ErrBadChange, n)
		case slices.Contains(remove, n), slices.Contains(learn, n):
			return fmt.Errorf("%w: %d named twice", ErrBadChange, n)
		}
	}
	for _, n := range learn {
		switch {
		case n == 0:
			return fmt.Errorf("%w: node 0", ErrBadChange)
		case slices.Contains(voters, n), slices.Contains(learners, n):
			return fmt.Errorf("%w: %d is already a member", ErrBadChange, n)
		case slices.Contains(remove, n):
			return fmt.Errorf("%w: %d named twice", ErrBadChange, n)
		}
	}
	gone := 0
	for _, n := range remove {
		switch {
		case slices.Contains(voters, n):
			gone++
		case slices.Contains(learners, n):
		default:
			return fmt.Errorf("%w: %d is not a member", ErrBadChange, n)
		}
	}
	if len(voters)-gone+len(add) == 0 {
		return fmt.Errorf("%w: no voter would be left", ErrBadChange)
	}
	return nil
}

// changeBlocked says why Raft would ignore a conf change now, mirroring
// its own rule (raft.go, stepLeader): Raft does not refuse such a change
// with an error but appends an empty entry in its place, which would
// leave the proposal unknown instead of refused.
func (g *group) changeBlocked() error {
	if g.change != nil && !isSettled(g.change) {
		return fmt.Errorf("%w: the last change has not been applied yet", ErrChangePending)
	}
	if len(g.cs.GetVotersOutgoing()) > 0 {
		return fmt.Errorf("%w: the group is leaving a joint configuration", ErrChangePending)
	}
	// A new leader treats every entry it inherited as a possible change,
	// until it has applied an entry of its own term.
	term, err := g.log.Term(g.applied)
	if err != nil || term != g.rn.BasicStatus().GetTerm() {
		return fmt.Errorf("%w: the new leader has not applied an entry of its term yet", ErrChangePending)
	}
	return nil
}

// proposeChange proposes adding and removing voters in one change. One
// voter changed goes through Raft's one-step change; more go through
// joint consensus, left automatically once entered, and the proposal
// settles only when the group has left it.
func (g *group) proposeChange(id uint64, add, remove, learn []uint64, maxPending int) (*Proposal, error) {
	st := g.rn.BasicStatus()
	if st.RaftState != raft.StateLeader {
		return nil, &NotLeaderError{Group: g.id, Leader: st.Lead}
	}
	if err := validateChange(g.cs, add, remove, learn); err != nil {
		return nil, err
	}
	if err := g.changeBlocked(); err != nil {
		return nil, err
	}
	if g.pending() >= maxPending {
		return nil, ErrBusy
	}
	cc := &raftpb.ConfChangeV2{Context: encodeEntry(id, nil)}
	for _, n := range add {
		cc.Changes = append(cc.Changes, &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddNode.Enum(), NodeId: new(n)})
	}
	for _, n := range remove {
		cc.Changes = append(cc.Changes, &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeRemoveNode.Enum(), NodeId: new(n)})
	}
	for _, n := range learn {
		cc.Changes = append(cc.Changes, &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: new(n)})
	}
	if err := g.rn.ProposeConfChange(cc); err != nil {
		if errors.Is(err, raft.ErrProposalDropped) {
			return nil, ErrDropped
		}
		return nil, err
	}
	p := newProposal(id, st.GetTerm())
	g.unplaced[id] = p
	g.change = p
	return p, nil
}

// proposalID returns the proposal id an entry carries, if any.
func proposalID(e *raftpb.Entry) (uint64, bool) {
	var ctx []byte
	switch e.GetType() {
	case raftpb.EntryNormal:
		ctx = e.GetData()
	case raftpb.EntryConfChangeV2:
		if len(e.GetData()) == 0 {
			return 0, false // Raft's own entry leaving a joint configuration
		}
		cc := new(raftpb.ConfChangeV2)
		if proto.Unmarshal(e.GetData(), cc) != nil {
			return 0, false
		}
		ctx = cc.GetContext()
	default:
		return 0, false
	}
	if len(ctx) == 0 {
		return 0, false
	}
	id, _, err := decodeEntry(ctx)
	return id, err == nil
}

// settleChange runs after a conf change entry was applied. A proposal
// whose change entered a joint configuration waits for the group to leave
// it; any applied change that leaves one completes the waiting proposal.
func (g *group) settleChange(e *raftpb.Entry) {
	joint := len(g.cs.GetVotersOutgoing()) > 0
	if p := g.placed[e.GetIndex()]; p != nil && joint && p.term == e.GetTerm() {
		delete(g.placed, e.GetIndex())
		g.joint, g.jointAt = p, Result{Index: e.GetIndex(), Term: e.GetTerm()}
	} else {
		g.settle(e, membersOf(g.cs))
	}
	if !joint {
		g.leftJoint()
	}
}

// leftJoint completes the proposal waiting for the group to leave a joint
// configuration, once it has.
func (g *group) leftJoint() {
	if g.joint == nil || len(g.cs.GetVotersOutgoing()) > 0 {
		return
	}
	r := g.jointAt
	r.Value = membersOf(g.cs)
	g.joint.succeed(r)
	g.joint = nil
}

func isSettled(p *Proposal) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
