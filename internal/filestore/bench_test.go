package filestore

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/vfs"
)

func benchStore(b *testing.B, cfg Config) *Store {
	b.Helper()
	cfg.Logger = nopLogger
	s, err := Open(vfs.Default, filepath.Join(b.TempDir(), "s"), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAppendDurable measures acknowledged appends with sync always
// on the real filesystem: each writer appends and waits for Durable before
// the next append, as a synchronous publisher does.
func BenchmarkAppendDurable(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := benchStore(b, Config{})
			payload := make([]byte, 128)
			base := s.Syncs()
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			var next atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					done := make(chan error, 1)
					for next.Add(1) <= int64(b.N) {
						seq, err := s.Append("bench.durable", nil, payload, 0, 0)
						if err != nil {
							b.Error(err)
							return
						}
						s.Durable(seq, func(err error) { done <- err })
						if err := <-done; err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(s.Syncs()-base)/float64(b.N), "syncs/op")
		})
	}
}

// BenchmarkAppend measures appends alone (no one waiting for durability).
func BenchmarkAppend(b *testing.B) {
	s := benchStore(b, Config{})
	payload := make([]byte, 128)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := s.Append("bench.append", nil, payload, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad reads 128-byte messages from a 20,000-message store, in
// order (the cache serves blocks) and at random.
func BenchmarkLoad(b *testing.B) {
	s := benchStore(b, Config{})
	const n = 20000
	payload := make([]byte, 128)
	for i := range n {
		if _, err := s.Append(fmt.Sprintf("bench.%d", i%10), nil, payload, 0, 0); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		b.Fatal(err)
	}
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		seq := uint64(0)
		for b.Loop() {
			seq = seq%n + 1
			if _, err := s.Load(seq); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("random", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(payload)))
		rng := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			if _, err := s.Load(rng.Uint64N(n) + 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("next-filtered", func(b *testing.B) {
		b.ReportAllocs()
		seq := uint64(0)
		for b.Loop() {
			m, err := s.LoadNext("bench.3", seq+1)
			if err != nil {
				seq = 0
				continue
			}
			seq = m.Seq
		}
	})
}
