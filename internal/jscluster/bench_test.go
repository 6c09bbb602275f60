package jscluster

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
	"github.com/starling-mq/starling/internal/vfs"
)

// BenchmarkStreamGroup measures replicated publishes on a three-replica
// stream over three servers' cluster ports on loopback, each server with
// its durable Raft log on disk (one fsync per batch), 128-byte messages,
// 256 publishers in flight: the rate at which publishes are acknowledged
// after a quorum synced them.
func BenchmarkStreamGroup(b *testing.B) {
	base := b.TempDir()
	names := []string{"b1", "b2", "b3"}
	nodes, peers := startNodesWith(b, func(i int) raftnode.Storage {
		l, err := raftlog.Open(vfs.Default, filepath.Join(base, names[i]), raftlog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = l.Close() })
		return &LogStorage{Log: l}
	}, names...)
	cfg := jsapi.StreamConfig{Name: "B", Subjects: []string{"b.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1}
	groups := make([]*StreamGroup, len(nodes))
	for i, n := range nodes {
		s, err := stream.New(cfg, stream.Options{Store: store.NewMemory(), Out: noAcks{}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		if groups[i], err = n.JoinStream(context.Background(), 200, peers, s, StreamHooks{}); err != nil {
			b.Fatal(err)
		}
	}
	leader := leaderOf(b, nodes, 200)
	var lg *StreamGroup
	for i, n := range nodes {
		if n == leader {
			lg = groups[i]
		}
	}
	msg := make([]byte, 128)
	const inFlight = 256
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				ans, err := lg.Publish(ctx, "b.x", nil, msg)
				cancel()
				if err != nil || ans.Err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d publishes failed", n)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
