package raftnode

import (
	"context"
	"testing"
	"time"
)

// TestReportsNeverBlock: the transport's reports go through a bounded
// queue: far more than it holds return at once, and the loop applies
// them (to a group, and to every group with the peer) without failing.
func TestReportsNeverBlock(t *testing.T) {
	opts := DefaultOptions()
	opts.NodeID, opts.Storage, opts.Transport, opts.Ticker = 1, NewMemStorage(), dropAll{}, NewManualTicker()
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.Start()
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.AddGroup(ctx, 1, []uint64{1, 2, 3}, nopSM{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for range 3 * reportQueue {
			h.ReportUnreachable(2)
			h.ReportSnapshot(1, 3, true)
			h.ReportSnapshot(9, 3, false) // no such group
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("reports blocked")
	}
	if err := h.Err(ctx); err != nil {
		t.Fatal(err)
	}
}

type dropAll struct{}

func (dropAll) Send([]Envelope) {}
