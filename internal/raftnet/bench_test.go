package raftnet

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkTransport measures messages per second from one server to
// another over loopback TCP, each Send carrying one message for each of 64
// groups, as a raft loop's iteration would.
func BenchmarkTransport(b *testing.B) {
	for _, bc := range []struct {
		name  string
		entry int
	}{{"heartbeats", 0}, {"append128B", 128}} {
		b.Run(bc.name, func(b *testing.B) { benchTransport(b, bc.entry) })
	}
}

func benchTransport(b *testing.B, entry int) {
	const groups = 64
	var got atomic.Uint64
	dst := startBenchNode(b, 2, func(msgs []Envelope) { got.Add(uint64(len(msgs))) })
	src := startBenchNode(b, 1, func([]Envelope) {})
	if err := src.AddPeer(2, dst.addr); err != nil {
		b.Fatal(err)
	}
	waitFor(b, func() bool { s, _ := src.PeerStats(2); return s.Connected })

	batch := make([]Envelope, groups)
	for g := range batch {
		typ := raftpb.MsgHeartbeat
		var data [][]byte
		if entry > 0 {
			typ = raftpb.MsgApp
			data = [][]byte{make([]byte, entry)}
		}
		batch[g] = Envelope{Group: uint64(g), Msg: msg(typ, 1, 2, 5, data...)}
	}
	queueLen := src.opts.QueueLen
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		// Pace to the writer: the benchmark measures throughput, not
		// drops.
		for {
			s, _ := src.PeerStats(2)
			if s.QueueDepth < queueLen/2 {
				break
			}
			runtime.Gosched()
		}
		src.Send(batch)
	}
	s, _ := src.PeerStats(2)
	want := uint64(b.N)*groups - s.Dropped
	waitFor(b, func() bool { return got.Load() >= want })
	elapsed := time.Since(start)
	b.StopTimer()
	s, _ = src.PeerStats(2)
	b.ReportMetric(float64(got.Load())/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(s.Sent)/float64(max(s.Frames, 1)), "msgs/frame")
	b.ReportMetric(float64(s.Dropped), "dropped")
}

type benchNode struct {
	*Transport
	addr string
}

// startBenchNode is startNode for benchmarks, with default options.
func startBenchNode(b *testing.B, id uint64, h func([]Envelope)) benchNode {
	ln := newServedListener(b, "")
	tr, err := New(Options{NodeID: id, Handler: h})
	if err != nil {
		b.Fatal(err)
	}
	ln.serve(tr)
	b.Cleanup(func() { ln.close(); tr.Close() })
	return benchNode{tr, ln.ln.Addr().String()}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met within 30s")
		}
		time.Sleep(time.Millisecond)
	}
}
