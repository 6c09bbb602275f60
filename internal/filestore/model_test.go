package filestore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// TestModel drives the store with random operations, small segments (so
// rolling, removal and rewrites all happen) and periodic reopens, and
// compares every read with the reference model after each step.
func TestModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"sync-always", Config{SegmentSize: 1024}},
		{"interval-s2", Config{SegmentSize: 2048, SyncInterval: 1 << 40, Compression: "s2", CacheBytes: -1}},
		{"tiny-cache", Config{SegmentSize: 600, CacheBytes: blockSize, IndexBytes: 1}},
	} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("%s/%d", tc.name, seed), func(t *testing.T) {
				runModel(t, tc.cfg, seed, 300)
			})
		}
	}
}

var modelSubjects = []string{"a", "b", "c.x", "c.y", "d.x.1", "d.y.2"}
var modelFilters = []string{">", "a", "c.*", "d.>", "*.x", "none"}

func runModel(t *testing.T, cfg Config, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, cfg)
	defer func() { s.Close() }()
	m := newModel()
	ts := int64(1e18)
	payload := func() []byte {
		b := make([]byte, rng.IntN(200))
		for i := range b {
			b[i] = byte('a' + rng.IntN(3)) // compressible
		}
		return b
	}
	for step := range steps {
		ts += int64(rng.IntN(1000))
		var op string
		switch r := rng.IntN(100); {
		case r < 55:
			subj := modelSubjects[rng.IntN(len(modelSubjects))]
			var hdr []byte
			if rng.IntN(3) == 0 {
				hdr = []byte("NATS/1.0\r\nK: v\r\n\r\n")
			}
			data := payload()
			ttl := int64(0)
			if rng.IntN(5) == 0 {
				ttl = int64(rng.IntN(1e9) + 1)
			}
			op = fmt.Sprintf("append %s", subj)
			seq, err := s.Append(subj, hdr, data, ts, ttl)
			if err != nil {
				t.Fatal(err)
			}
			if want := m.append(subj, hdr, data, ts, ttl); seq != want {
				t.Fatalf("step %d: Append = %d, want %d", step, seq, want)
			}
		case r < 58:
			op = "skip"
			seq, err := s.Skip()
			m.last++
			if err != nil || seq != m.last {
				t.Fatalf("step %d: Skip = %d, %v; want %d", step, seq, err, m.last)
			}
		case r < 78:
			q := m.first() + uint64(rng.IntN(int(m.last-m.first()+3)))
			erase := rng.IntN(4) == 0
			op = fmt.Sprintf("delete %d erase=%v", q, erase)
			ok, err := s.Delete(q, erase)
			if err != nil {
				t.Fatal(err)
			}
			_, want := m.msgs[q]
			delete(m.msgs, q)
			if ok != want {
				t.Fatalf("step %d: Delete(%d) = %v, want %v", step, q, ok, want)
			}
		case r < 84:
			req := store.PurgeRequest{Subject: modelFilters[rng.IntN(len(modelFilters))]}
			switch rng.IntN(4) {
			case 0:
				req.Keep = uint64(rng.IntN(4))
			case 1:
				req.Seq = m.first() + uint64(rng.IntN(int(m.last-m.first()+2)))
			}
			if rng.IntN(8) == 0 {
				req = store.PurgeRequest{}
			}
			op = fmt.Sprintf("purge %+v", req)
			n, err := s.Purge(req)
			if err != nil {
				t.Fatal(err)
			}
			if want := m.purge(req); n != want {
				t.Fatalf("step %d: %s = %d, want %d", step, op, n, want)
			}
		case r < 88:
			q := m.first() + uint64(rng.IntN(int(m.last-m.first()+4)))
			if rng.IntN(6) == 0 {
				q = m.last + 1 + uint64(rng.IntN(20))
			}
			op = fmt.Sprintf("compact %d", q)
			n, err := s.Compact(q)
			if err != nil {
				t.Fatal(err)
			}
			if want := m.compact(q); n != want {
				t.Fatalf("step %d: Compact(%d) = %d, want %d", step, q, n, want)
			}
		case r < 93:
			op = "reopen"
			mustClose(t, s)
			s = mustOpen(t, fsys, cfg)
		case r < 96:
			op = "crash after sync"
			mustSync(t, s)
			crashed := fsys.CrashClone()
			s.Close()
			fsys = crashed
			s = mustOpen(t, fsys, cfg)
		default:
			op = "wait for maintenance"
			s.waitMaintenance()
		}
		t.Logf("step %d: %s", step, op)
		m.check(t, s, modelFilters)
	}
	t.Logf("stats %+v", s.Stats())
	if lost := s.State().Lost; len(lost.Msgs) != 0 {
		t.Fatalf("lost %v", lost)
	}
}
