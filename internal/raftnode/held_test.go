package raftnode

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"go.etcd.io/raft/v3"
)

// durableKV is a whole-log state machine whose state counts as durable
// at once, so its host compacts the log every few entries; a snapshot
// from the leader is not installed at once but kept, as a stream keeps
// the range of messages it must fetch, until the test installs it.
type durableKV struct {
	*lockedKV
	every uint64

	mu      sync.Mutex
	last    uint64 // index of the last applied entry
	durable uint64 // what DurableSnapshot last reported
	pending []byte // a received snapshot, not yet installed
}

func (*durableKV) KeepsWholeLog() {}

func (d *durableKV) Apply(ents []Entry) ([]any, error) {
	out, err := d.lockedKV.Apply(ents)
	if err == nil && len(ents) > 0 {
		d.mu.Lock()
		d.last = ents[len(ents)-1].Index
		d.mu.Unlock()
	}
	return out, err
}

func (d *durableKV) DurableSnapshot() (uint64, []byte, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last < d.durable+d.every {
		return 0, nil, false, nil
	}
	d.durable = d.last
	data, err := d.lockedKV.Snapshot()
	return d.durable, data, true, err
}

func (d *durableKV) Received(data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending = data
	return ErrFetching
}

// install takes the snapshot the member was sent, as a fetch would.
func (d *durableKV) install() (bool, error) {
	d.mu.Lock()
	data := d.pending
	d.pending = nil
	d.mu.Unlock()
	if data == nil {
		return false, nil
	}
	var kv kvSM
	if err := json.Unmarshal(data, &kv); err != nil {
		return false, err
	}
	d.mu.Lock()
	if n := len(kv.Hist); n > 0 {
		d.last = kv.Hist[n-1].Index
	}
	d.mu.Unlock()
	return true, d.lockedKV.Restore(data)
}

// A member added after the leader compacted its log gets a snapshot; its
// state machine fetches what it names (here: the test installs it), and
// the entries committed meanwhile wait in its log, applied once, in
// order, after Resume. While it holds them it does not take leadership.
func TestHostHeldEntriesAfterSnapshot(t *testing.T) {
	ctx := context.Background()
	net := &hostNet{hosts: map[uint64]*Host{}}
	const g = 11
	var (
		hosts   []*Host
		tickers []*ManualTicker
		sms     []*durableKV
	)
	for id := uint64(1); id <= 2; id++ {
		h, tk := startNetHost(t, net, id)
		defer h.Close()
		hosts, tickers = append(hosts, h), append(tickers, tk)
		sms = append(sms, &durableKV{lockedKV: &lockedKV{kv: newKV()}, every: 4})
	}
	if err := hosts[0].AddGroup(ctx, g, []uint64{1}, sms[0]); err != nil {
		t.Fatal(err)
	}
	status := func(h *Host) Status {
		st, _ := h.Status(ctx, g)
		return st
	}
	eventually(t, "host 1 leads", tickers, func() bool { return status(hosts[0]).State == raft.StateLeader.String() })
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		putCommitted(t, hosts[0], g, tickers, kvOp{Op: "put", K: k, V: "before"})
	}
	if err := hosts[1].AddGroup(ctx, g, nil, sms[1]); err != nil {
		t.Fatal(err)
	}
	changeCommitted(t, hosts[0], g, tickers, []uint64{2}, nil)
	eventually(t, "host 2 received a snapshot", tickers, func() bool {
		sms[1].mu.Lock()
		defer sms[1].mu.Unlock()
		return sms[1].pending != nil
	})
	putCommitted(t, hosts[0], g, tickers, kvOp{Op: "put", K: "k", V: "held"})
	eventually(t, "host 2 holds the put", tickers, func() bool {
		st := status(hosts[1])
		return st.Commit > st.Applied && sms[1].get("k") == ""
	})
	// Nothing applied yet: it must not stand for election either. Only
	// its clock runs, so it hears no leader for three election timeouts;
	// each tick is taken before the next, so the check below sees them.
	for range 3 * DefaultOptions().ElectionTicks {
		tickers[1].Tick()
		eventually(t, "the tick taken", nil, func() bool { return tickers[1].Pending() == 0 })
	}
	if st := status(hosts[1]); st.State != raft.StateFollower.String() {
		t.Fatalf("a holding member campaigned: %s", st.State)
	}
	if ok, err := sms[1].install(); !ok || err != nil {
		t.Fatalf("install: %v %v", ok, err)
	}
	if err := hosts[1].Resume(ctx, g); err != nil {
		t.Fatal(err)
	}
	eventually(t, "host 2 applied the held put", tickers, func() bool {
		return sms[1].get("k") == "held" && sms[1].get("a") == "before"
	})
	putCommitted(t, hosts[0], g, tickers, kvOp{Op: "put", K: "l", V: "after"})
	eventually(t, "host 2 applies new entries", tickers, func() bool { return sms[1].get("l") == "after" })
}
