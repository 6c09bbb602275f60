package filestore

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// sealedOf builds a sealed segment from present sequences, the live ones
// with subject id 1.
func sealedOf(present, live []uint64) *segment {
	g := &segment{loaded: true}
	for _, q := range present {
		e := entry{off: uint32(q), sid: deadBit}
		if slices.Contains(live, q) {
			e.sid, e.size = 1, 10
		}
		g.add(q, e)
	}
	g.seal()
	return g
}

func TestSummaryBitmap(t *testing.T) {
	for _, tc := range []struct {
		name          string
		present, live []uint64
		from          uint64
		next, count   uint64
	}{
		{"empty", nil, nil, 1, 0, 0},
		{"all live from start", []uint64{5, 6, 7}, []uint64{5, 6, 7}, 1, 5, 3},
		{"from the middle", []uint64{5, 6, 7}, []uint64{5, 6, 7}, 6, 6, 2},
		{"past the end", []uint64{5, 6, 7}, []uint64{5, 6, 7}, 8, 0, 0},
		{"dead skipped", []uint64{5, 6, 7}, []uint64{7}, 5, 7, 1},
		{"across words", []uint64{1, 64, 65, 200}, []uint64{1, 200}, 2, 200, 1},
		{"sparse range", []uint64{10, 5000}, []uint64{10, 5000}, 11, 5000, 1},
		{"none live", []uint64{3, 4}, nil, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := sealedOf(tc.present, tc.live)
			if got := g.nextLive(tc.from); got != tc.next {
				t.Errorf("nextLive(%d) = %d, want %d", tc.from, got, tc.next)
			}
			if got := g.countLive(tc.from); got != tc.count {
				t.Errorf("countLive(%d) = %d, want %d", tc.from, got, tc.count)
			}
			for _, q := range tc.present {
				if got, want := g.isLive(q), slices.Contains(tc.live, q); got != want {
					t.Errorf("isLive(%d) = %v, want %v", q, got, want)
				}
			}
			wantSubs := 0
			if len(tc.live) > 0 {
				wantSubs = 1
			}
			if len(g.subs) != wantSubs {
				t.Errorf("subs = %v", g.subs)
			}
			for _, q := range tc.live {
				g.kill(q, 1)
			}
			if g.nextLive(1) != 0 || len(g.subs) != 0 {
				t.Errorf("after killing every live one: next %d, subs %v", g.nextLive(1), g.subs)
			}
		})
	}
}

// lazyFixture writes n messages over many small segments with room for
// one loaded index, so most reads rebuild an index from its file.
func lazyFixture(t *testing.T, n int) (*vfs.MemFS, *Store) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{SegmentSize: 1024, IndexBytes: 1})
	subjects := []string{"a", "b.x", "b.y"}
	for i := range n {
		mustAppend(t, s, subjects[i%len(subjects)], nil, payloadFor(uint64(i+1)))
	}
	mustSync(t, s)
	return fsys, s
}

// TestDroppedIndexesRebuilt: with room for one loaded index, every query
// still answers from the summaries or from indexes rebuilt on demand, and
// only one sealed segment's index stays in memory.
func TestDroppedIndexesRebuilt(t *testing.T) {
	const n = 300
	_, s := lazyFixture(t, n)
	defer s.Close()
	for q := uint64(3); q <= n; q += 7 {
		if _, err := s.Delete(q, false); err != nil {
			t.Fatal(err)
		}
	}
	for q := uint64(1); q <= n; q++ {
		m, err := s.Load(q)
		if q%7 == 3 {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Load(%d) of a deleted message: %v", q, err)
			}
			continue
		}
		if err != nil || string(m.Data) != string(payloadFor(q)) {
			t.Fatalf("Load(%d) = %v, %v", q, m, err)
		}
	}
	if got := s.NumPending(1, "b.*", false); got != 2*n/3-countDeleted(n, func(q uint64) bool { return q%3 != 1 }) {
		t.Fatalf("NumPending(b.*) = %d", got)
	}
	m, err := s.LoadNext("b.y", 250)
	if err != nil || m.Subject != "b.y" || m.Seq < 250 {
		t.Fatalf("LoadNext = %v, %v", m, err)
	}
	var st indexStats
	locked(s, func() { st = s.indexStatsLocked() })
	if st.Loaded > 1 {
		t.Fatalf("indexes loaded: %v, want at most 1", st)
	}
	if got := s.State(); got.Msgs != n-countDeleted(n, func(uint64) bool { return true }) {
		t.Fatalf("State = %+v", got)
	}
}

// countDeleted counts the sequences up to n the test deleted (every 7th
// from 3) that also pass keep.
func countDeleted(n uint64, keep func(uint64) bool) uint64 {
	var c uint64
	for q := uint64(3); q <= n; q += 7 {
		if keep(q) {
			c++
		}
	}
	return c
}

// TestDroppedIndexDamage: a record damaged on disk after its segment's
// index was dropped is found when the index is rebuilt: it is reported
// lost, not served, and the counts drop with it.
func TestDroppedIndexDamage(t *testing.T) {
	fsys, s := lazyFixture(t, 60)
	defer s.Close()
	var g *segment
	var off int64
	locked(s, func() {
		g = s.segs[1]
		s.indexLocked(g)
		off = int64(g.find(g.lo).off)
	})
	victim := g.lo
	// Load another segment's index: g's is dropped.
	if _, err := s.Load(s.State().LastSeq); err != nil {
		t.Fatal(err)
	}
	if g.loaded {
		t.Fatal("index still loaded")
	}
	f, err := fsys.OpenFile(segPath(g.id), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xFF, 0xFF}, off+20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before := s.State()
	if _, err := s.Load(victim); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Load(%d) = %v, want ErrCorrupt", victim, err)
	}
	after := s.State()
	if after.Msgs != before.Msgs-1 || !slices.Contains(after.Lost.Msgs, victim) {
		t.Fatalf("after the damage: %+v (before %+v)", after, before)
	}
	if m, err := s.Load(victim + 1); err != nil || string(m.Data) != string(payloadFor(victim+1)) {
		t.Fatalf("neighbour: %v, %v", m, err)
	}
	var total uint64
	for _, ss := range s.SubjectsState(">") {
		total += ss.Msgs
	}
	if total != after.Msgs {
		t.Fatalf("subject counts sum to %d, want %d", total, after.Msgs)
	}
}

// TestIdleIndexesDropped: indexes unused for a whole idle interval are
// dropped; one used since the last check is kept.
func TestIdleIndexesDropped(t *testing.T) {
	_, s := lazyFixture(t, 100)
	defer s.Close()
	locked(s, func() { s.cfg.IndexBytes = 1 << 20 })
	for q := uint64(1); q <= 100; q += 10 {
		if _, err := s.Load(q); err != nil {
			t.Fatal(err)
		}
	}
	loaded := func() (n int) {
		locked(s, func() { n = s.indexStatsLocked().Loaded })
		return n
	}
	if loaded() < 2 {
		t.Fatalf("%d indexes loaded", loaded())
	}
	locked(s, s.dropIdleLocked) // used since the last check: kept
	if loaded() < 2 {
		t.Fatalf("used indexes dropped: %d left", loaded())
	}
	locked(s, s.dropIdleLocked) // unused for a whole interval
	if n := loaded(); n != 0 {
		t.Fatalf("%d idle indexes kept", n)
	}
	if m, err := s.Load(55); err != nil || string(m.Data) != string(payloadFor(55)) {
		t.Fatalf("Load after the drop: %v, %v", m, err)
	}
}
