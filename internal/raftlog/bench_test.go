package raftlog

import (
	"fmt"
	"strings"
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/vfs"
)

// BenchmarkSave measures the group commit on the operating system's file
// system (real fsyncs): one op is 64 groups appending one entry each,
// either as one batch (one sync) or as 64 saves (64 syncs).
func BenchmarkSave(b *testing.B) {
	const groups = 64
	payload := []byte(strings.Repeat("m", 128))
	for _, mode := range []string{"batch64", "separate64"} {
		b.Run(mode, func(b *testing.B) {
			l, err := Open(vfs.Default, b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.ReportAllocs()
			b.SetBytes(int64(groups * len(payload)))
			batch := make([]Update, groups)
			index := uint64(0)
			for b.Loop() {
				index++
				for g := range batch {
					batch[g] = Update{Group: uint64(g + 1), HardState: hardst(1, 1, index-1),
						Entries: []*pb.Entry{{Index: new(index), Term: new(uint64(1)), Data: payload}}}
				}
				if mode == "batch64" {
					if err := l.Save(batch); err != nil {
						b.Fatal(err)
					}
					continue
				}
				for g := range batch {
					if err := l.Save(batch[g : g+1]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*groups), "ns/entry")
		})
	}
}

// BenchmarkEntries measures raft's reads of 64 entries: from the cache of
// recent entries, and read back from the files.
func BenchmarkEntries(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"cache", 0}, {"files", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := Open(vfs.Default, b.TempDir(), Options{CacheSize: bc.cache})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			for i := uint64(1); i <= 1000; i += 100 {
				es := make([]*pb.Entry, 100)
				for j := range es {
					es[j] = ent(i+uint64(j), 1, fmt.Sprintf("%0128d", i+uint64(j)))
				}
				if err := l.Save([]Update{{Group: 1, Entries: es}}); err != nil {
					b.Fatal(err)
				}
			}
			s := l.Storage(1)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Entries(500, 564, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
