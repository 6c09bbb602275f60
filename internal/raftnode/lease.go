package raftnode

import (
	"encoding/binary"
	"time"

	"go.etcd.io/raft/v3"
)

// A leader's lease: how long this member may act as the leader without
// hearing from a quorum again. Raft alone tells a leader it lost its
// place only when a tick shows a quorum silent (CheckQuorum), which can
// be a second late, or later still for a process that was paused and
// resumes with its old role: meanwhile another leader may have been
// elected. A leader that acts outside the log (a consumer delivering
// messages, answering acks) checks the lease first.
//
// The lease runs from when the leader asked a question a quorum then
// answered, for four fifths of an election timeout. At every tick a
// leader asks Raft for a read index (RawNode.ReadIndex) with the time of
// asking as the request's context: Raft sends it with a heartbeat to
// every follower and reports it back (a ReadState) once a quorum answered
// that heartbeat. Each of them heard from this leader at or after that
// time, and elects another no sooner than an election timeout after it
// last heard from it. The lease counts from the question, not from when
// the answers are read: a process paused with answers waiting in its
// socket buffers reads them late, and they must not extend its lease past
// what their question allows (another leader may have been elected in
// the meantime). It is measured on the wall clock, which, unlike the
// ticker, keeps running while the process is paused.

// LeaseUser is a StateMachine that wants to know whether its member may
// act as the leader now: UseLease hands it the check at AddGroup.
type LeaseUser interface {
	UseLease(valid func() bool)
}

// askLease asks a quorum to confirm this leader, on a leader's tick.
func (g *group) askLease(now time.Time) {
	if !g.leading || g.solo() {
		return
	}
	g.leaseAsks++
	var ctx [16]byte
	binary.LittleEndian.PutUint64(ctx[:8], uint64(now.UnixNano()))
	binary.LittleEndian.PutUint64(ctx[8:], g.leaseAsks)
	g.rn.ReadIndex(ctx[:])
}

// noteReadStates renews the lease from the questions a quorum answered.
func (g *group) noteReadStates(rs []raft.ReadState) {
	if !g.leading {
		return
	}
	for _, r := range rs {
		if len(r.RequestCtx) != 16 {
			continue
		}
		until := int64(binary.LittleEndian.Uint64(r.RequestCtx)) + int64(g.leaseFor)
		if until > g.lease.Load() {
			g.lease.Store(until)
		}
	}
	g.tellReady()
}

// dropLease ends the lease: the member no longer leads.
func (g *group) dropLease() { g.lease.Store(0) }

// leaseValid reports whether the lease runs now.
func (g *group) leaseValid() bool { return time.Now().UnixNano() < g.lease.Load() }

// renewSoloLease renews the lease of a leader that is its group's only
// voter, on every tick: nobody else could be elected, and no follower
// answers would renew it otherwise.
func (g *group) renewSoloLease(now time.Time) {
	if g.leading && g.solo() {
		g.lease.Store(now.Add(g.leaseFor).UnixNano())
	}
}

// solo reports whether this member is its group's only voter.
func (g *group) solo() bool {
	return len(g.cs.GetVoters()) == 1 && len(g.cs.GetVotersOutgoing()) == 0
}
