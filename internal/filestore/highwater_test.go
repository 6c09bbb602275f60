package filestore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/vfs"
)

func TestMarkEncoding(t *testing.T) {
	m := mark{gen: 7, last: 42, lastTime: -5, reserved: 42 + reserveAhead, first: 3, floor: 2, active: 9, boot: "b6e4-boot"}
	b := m.encode()
	if len(b) != markSlotSize {
		t.Fatalf("slot is %d bytes", len(b))
	}
	got, err := decodeMark(b)
	if err != nil || got != m {
		t.Fatalf("decode = %+v, %v; want %+v", got, err, m)
	}
	for i := range b {
		c := slices.Clone(b)
		c[i] ^= 0x10
		if _, err := decodeMark(c); err == nil {
			t.Fatalf("byte %d flipped: decoded", i)
		}
	}
	long := mark{boot: strings.Repeat("x", 100)}
	if got, err := decodeMark(long.encode()); err != nil || got.boot != strings.Repeat("x", markBootMax) {
		t.Fatalf("long boot id: %q, %v", got.boot, err)
	}

	file := make([]byte, markSlotStep+markSlotSize)
	older, newer := m, m
	newer.gen, newer.last = 8, 50
	copy(file[markSlotStep:], older.encode())
	copy(file, newer.encode())
	if got, ok := pickMark(file); !ok || got != newer {
		t.Fatalf("pick = %+v, %v", got, ok)
	}
	file[3] ^= 1 // the newer slot torn: the older one stands
	if got, ok := pickMark(file); !ok || got != older {
		t.Fatalf("pick with a torn slot = %+v, %v", got, ok)
	}
	file[markSlotStep+3] ^= 1
	if _, ok := pickMark(file); ok {
		t.Fatal("two torn slots picked")
	}
	if _, ok := pickMark(file[:10]); ok {
		t.Fatal("short file picked")
	}
}

func TestSegMapEncoding(t *testing.T) {
	if got := toRanges([]uint64{1, 2, 3, 5, 7, 8}); fmt.Sprint(got) != "[{1 3} {5 5} {7 8}]" {
		t.Fatalf("toRanges = %v", got)
	}
	m := segMap{next: 12, ids: toRanges([]uint64{1, 2, 3, 5, 9})}
	got, err := decodeSegMap(m.encode())
	if err != nil || got.next != 12 || !slices.Equal(got.ids, m.ids) {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	empty := segMap{next: 1}
	if got, err := decodeSegMap(empty.encode()); err != nil || got.next != 1 || len(got.ids) != 0 {
		t.Fatalf("empty map = %+v, %v", got, err)
	}
	b := m.encode()
	for i := range b {
		c := slices.Clone(b)
		c[i] ^= 0x01
		if _, err := decodeSegMap(c); err == nil {
			t.Fatalf("byte %d flipped: decoded", i)
		}
	}
	bad := segMap{next: 5, ids: []span{{3, 4}, {2, 2}}} // out of order
	if _, err := decodeSegMap(bad.encode()); err == nil {
		t.Fatal("unordered ranges decoded")
	}
	if _, err := decodeSegMap(b[:len(b)-1]); err == nil {
		t.Fatal("short map decoded")
	}
}

func TestMissingSegments(t *testing.T) {
	m := func(next uint64, ids ...uint64) segMap { return segMap{next: next, ids: toRanges(ids)} }
	for _, tc := range []struct {
		name   string
		disk   []uint64
		sm     segMap
		ok     bool
		active uint64
		want   string
	}{
		{"nothing known", []uint64{1, 2}, segMap{}, false, 0, "[]"},
		{"all there", []uint64{1, 2, 5}, m(6, 1, 2, 5), true, 5, "[]"},
		{"created since the map", []uint64{2, 3, 4, 5}, m(3, 2), true, 5, "[]"},
		{"removed on purpose", []uint64{4, 7}, m(8, 4, 7), true, 7, "[]"},
		{"middle gone", []uint64{1, 3}, m(4, 1, 2, 3), true, 3, "[{2 2}]"},
		{"tail gone", []uint64{1, 2}, m(3, 1, 2), true, 5, "[{3 5}]"},
		{"head gone", []uint64{3, 4}, m(5, 1, 2, 3, 4), true, 4, "[{1 2}]"},
		{"all gone", nil, m(4, 2, 3), true, 6, "[{2 6}]"},
		{"no map, tail gone", []uint64{1, 2}, segMap{}, false, 4, "[{3 4}]"},
		{"no map, all gone", nil, segMap{}, false, 4, "[{4 4}]"},
		{"no map, newer on disk", []uint64{1, 2, 9}, segMap{}, false, 4, "[]"},
		{"map next inside its ranges", []uint64{1, 2, 3}, m(2, 1, 2, 3), true, 3, "[]"},
	} {
		if got := fmt.Sprint(missingSegments(tc.disk, tc.sm, tc.ok, tc.active)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestSpans(t *testing.T) {
	var s spans
	s = s.add(10, 20)
	s = s.add(30, 40)
	s = s.add(21, 29) // bridges the two
	if fmt.Sprint(s) != "[{10 40}]" {
		t.Fatalf("merge: %v", s)
	}
	s = s.remove(15, 17)
	s = s.remove(40, 50)
	s = s.remove(1, 10)
	if fmt.Sprint(s) != "[{11 14} {18 39}]" || s.count() != 26 || !s.contains(11) || s.contains(15) {
		t.Fatalf("remove: %v (count %d)", s, s.count())
	}
	s = s.add(45, openEnd)
	s = s.remove(50, openEnd) // an open range resolved at 49
	if fmt.Sprint(s) != "[{11 14} {18 39} {45 49}]" {
		t.Fatalf("open range: %v", s)
	}
	s = s.add(1, 100)
	if fmt.Sprint(s) != "[{1 100}]" {
		t.Fatalf("cover: %v", s)
	}
	s = s.add(5, 3) // empty
	s = s.remove(7, 6)
	if fmt.Sprint(s) != "[{1 100}]" {
		t.Fatalf("empty ranges changed the set: %v", s)
	}
	if got := fmt.Sprint(spans{}.add(openEnd, openEnd).add(openEnd-1, openEnd-1)); got != fmt.Sprintf("[{%d %d}]", uint64(openEnd-1), uint64(openEnd)) {
		t.Fatalf("top of the range: %s", got)
	}
}

func TestMergeLost(t *testing.T) {
	for _, tc := range []struct {
		corrupt []uint64
		missing spans
		limit   int
		want    string
	}{
		{nil, nil, 10, "[]"},
		{[]uint64{2, 9}, spans{{4, 6}}, 10, "[2 4 5 6 9]"},
		{[]uint64{5}, spans{{4, 6}}, 10, "[4 5 6]"},
		{[]uint64{1, 2, 3}, spans{{10, 1000}}, 5, "[1 2 3 10 11]"},
		{nil, spans{{openEnd - 1, openEnd}}, 5, fmt.Sprintf("[%d %d]", uint64(openEnd-1), uint64(openEnd))},
	} {
		if got := fmt.Sprint(mergeLost(tc.corrupt, tc.missing, tc.limit)); got != tc.want {
			t.Errorf("mergeLost(%v, %v, %d) = %s, want %s", tc.corrupt, tc.missing, tc.limit, got, tc.want)
		}
	}
}

// acker appends messages and records which were acknowledged.
type acker struct {
	mu    sync.Mutex
	acked uint64 // highest acknowledged
	n     int
	wg    sync.WaitGroup
}

func (a *acker) append(t *testing.T, s *Store, n int) {
	t.Helper()
	for range n {
		next := s.State().LastSeq + 1
		seq := mustAppend(t, s, "acked", nil, payloadFor(next))
		if seq != next {
			t.Fatalf("append got %d, want %d", seq, next)
		}
		a.n++
		a.wg.Add(1)
		s.Durable(seq, func(err error) {
			defer a.wg.Done()
			if err == nil {
				a.mu.Lock()
				a.acked = max(a.acked, seq)
				a.mu.Unlock()
			}
		})
	}
}

func (a *acker) wait(t *testing.T) uint64 {
	t.Helper()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("acknowledgements did not come")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acked
}

// TestReservationAfterReboot: after a power loss, a store that cannot trust
// the end of its log continues above the synced reservation; one that can
// continues right after it.
func TestReservationAfterReboot(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		end      string // "rebooted" (power loss), "killed" (process crash)
		damage   bool   // flip a bit of the last record after the crash
		jump     bool
	}{
		{"interval/rebooted", time.Hour, "rebooted", false, true},
		{"interval/killed", time.Hour, "killed", false, false},
		{"always/rebooted", 0, "rebooted", false, false},
		{"always/rebooted/last record damaged", 0, "rebooted", true, true},
		{"always/killed/last record damaged", 0, "killed", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			cfg := Config{SyncInterval: tc.interval, Logger: nopLogger}
			s := mustOpen(t, fsys, cfg)
			defer s.Close()
			var a acker
			a.append(t, s, 20)
			a.wait(t)
			a.append(t, s, 20)
			acked := a.wait(t)
			if acked != 40 {
				t.Fatalf("acked %d of 40", acked)
			}
			var c *vfs.MemFS
			if tc.end == "killed" {
				c = killClone(t, fsys)
			} else {
				c = fsys.CrashClone()
				cfg.BootID = "rebooted"
			}
			if tc.damage {
				b := fileBytes(t, c, seg1)
				f, err := c.OpenFile(seg1, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt([]byte{b[len(b)-6] ^ 0x40}, int64(len(b)-6))
				f.Sync()
				f.Close()
			}
			var logs logBuf
			cfg.Logger = logs.logger()
			s2 := mustOpen(t, c, cfg)
			defer s2.Close()
			st := s2.State()
			if st.LastSeq < acked {
				t.Fatalf("LastSeq %d below the acknowledged %d", st.LastSeq, acked)
			}
			jumped := st.LastSeq > acked
			if jumped != tc.jump {
				t.Fatalf("LastSeq %d after acknowledging %d: jump %v, want %v\n%s", st.LastSeq, acked, jumped, tc.jump, logs.String())
			}
			if tc.jump && (st.LastSeq > acked+reserveAhead || !strings.Contains(logs.String(), "skipping every sequence")) {
				t.Fatalf("LastSeq %d, reservation at most %d\n%s", st.LastSeq, acked+reserveAhead, logs.String())
			}
			if seq := mustAppend(t, s2, "next", nil, nil); seq != st.LastSeq+1 {
				t.Fatalf("append = %d after last %d", seq, st.LastSeq)
			}
			// The skipped range is settled: a clean restart keeps it.
			mustClose(t, s2)
			s3 := mustOpen(t, c, Config{SyncInterval: tc.interval, Logger: nopLogger, BootID: "third"})
			defer s3.Close()
			if got := s3.State().LastSeq; got != st.LastSeq+1 {
				t.Fatalf("after a clean restart LastSeq = %d, want %d", got, st.LastSeq+1)
			}
		})
	}
}

// TestReservationSyncs: the high-water file is synced once per
// reserveAhead sequences, not once per commit.
func TestReservationSyncs(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 2×reserveAhead messages")
	}
	var hwSyncs, syncs atomic.Int64
	efs := vfs.NewErrorFS(vfs.NewMem())
	efs.SetInjector(func(op vfs.Op, path string) error {
		switch {
		case op != vfs.OpSync:
		case filepath.Base(path) == markFile:
			hwSyncs.Add(1)
		default:
			syncs.Add(1)
		}
		return nil
	})
	s := mustOpen(t, efs, Config{Logger: nopLogger})
	defer s.Close()
	count := func(n *atomic.Int64) int { return int(n.Load()) }
	open := count(&hwSyncs)
	const commits = 200
	for range commits {
		for range 2 * reserveAhead / commits {
			if _, err := s.Skip(); err != nil {
				t.Fatal(err)
			}
		}
		mustSync(t, s)
	}
	if got := count(&hwSyncs) - open; got < 2 || got > 3 {
		t.Fatalf("high-water file synced %d times over %d commits of %d sequences", got, commits, 2*reserveAhead)
	}
	if got := count(&syncs); got < commits {
		t.Fatalf("log synced %d times", got)
	}
}

// TestHighWaterFailure: a high-water file that cannot be written or synced
// stops acknowledgements like a failed log sync.
func TestHighWaterFailure(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync} {
		t.Run(op.String(), func(t *testing.T) {
			efs := vfs.NewErrorFS(vfs.NewMem())
			s := mustOpen(t, efs, Config{Logger: nopLogger})
			defer s.Close()
			efs.SetInjector(vfs.FailWhen(func(o vfs.Op, path string) bool {
				return o == op && filepath.Base(path) == markFile
			}, vfs.ErrInjected))
			seq := mustAppend(t, s, "a", nil, []byte("x"))
			errc := make(chan error, 1)
			s.Durable(seq, func(err error) { errc <- err })
			select {
			case err := <-errc:
				if !errors.Is(err, vfs.ErrInjected) {
					t.Fatalf("Durable = %v, want the injected error", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no callback")
			}
			if _, err := s.Append("a", nil, nil, 1, 0); err == nil {
				t.Fatal("append accepted after a failed high-water write")
			}
		})
	}
}

// TestDurableAfterReopen: after a restart, what recovery read is durable
// and named by the high-water file, so Durable for it answers at once, with
// or without a sync interval.
func TestDurableAfterReopen(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Hour} {
		t.Run(interval.String(), func(t *testing.T) {
			fsys := vfs.NewMem()
			cfg := Config{SyncInterval: interval, Logger: nopLogger}
			s := mustOpen(t, fsys, cfg)
			writeN(t, s, 3)
			mustClose(t, s)
			s = mustOpen(t, fsys, cfg)
			defer s.Close()
			called := false
			s.Durable(3, func(err error) { called = err == nil })
			if !called {
				t.Fatal("Durable(3) after reopen did not answer at once")
			}
		})
	}
}

// TestWriteOutKeepsSlot: a write-out without a sync (the buffer handed to
// the OS before a Durable asked for a sync) moves the high-water slot only
// for a store that acknowledges written data (a sync interval). A store
// that acknowledges synced data would otherwise name unsynced sequences in
// its slot, and a power loss that dropped them would report them lost.
func TestWriteOutKeepsSlot(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		moves    bool
	}{
		{"sync always", 0, false},
		{"sync interval", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			s := mustOpen(t, fsys, Config{Logger: nopLogger, SyncInterval: tc.interval})
			defer s.Close()
			mustAppend(t, s, "a", nil, []byte("x"))
			mustSync(t, s)
			before, _, err := readMark(fsys, testDir)
			if err != nil {
				t.Fatal(err)
			}
			var last uint64
			for range 10 {
				last = mustAppend(t, s, "a", nil, []byte("y"))
			}
			s.syncMu.Lock()
			ws, err := s.commit(false)
			s.syncMu.Unlock()
			fire(ws)
			if err != nil {
				t.Fatal(err)
			}
			after, _, err := readMark(fsys, testDir)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.moves && after.last != last:
				t.Fatalf("slot names %d after the write-out, want %d", after.last, last)
			case !tc.moves && after.last != before.last:
				t.Fatalf("slot moved from %d to %d on a write-out without sync", before.last, after.last)
			}
		})
	}
}

// TestReplicaTailRefilled: a replicated stream's store (Config.Replica)
// whose unsynced tail a power loss took keeps what it holds as its last
// sequence, reports nothing lost and skips no sequence — the Raft log
// puts the tail back — where a store of its own would continue past its
// high-water mark or reservation.
func TestReplicaTailRefilled(t *testing.T) {
	for _, reboot := range []bool{false, true} {
		fsys := vfs.NewMem()
		cfg := Config{SyncInterval: time.Hour, Replica: true}
		s := mustOpen(t, fsys, cfg)
		writeN(t, s, 10)
		mustSync(t, s)
		for range 5 {
			mustAppend(t, s, "unsynced", nil, nil)
		}
		// The high-water slot names 15: written, not synced.
		c := fsys.CrashClone()
		if reboot {
			cfg.BootID = "rebooted"
		}
		s2 := mustOpen(t, c, cfg)
		st := s2.State()
		if st.LastSeq != 10 || st.Msgs != 10 || len(st.Lost.Msgs) != 0 {
			t.Fatalf("reboot %v: state %+v, want the 10 synced messages and nothing lost", reboot, st)
		}
		if seq := mustAppend(t, s2, "refilled", nil, nil); seq != 11 {
			t.Fatalf("reboot %v: next sequence %d, want 11", reboot, seq)
		}
		mustClose(t, s2)
		mustClose(t, s)
	}
}
