package raftnode

import (
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

func TestLease(t *testing.T) {
	const d = 500 * time.Millisecond
	resp := func(from uint64) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MsgHeartbeatResp.Enum(), From: new(from), Term: new(uint64(3))}
	}
	g := &group{cs: &raftpb.ConfState{Voters: []uint64{1, 2, 3, 4, 5}}, term: 3}
	now := time.Now()
	g.noteAnswer(resp(2), now, d)
	if g.leaseValid() {
		t.Fatal("a follower's answer renewed the lease of a member that does not lead")
	}
	g.leading = true
	g.noteAnswer(resp(2), now.Add(-time.Second), d)
	if g.leaseValid() {
		t.Fatal("one answer of four followers makes no quorum of five")
	}
	g.noteAnswer(resp(3), now, d)
	// Quorum of five: this member and two followers; the older of the
	// two answers (a second ago) bounds the lease, which has run out.
	if g.leaseValid() {
		t.Fatal("lease from an answer a second old")
	}
	g.noteAnswer(resp(2), now, d)
	if !g.leaseValid() {
		t.Fatal("two fresh answers of five voters: the lease runs")
	}
	g.dropLease()
	if g.leaseValid() {
		t.Fatal("lease kept after leadership was lost")
	}
	// Members of a later term answer this leader's heartbeats to make it
	// step down: those answers renew nothing.
	for _, from := range []uint64{2, 3, 4} {
		later := resp(from)
		later.Term = new(uint64(4))
		g.noteAnswer(later, now, d)
	}
	if g.leaseValid() {
		t.Fatal("answers of a later term renewed the lease")
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
