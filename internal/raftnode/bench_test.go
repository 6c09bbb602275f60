package raftnode

import (
	"fmt"
	"testing"
)

type nopTransport struct{}

func (nopTransport) Send([]Envelope) {}

type nopSM struct{}

func (nopSM) Apply(ents []Entry) ([]any, error) { return make([]any, len(ents)), nil }
func (nopSM) Snapshot() ([]byte, error)         { return nil, nil }
func (nopSM) Restore([]byte) error              { return nil }

// BenchmarkProcess: one iteration of the loop over single-member groups,
// each with one proposal of 128 bytes; the storage is in memory, so this
// is the loop's own cost per group and entry.
func BenchmarkProcess(b *testing.B) {
	for _, groups := range []int{1, 64} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			opts := DefaultOptions()
			opts.NodeID = 1
			opts.Storage = NewMemStorage()
			opts.Transport = nopTransport{}
			opts.Logger = discardLogger()
			opts.SnapshotEntries = 1000
			e := newEngine(opts)
			for g := uint64(1); g <= uint64(groups); g++ {
				if err := e.addGroup(g, []uint64{1}, nopSM{}); err != nil {
					b.Fatal(err)
				}
				if err := e.campaign(g); err != nil {
					b.Fatal(err)
				}
			}
			for range 3 {
				if err := e.process(); err != nil {
					b.Fatal(err)
				}
			}
			data := make([]byte, 128)
			b.ReportAllocs()
			b.SetBytes(int64(groups * len(data)))
			b.ResetTimer()
			for b.Loop() {
				for g := uint64(1); g <= uint64(groups); g++ {
					if _, err := e.propose(g, data); err != nil {
						b.Fatal(err)
					}
				}
				if err := e.process(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
