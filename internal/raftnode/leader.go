package raftnode

import (
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// LeaderWatcher is a StateMachine that wants to know when this member
// becomes or stops being its group's leader (a replicated stream's leader
// alone runs the expiry timer). LeaderChanged is called on the host's
// loop, after the Ready's committed entries were applied, and must
// return at once (it may queue proposals with ProposeAsync).
//
// term is the member's term as it changed: a new leader's first entry
// (the empty one Raft appends) carries it, and once that entry is applied
// every entry of earlier terms has been.
type LeaderWatcher interface {
	LeaderChanged(leader bool, term uint64)
}

// noteLeadership tells a LeaderWatcher state machine of a change of role.
func (g *group) noteLeadership(rd raft.Ready) {
	if rd.SoftState == nil {
		return
	}
	lead := rd.SoftState.RaftState == raft.StateLeader
	if lead == g.leading {
		return
	}
	g.leading = lead
	g.readyOwed = false
	now := time.Now()
	g.renewSoloLease(now)
	if !lead {
		g.dropLease()
	} else {
		// Asked at once, not at the next tick: Raft answers once the
		// leader's first entry is committed, so the new leader can act
		// about a round trip after it could first apply anything.
		g.askLease(now)
	}
	if w, ok := g.sm.(LeaderWatcher); ok {
		w.LeaderChanged(lead, g.term)
	}
}

// LeaderReadyWatcher is a StateMachine that wants to know when this
// member, leading, has applied the first entry of its own term: every
// entry of an earlier term is applied by then, so state the leader
// rebuilds from what it applied (a consumer's) is complete. LeaderReady
// is called on the host's loop and must return at once.
type LeaderReadyWatcher interface {
	LeaderReady()
}

// noteOwnEntry tells a LeaderReadyWatcher that the leader's empty entry of
// its term was applied (after every entry before it), once the leader
// also holds its lease: a leader that serves reads before a quorum
// confirmed it would refuse them (lease.go).
func (g *group) noteOwnEntry(e *raftpb.Entry) {
	if !g.leading || e.GetTerm() != g.term {
		return
	}
	g.readyOwed = true
	g.tellReady()
}

// tellReady tells a LeaderReadyWatcher what noteOwnEntry owes it, once the
// lease is valid.
func (g *group) tellReady() {
	if !g.readyOwed || !g.leading || !g.leaseValid() {
		return
	}
	g.readyOwed = false
	if w, ok := g.sm.(LeaderReadyWatcher); ok {
		w.LeaderReady()
	}
}
