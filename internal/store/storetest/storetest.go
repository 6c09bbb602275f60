// Package storetest is the conformance suite every store.Store
// implementation runs, so memory and file streams behave the same: same
// sequences, same first/last after deletes and purges, same filtering.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/starling-mq/starling/internal/store"
)

// Run runs the suite; open returns a fresh, empty store for each subtest,
// and size is the store's byte accounting (store.MemMsgSize or
// store.FileMsgSize).
func Run(t *testing.T, open func(t *testing.T) store.Store, size func(subject string, hdr, data []byte) uint64) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, size func(string, []byte, []byte) uint64)
	}{
		{"AppendLoad", testAppendLoad},
		{"Durable", testDurable},
		{"Filters", testFilters},
		{"Delete", testDelete},
		{"Purge", testPurge},
		{"Compact", testCompact},
		{"SkipAndState", testSkip},
		{"Concurrent", testConcurrent},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t), size) })
	}
}

func appendN(t *testing.T, s store.Store, subjects ...string) {
	t.Helper()
	for i, subj := range subjects {
		if _, err := s.Append(subj, nil, []byte(fmt.Sprint("m", i)), int64(1000+i), 0); err != nil {
			t.Fatal(err)
		}
	}
}

func state(t *testing.T, s store.Store, msgs, first, last uint64) store.State {
	t.Helper()
	st := s.State()
	if st.Msgs != msgs || st.FirstSeq != first || st.LastSeq != last {
		t.Fatalf("state = %d msgs [%d, %d], want %d [%d, %d]", st.Msgs, st.FirstSeq, st.LastSeq, msgs, first, last)
	}
	return st
}

func testAppendLoad(t *testing.T, s store.Store, size func(string, []byte, []byte) uint64) {
	hdr := []byte("NATS/1.0\r\nA: b\r\n\r\n")
	for i := 1; i <= 3; i++ {
		var h []byte
		if i == 2 {
			h = hdr
		}
		seq, err := s.Append("a.b", h, []byte{byte(i)}, int64(i)*1e9, int64(i%2)*5e9)
		if err != nil || seq != uint64(i) {
			t.Fatalf("append %d: %d %v", i, seq, err)
		}
	}
	m, err := s.Load(2)
	if err != nil || m.Seq != 2 || m.Subject != "a.b" || string(m.Header) != string(hdr) || m.Data[0] != 2 || m.Time != 2e9 {
		t.Fatalf("load 2: %+v %v", m, err)
	}
	if m, _ := s.Load(1); m.Header != nil || m.TTL != 5e9 {
		t.Fatalf("load 1: header %q ttl %d", m.Header, m.TTL)
	}
	for _, seq := range []uint64{0, 4, 100} {
		if _, err := s.Load(seq); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("load %d: %v", seq, err)
		}
	}
	st := state(t, s, 3, 1, 3)
	want := 2*size("a.b", nil, []byte{1}) + size("a.b", hdr, []byte{2})
	if st.Bytes != want || st.NumSubjects != 1 || st.FirstTime.UnixNano() != 1e9 || st.LastTime.UnixNano() != 3e9 {
		t.Fatalf("state %+v, want %d bytes", st, want)
	}
}

func testDurable(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	appendN(t, s, "a", "b", "c")
	done := make(chan error, 3)
	for seq := uint64(1); seq <= 3; seq++ {
		s.Durable(seq, func(err error) { done <- err })
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}

func testFilters(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	appendN(t, s, "o.eu.new", "o.us.new", "o.eu.done", "x", "o.eu.new")
	tests := []struct {
		filter     string
		start      uint64
		next, prev uint64 // 0: not found
	}{
		{">", 0, 1, 0}, {"", 2, 2, 2}, {"o.eu.*", 2, 3, 1}, {"o.*.new", 3, 5, 2},
		{"x", 1, 4, 0}, {"o.eu.new", 2, 5, 1}, {"nope", 1, 0, 0}, {">", 6, 0, 5},
	}
	for _, tt := range tests {
		m, err := s.LoadNext(tt.filter, tt.start)
		if got := seqOf(m, err); got != tt.next {
			t.Errorf("LoadNext(%q, %d) = %d, want %d", tt.filter, tt.start, got, tt.next)
		}
		m, err = s.LoadPrev(tt.filter, tt.start)
		if got := seqOf(m, err); got != tt.prev {
			t.Errorf("LoadPrev(%q, %d) = %d, want %d", tt.filter, tt.start, got, tt.prev)
		}
	}
	for filter, want := range map[string]uint64{"o.eu.new": 5, "o.us.*": 2, ">": 5, "x": 4, "y": 0} {
		m, err := s.LoadLast(filter)
		if got := seqOf(m, err); got != want {
			t.Errorf("LoadLast(%q) = %d, want %d", filter, got, want)
		}
	}
	ss := s.SubjectsState("o.eu.*")
	if len(ss) != 2 || ss["o.eu.new"] != (store.SubjectState{Msgs: 2, First: 1, Last: 5}) {
		t.Errorf("SubjectsState = %+v", ss)
	}
	for _, tt := range []struct {
		start  uint64
		filter string
		last   bool
		want   uint64
	}{{0, ">", false, 5}, {2, "o.eu.*", false, 2}, {1, "o.*.new", true, 2}, {5, "o.eu.new", false, 1}, {6, ">", false, 0}} {
		if got := s.NumPending(tt.start, tt.filter, tt.last); got != tt.want {
			t.Errorf("NumPending(%d, %q, %v) = %d, want %d", tt.start, tt.filter, tt.last, got, tt.want)
		}
	}
}

func seqOf(m *store.Msg, err error) uint64 {
	if err != nil {
		return 0
	}
	return m.Seq
}

func testDelete(t *testing.T, s store.Store, size func(string, []byte, []byte) uint64) {
	appendN(t, s, "a", "b", "c", "d", "e")
	for _, seq := range []uint64{3, 1} {
		if ok, err := s.Delete(seq, seq == 3); !ok || err != nil {
			t.Fatalf("delete %d: %v %v", seq, ok, err)
		}
	}
	if ok, _ := s.Delete(3, false); ok {
		t.Fatal("deleted twice")
	}
	st := state(t, s, 3, 2, 5)
	if st.NumDeleted != 1 || !slices.Equal(s.Deleted(0), []uint64{3}) || st.NumSubjects != 3 {
		t.Fatalf("after deletes: %+v %v", st, s.Deleted(0))
	}
	if _, err := s.Load(3); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted message served: %v", err)
	}
	if st.Bytes != 3*size("a", nil, []byte("m0")) {
		t.Fatalf("bytes %d", st.Bytes)
	}
	for _, seq := range []uint64{5, 2, 4} {
		s.Delete(seq, false)
	}
	st = state(t, s, 0, 6, 5)
	if st.Bytes != 0 || st.NumDeleted != 0 {
		t.Fatalf("emptied: %+v", st)
	}
	if seq, _ := s.Append("z", nil, nil, 2000, 0); seq != 6 {
		t.Fatalf("append after emptying: %d", seq)
	}
}

func testPurge(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	appendN(t, s, "a", "b", "a", "b", "a", "b", "c")
	steps := []struct {
		req         store.PurgeRequest
		n           uint64
		msgs, first uint64
		lastOfA     uint64
	}{
		{store.PurgeRequest{Subject: "a", Keep: 1}, 2, 5, 2, 5},
		{store.PurgeRequest{Subject: "b", Seq: 4}, 1, 4, 4, 5},
		{store.PurgeRequest{Keep: 2}, 2, 2, 6, 0},
		{store.PurgeRequest{}, 2, 0, 8, 0},
	}
	for i, st := range steps {
		n, err := s.Purge(st.req)
		if err != nil || n != st.n {
			t.Fatalf("step %d: purged %d (%v), want %d", i, n, err, st.n)
		}
		state(t, s, st.msgs, st.first, 7)
		m, err := s.LoadLast("a")
		if got := seqOf(m, err); got != st.lastOfA {
			t.Fatalf("step %d: last a = %d, want %d", i, got, st.lastOfA)
		}
	}
	if seq, _ := s.Append("a", nil, nil, 3000, 0); seq != 8 {
		t.Fatalf("append after purge: %d", seq)
	}
}

func testCompact(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	appendN(t, s, "a", "b", "c", "d")
	if n, err := s.Compact(3); n != 2 || err != nil {
		t.Fatalf("compact 3: %d %v", n, err)
	}
	state(t, s, 2, 3, 4)
	if n, _ := s.Compact(10); n != 2 {
		t.Fatalf("compact past the end: %d", n)
	}
	state(t, s, 0, 10, 9)
	if seq, _ := s.Append("e", nil, nil, 5000, 0); seq != 10 {
		t.Fatalf("append after compact: %d", seq)
	}
	state(t, s, 1, 10, 10)
}

func testSkip(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	if seq, err := s.Skip(); seq != 1 || err != nil {
		t.Fatalf("skip: %d %v", seq, err)
	}
	state(t, s, 0, 2, 1)
	appendN(t, s, "a")
	state(t, s, 1, 2, 2)
}

func testConcurrent(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	const writers, each = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				seq, err := s.Append(fmt.Sprint("w.", w), nil, []byte{byte(i)}, int64(i), 0)
				if err != nil {
					t.Error(err)
					return
				}
				done := make(chan error, 1)
				s.Durable(seq, func(err error) { done <- err })
				if err := <-done; err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range each {
				s.LoadLast(fmt.Sprint("w.", w))
				s.NumPending(uint64(i), ">", false)
				s.State()
			}
		}()
	}
	wg.Wait()
	state(t, s, writers*each, 1, writers*each)
}

func testClosed(t *testing.T, s store.Store, _ func(string, []byte, []byte) uint64) {
	appendN(t, s, "a")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append("a", nil, nil, 1, 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := s.Load(1); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("load after close: %v", err)
	}
}
