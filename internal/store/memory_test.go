package store_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return store.NewMemory() }, store.MemMsgSize)
}

// Memory promises more than the interface: Durable answers before it
// returns, on the caller's goroutine.
func TestMemoryDurableAtOnce(t *testing.T) {
	s := store.NewMemory()
	seq, err := s.Append("a", nil, []byte("x"), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	called := false
	s.Durable(seq, func(err error) { called = err == nil })
	if !called {
		t.Fatal("Durable did not call back with nil before returning")
	}
	s.Close()
	s.Durable(seq, func(err error) { called = errors.Is(err, store.ErrClosed) })
	if !called {
		t.Fatal("Durable after Close did not call back with ErrClosed")
	}
}

// The conformance model uses a handful of subjects. With hundreds of
// subjects and matches far apart, queries take the other side of every
// scan-or-index choice; compare them with a walk over Load.
func TestMemoryManySubjects(t *testing.T) {
	s := store.NewMemory()
	rng := rand.New(rand.NewPCG(7, 7))
	const n, subjects = 3000, 400
	subj := make(map[uint64]string, n)
	for range n {
		sub := fmt.Sprintf("k.%d.v", rng.IntN(subjects))
		if rng.IntN(50) == 0 {
			sub = "rare.x" // matches far apart
		}
		seq, err := s.Append(sub, nil, nil, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		subj[seq] = sub
	}
	for seq := uint64(1); seq <= n; seq++ {
		if rng.IntN(3) == 0 || seq < 200 { // a long deleted run at the front
			if ok, _ := s.Delete(seq, false); !ok {
				t.Fatalf("Delete(%d) failed", seq)
			}
			delete(subj, seq)
		}
	}
	match := func(filter, sub string) bool {
		switch filter {
		case "rare.*":
			return sub == "rare.x"
		case "k.*.v":
			return sub != "rare.x"
		case "k.7.v", "rare.x":
			return sub == filter
		}
		return true
	}
	for _, filter := range []string{">", "rare.*", "rare.x", "k.*.v", "k.7.v"} {
		for _, start := range []uint64{0, 150, 201, 1500, 2999, 3000, 3001} {
			var next, prev, pending uint64
			lastOf := map[string]bool{}
			for seq := uint64(1); seq <= n; seq++ {
				sub, ok := subj[seq]
				if !ok || !match(filter, sub) {
					continue
				}
				if seq >= start {
					pending++
					lastOf[sub] = true
					if next == 0 {
						next = seq
					}
				} else {
					prev = seq
				}
				if seq == start {
					prev = seq
				}
			}
			if got := seqOrZero(s.LoadNext(filter, start)); got != next {
				t.Errorf("LoadNext(%q, %d) = %d, want %d", filter, start, got, next)
			}
			if got := seqOrZero(s.LoadPrev(filter, start)); got != prev {
				t.Errorf("LoadPrev(%q, %d) = %d, want %d", filter, start, got, prev)
			}
			if got := s.NumPending(start, filter, false); got != pending {
				t.Errorf("NumPending(%d, %q) = %d, want %d", start, filter, got, pending)
			}
			if got := s.NumPending(start, filter, true); got != uint64(len(lastOf)) {
				t.Errorf("NumPending(%d, %q, last) = %d, want %d", start, filter, got, len(lastOf))
			}
		}
	}
}

func seqOrZero(m *store.Msg, err error) uint64 {
	if err != nil {
		return 0
	}
	return m.Seq
}

// The read paths a consumer runs per message allocate only the Msg they
// return; counting paths allocate nothing.
func TestMemoryAllocs(t *testing.T) {
	s := store.NewMemory()
	for i := range 1000 {
		if _, err := s.Append(fmt.Sprint("a.", i%10), nil, []byte("data"), 1, 0); err != nil {
			t.Fatal(err)
		}
	}
	noop := func(error) {}
	for _, tc := range []struct {
		name string
		max  float64
		fn   func()
	}{
		{"Load", 1, func() { s.Load(500) }},
		{"LoadNext literal", 1, func() { s.LoadNext("a.3", 100) }},
		{"LoadNext wildcard", 1, func() { s.LoadNext("a.*", 100) }},
		{"LoadLast literal", 1, func() { s.LoadLast("a.3") }},
		{"NumPending", 0, func() { s.NumPending(500, "a.3", false) }},
		{"State", 0, func() { s.State() }},
		{"Durable", 0, func() { s.Durable(1000, noop) }},
	} {
		if got := testing.AllocsPerRun(200, tc.fn); got > tc.max {
			t.Errorf("%s: %v allocations, want at most %v", tc.name, got, tc.max)
		}
	}
}

func BenchmarkMemoryAppend(b *testing.B) {
	for _, size := range []int{16, 128, 1024} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			s := store.NewMemory()
			hdr, data := []byte("NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n"), make([]byte, size)
			b.SetBytes(int64(len(hdr) + size))
			b.ReportAllocs()
			for i := range b.N {
				if _, err := s.Append("bench.subject", hdr, data, int64(i), 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Append with the oldest message deleted each time: a stream at its limit.
func BenchmarkMemoryAppendAtLimit(b *testing.B) {
	s := store.NewMemory()
	data := make([]byte, 128)
	const limit = 10000
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := range b.N {
		seq, err := s.Append(fmt.Sprint("bench.", i%16), nil, data, int64(i), 0)
		if err != nil {
			b.Fatal(err)
		}
		if seq > limit {
			if ok, _ := s.Delete(seq-limit, false); !ok {
				b.Fatal("delete failed")
			}
		}
	}
}

func benchStore(b *testing.B, n, subjects int) *store.Memory {
	b.Helper()
	s := store.NewMemory()
	data := make([]byte, 128)
	for i := range n {
		if _, err := s.Append(fmt.Sprint("bench.", i%subjects), nil, data, int64(i), 0); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkMemoryLoad(b *testing.B) {
	const n = 100000
	s := benchStore(b, n, 100)
	b.SetBytes(128)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Load(uint64(i%n) + 1); err != nil {
			b.Fatal(err)
		}
	}
}

// LoadNext as a filtered consumer calls it: from just after the last
// delivered message.
func BenchmarkMemoryLoadNext(b *testing.B) {
	const n = 100000
	s := benchStore(b, n, 100)
	for _, filter := range []string{">", "bench.42", "bench.*"} {
		b.Run(filter, func(b *testing.B) {
			b.ReportAllocs()
			var next uint64
			for range b.N {
				m, err := s.LoadNext(filter, next)
				if errors.Is(err, store.ErrNotFound) {
					next = 0
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				next = m.Seq + 1
			}
		})
	}
}

func BenchmarkMemoryParallel(b *testing.B) {
	s := benchStore(b, 10000, 100)
	data := make([]byte, 128)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var i uint64
		for pb.Next() {
			i++
			if i%4 == 0 {
				if _, err := s.Append("bench.p", nil, data, int64(i), 0); err != nil {
					b.Error(err)
					return
				}
			} else if _, err := s.Load(i%10000 + 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
