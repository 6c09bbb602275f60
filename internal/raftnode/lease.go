package raftnode

import (
	"slices"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// A leader's lease: how long this member may act as the leader without
// hearing from a quorum again. Raft alone tells a leader it lost its
// place only when a tick shows a quorum silent (CheckQuorum), which can
// be a second late, or later still for a process that was paused and
// resumes with its old role: meanwhile another leader may have been
// elected. A leader that acts outside the log (a consumer delivering
// messages, answering acks) checks the lease first.
//
// The lease runs from when the quorum-th most recent follower answer
// arrived (this member counts as one) for four fifths of an election
// timeout:
// followers elect another leader no sooner than an election timeout
// after they last heard from this one, which was before they answered.
// It is measured on the wall clock, which, unlike the ticker, keeps
// running while the process is paused.

// LeaseUser is a StateMachine that wants to know whether its member may
// act as the leader now: UseLease hands it the check at AddGroup.
type LeaseUser interface {
	UseLease(valid func() bool)
}

// noteAnswer records a follower's answer to the leader and renews the
// lease when a quorum answered recently.
func (g *group) noteAnswer(m *raftpb.Message, now time.Time, d time.Duration) {
	switch m.GetType() {
	case raftpb.MsgAppResp, raftpb.MsgHeartbeatResp:
	default:
		return
	}
	// Only an answer of this leader's own term renews the lease: a
	// member that moved on to a later term answers an old leader's
	// heartbeat too (to make it step down), and g.leading still says
	// leader until the next Ready.
	if !g.leading || m.GetReject() || m.GetTerm() != g.term {
		return
	}
	if g.respAt == nil {
		g.respAt = map[uint64]int64{}
	}
	g.respAt[m.GetFrom()] = now.UnixNano()
	voters := g.cs.GetVoters()
	quorum := len(voters)/2 + 1
	var buf [8]int64
	times := buf[:0]
	for _, id := range voters {
		if t, ok := g.respAt[id]; ok {
			times = append(times, t)
		}
	}
	// This member counts as one answer, so the quorum-th most recent
	// answer is the (quorum-1)-th most recent of the followers.
	if quorum <= 1 {
		g.lease.Store(now.Add(d).UnixNano())
		return
	}
	if len(times) < quorum-1 {
		return
	}
	slices.Sort(times)
	at := times[len(times)-(quorum-1)]
	g.lease.Store(at + int64(d))
}

// dropLease ends the lease: the member no longer leads.
func (g *group) dropLease() {
	g.lease.Store(0)
	clear(g.respAt)
}

// leaseValid reports whether the lease runs now.
func (g *group) leaseValid() bool { return time.Now().UnixNano() < g.lease.Load() }

// renewSoloLease renews the lease of a leader that is its group's only
// voter, on every tick: nobody else could be elected, and no follower
// answers would renew it otherwise.
func (g *group) renewSoloLease(now time.Time) {
	if g.leading && len(g.cs.GetVoters()) == 1 && len(g.cs.GetVotersOutgoing()) == 0 {
		g.lease.Store(now.Add(g.leaseFor).UnixNano())
	}
}
