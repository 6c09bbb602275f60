package raftnode

import (
	"encoding/binary"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// readState is what Raft reports once a quorum answered the lease
// question asked at asked.
func readState(asked time.Time, n uint64) raft.ReadState {
	var ctx [16]byte
	binary.LittleEndian.PutUint64(ctx[:8], uint64(asked.UnixNano()))
	binary.LittleEndian.PutUint64(ctx[8:], n)
	return raft.ReadState{RequestCtx: ctx[:]}
}

// The lease runs from when the confirmed question was asked: answers
// read late (a process paused with them in its buffers) to a question
// asked before the pause do not make it valid.
func TestLease(t *testing.T) {
	const d = 500 * time.Millisecond
	now := time.Now()
	g := &group{cs: &raftpb.ConfState{Voters: []uint64{1, 2, 3}}, leaseFor: d}
	g.noteReadStates([]raft.ReadState{readState(now, 1)})
	if g.leaseValid() {
		t.Fatal("a confirmation renewed the lease of a member that does not lead")
	}
	g.leading = true
	g.noteReadStates([]raft.ReadState{readState(now.Add(-time.Second), 2)})
	if g.leaseValid() {
		t.Fatal("a question asked a second ago, confirmed now, gave a lease")
	}
	g.noteReadStates([]raft.ReadState{readState(now, 3), {RequestCtx: []byte("other")}})
	if !g.leaseValid() {
		t.Fatal("a question asked now and confirmed: the lease runs")
	}
	g.noteReadStates([]raft.ReadState{readState(now.Add(-time.Second), 4)})
	if !g.leaseValid() {
		t.Fatal("an older confirmation shortened the lease")
	}
	g.dropLease()
	if g.leaseValid() {
		t.Fatal("lease kept after leadership was lost")
	}
}

// The only voter of a group holds the lease while it leads: nobody else
// can be elected, and no follower answers would renew it.
func TestSoloLease(t *testing.T) {
	now := time.Now()
	tests := []struct {
		cs      *raftpb.ConfState
		leading bool
		want    bool
	}{
		{&raftpb.ConfState{Voters: []uint64{1}}, true, true},
		{&raftpb.ConfState{Voters: []uint64{1}}, false, false},
		{&raftpb.ConfState{Voters: []uint64{1, 2}}, true, false},
		{&raftpb.ConfState{Voters: []uint64{1}, VotersOutgoing: []uint64{1, 2, 3}}, true, false},
	}
	for i, tt := range tests {
		g := &group{cs: tt.cs, leading: tt.leading, leaseFor: time.Minute}
		g.renewSoloLease(now)
		if got := g.leaseValid(); got != tt.want {
			t.Errorf("%d: lease %v, want %v", i, got, tt.want)
		}
	}
}
