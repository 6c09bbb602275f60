package raftnode

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// wholeKV is a key-value state machine that cannot snapshot: members
// added to its group can only catch up by replaying the log.
type wholeKV struct{ *lockedKV }

func (wholeKV) KeepsWholeLog() {}

func (wholeKV) Snapshot() ([]byte, error) { return nil, errors.New("no snapshots") }

// A whole-log group founded by one member grows to three members that
// start empty and replay its log from the first entry, then shrinks
// back to one of the new members, which keeps taking writes.
func TestHostWholeLogMembers(t *testing.T) {
	ctx := context.Background()
	net := &hostNet{hosts: map[uint64]*Host{}}
	const g = 9
	var (
		hosts   []*Host
		tickers []*ManualTicker
		sms     []wholeKV
	)
	for id := uint64(1); id <= 3; id++ {
		h, tk := startNetHost(t, net, id)
		defer h.Close()
		hosts, tickers = append(hosts, h), append(tickers, tk)
		sms = append(sms, wholeKV{&lockedKV{kv: newKV()}})
	}
	if err := hosts[0].AddGroup(ctx, g, []uint64{1}, sms[0]); err != nil {
		t.Fatal(err)
	}
	isLeader := func(h *Host) bool {
		st, err := h.Status(ctx, g)
		return err == nil && st.State == raft.StateLeader.String()
	}
	eventually(t, "host 1 leads", tickers, func() bool { return isLeader(hosts[0]) })
	for i := range 20 {
		putCommitted(t, hosts[0], g, tickers, kvOp{Op: "put", K: "k" + string(rune('a'+i)), V: "before"})
	}
	for _, id := range []uint64{2, 3} {
		if err := hosts[id-1].AddGroup(ctx, g, nil, sms[id-1]); err != nil {
			t.Fatal(err)
		}
		changeCommitted(t, hosts[0], g, tickers, []uint64{id}, nil)
	}
	for i, sm := range sms[1:] {
		eventually(t, "a new member replayed the log", tickers, func() bool {
			st, err := hosts[i+1].Status(ctx, g)
			return sm.get("ka") == "before" && sm.get("kt") == "before" &&
				err == nil && slices.Equal(st.Members.Voters, []uint64{1, 2, 3})
		})
	}
	changeCommitted(t, hosts[0], g, tickers, nil, []uint64{3})
	changeCommitted(t, hosts[0], g, tickers, nil, []uint64{1})
	eventually(t, "host 2 leads", tickers, func() bool { return isLeader(hosts[1]) })
	putCommitted(t, hosts[1], g, tickers, kvOp{Op: "put", K: "ka", V: "after"})
	if got := sms[1].get("ka"); got != "after" {
		t.Fatalf("host 2 reads %q", got)
	}
}

// A heartbeat that commits past the end of a member's saved log means the
// log lost entries the member had acknowledged: the member stops the
// group instead of letting Raft panic, and the group can then be removed
// from its log (to be added back with an empty one).
func TestHostLostAcknowledged(t *testing.T) {
	ctx := context.Background()
	net := &hostNet{hosts: map[uint64]*Host{}}
	h, _ := startNetHost(t, net, 1)
	defer h.Close()
	const g = 4
	if err := h.AddGroup(ctx, g, []uint64{1, 2}, wholeKV{&lockedKV{kv: newKV()}}); err != nil {
		t.Fatal(err)
	}
	hb := &raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: new(uint64(2)), To: new(uint64(1)), Term: new(uint64(5)), Commit: new(uint64(100))}
	h.Step([]Envelope{{Group: g, Msg: hb}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := h.Status(ctx, g)
		if errors.Is(err, ErrLogLost) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the group still runs: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.RemoveGroup(ctx, g); err != nil {
		t.Fatalf("removing the stopped group: %v", err)
	}
}
