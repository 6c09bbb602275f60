package raftnode

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
)

// Through the Host API: a one-member group takes a second member that
// starts empty (AddGroup with no peers), then the first member removes
// itself and the second leads alone.
func TestHostMembers(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	ctx := context.Background()
	net := &hostNet{hosts: map[uint64]*Host{}}
	const g = 5
	var (
		hosts   []*Host
		tickers []*ManualTicker
		sms     []*lockedKV
	)
	for id := uint64(1); id <= 2; id++ {
		h, tk := startNetHost(t, net, id)
		defer h.Close()
		hosts, tickers = append(hosts, h), append(tickers, tk)
		sms = append(sms, &lockedKV{kv: newKV()})
	}
	h1, h2 := hosts[0], hosts[1]
	if err := h1.AddGroup(ctx, g, []uint64{1}, sms[0]); err != nil {
		t.Fatal(err)
	}
	if err := h2.AddGroup(ctx, g, nil, sms[1]); err != nil {
		t.Fatal(err)
	}
	isLeader := func(h *Host) bool {
		st, err := h.Status(ctx, g)
		return err == nil && st.State == raft.StateLeader.String()
	}
	eventually(t, "host 1 leads", tickers, func() bool { return isLeader(h1) })
	putCommitted(t, h1, g, tickers, kvOp{Op: "put", K: "x", V: "before"})

	var p *Proposal
	eventually(t, "add member 2 accepted", tickers, func() bool {
		var err error
		p, err = h1.AddMember(ctx, g, 2)
		return err == nil
	})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// Host 2 gets the leader's snapshot once the add applies; from then
	// on the group needs both members to commit.
	eventually(t, "the add settles", tickers, func() bool { return isSettled(p) })
	r, err := p.Wait(wctx)
	if err != nil || !slices.Equal(r.Value.(Members).Voters, []uint64{1, 2}) {
		t.Fatalf("add member 2: %+v %v", r, err)
	}
	eventually(t, "host 2 has the value", tickers, func() bool { return sms[1].get("x") == "before" })
	st, err := h2.Status(ctx, g)
	if err != nil || !slices.Equal(st.Members.Voters, []uint64{1, 2}) || st.Removed {
		t.Fatalf("host 2 status: %+v %v", st, err)
	}

	var rm *Proposal
	eventually(t, "remove member 1 accepted", tickers, func() bool {
		rm, err = h1.RemoveMember(ctx, g, 1)
		return err == nil
	})
	eventually(t, "the removal settles", tickers, func() bool { return isSettled(rm) })
	if _, err := rm.Wait(wctx); err != nil {
		t.Fatalf("remove member 1: %v", err)
	}
	eventually(t, "host 2 leads", tickers, func() bool { return isLeader(h2) })
	st, err = h1.Status(ctx, g)
	if err != nil || !st.Removed || st.State == raft.StateLeader.String() {
		t.Fatalf("removed host 1: %+v %v", st, err)
	}
	if _, err := h1.Propose(ctx, g, mustJSON(kvOp{Op: "put", K: "x", V: "no"})); err == nil {
		t.Fatal("the removed member accepted a proposal")
	}
	if err := h1.RemoveGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	putCommitted(t, h2, g, tickers, kvOp{Op: "put", K: "x", V: "after"})

	for _, h := range hosts {
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "goroutines gone", nil, func() bool { return runtime.NumGoroutine() <= goroutines })
}
