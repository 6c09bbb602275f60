package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

var seg1 = filepath.Join(testDir, "0000000000000001.seg")

func payloadFor(seq uint64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("<%d>", seq)), int(seq%7)+1)
}

// checkPrefix checks that s holds exactly messages 1..n written by
// writeN.
func checkPrefix(t *testing.T, s *Store, n uint64) {
	t.Helper()
	st := s.State()
	if st.Msgs != n || st.LastSeq != n || len(st.Lost.Msgs) != 0 {
		t.Fatalf("state %+v, want %d messages", st, n)
	}
	for q := uint64(1); q <= n; q++ {
		m, err := s.Load(q)
		if err != nil || !bytes.Equal(m.Data, payloadFor(q)) {
			t.Fatalf("Load(%d) = %v, %v", q, m, err)
		}
	}
}

func writeN(t *testing.T, s *Store, n int) {
	t.Helper()
	for range n {
		seq := s.State().LastSeq + 1
		mustAppend(t, s, "crash", nil, payloadFor(seq))
	}
}

// TestTornTailEveryOffset crashes while the last record is being written
// (it reached the operating system, no sync covered it) and keeps every
// possible prefix of it: the store must come back with exactly the synced
// records, no error and no loss reported, and accept appends afterwards.
// (A record cut after it was synced is a lost acknowledged message: see
// TestAckedTailCutEveryOffset in seqloss_test.go.)
func TestTornTailEveryOffset(t *testing.T) {
	const n = 5
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{})
	defer s.Close()
	writeN(t, s, n)
	mustSync(t, s)
	syncedLen := len(fileBytes(t, fsys, seg1))
	writeN(t, s, 1)
	s.mu.Lock()
	if err := s.flushLocked(); err != nil {
		t.Fatal(err)
	}
	s.mu.Unlock()
	recLen := len(fileBytes(t, fsys, seg1)) - syncedLen

	for cut := 0; cut <= recLen; cut++ {
		c := fsys.CrashClone(vfs.KeepUnsynced(func(name string, _ int) int {
			if name == seg1 {
				return cut
			}
			return 0
		}))
		cfg := Config{Logger: nopLogger, BootID: "after-the-crash"}
		s := mustOpen(t, c, cfg)
		want := uint64(n)
		if cut == recLen {
			want++ // the whole record made it
		}
		checkPrefix(t, s, want)
		if got := len(fileBytes(t, c, seg1)); cut < recLen && got != syncedLen {
			t.Fatalf("cut %d: torn tail not truncated: %d bytes, want %d", cut, got, syncedLen)
		}
		writeN(t, s, 2)
		mustClose(t, s)
		s = mustOpen(t, c.CrashClone(), cfg)
		checkPrefix(t, s, want+2)
		s.Close()
	}
}

// TestUnsyncedLoss crashes a store under concurrent appends, keeping a
// random prefix of the unsynced bytes: every acknowledged message must be
// there; others may be missing but are never corrupt.
func TestUnsyncedLoss(t *testing.T) {
	for round := range uint64(6) {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(round, 7))
			fsys := vfs.NewMem()
			s := mustOpen(t, fsys, Config{SegmentSize: 2048, IndexBytes: 1, CheckpointInterval: time.Millisecond, Logger: nopLogger})
			var mu sync.Mutex
			acked := map[uint64]bool{}
			var wg sync.WaitGroup
			const writers, each = 4, 60
			crashAt := make(chan struct{})
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						if w == 0 && i == each/2 {
							close(crashAt)
						}
						seq, err := s.Append(fmt.Sprintf("w.%d", w), nil, payloadFor(uint64(w*1000+i)), int64(w*1000+i), 0)
						if err != nil {
							t.Error(err)
							return
						}
						if i%3 == 0 {
							s.Durable(seq, func(err error) {
								if err == nil {
									mu.Lock()
									acked[seq] = true
									mu.Unlock()
								}
							})
						}
					}
				}()
			}
			<-crashAt
			mu.Lock()
			ackedAtCrash := make(map[uint64]bool, len(acked))
			for q := range acked {
				ackedAtCrash[q] = true
			}
			mu.Unlock()
			crashed := fsys.CrashClone(vfs.KeepUnsynced(func(_ string, n int) int { return rng.IntN(n + 1) }))
			wg.Wait()
			want := map[uint64]*store.Msg{}
			for q := uint64(1); ; q++ {
				m, err := s.Load(q)
				if err != nil {
					break
				}
				want[q] = m
			}
			s.Close()

			s = mustOpen(t, crashed, Config{SegmentSize: 2048, IndexBytes: 1, Logger: nopLogger})
			defer s.Close()
			st := s.State()
			if len(st.Lost.Msgs) != 0 {
				t.Fatalf("lost %v", st.Lost)
			}
			for q := range ackedAtCrash {
				if _, err := s.Load(q); err != nil {
					t.Fatalf("acknowledged %d missing: %v", q, err)
				}
			}
			var present uint64
			for q := uint64(1); q <= st.LastSeq; q++ {
				m, err := s.Load(q)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Fatalf("Load(%d): %v", q, err)
				}
				if w := want[q]; w == nil || !bytes.Equal(m.Data, w.Data) || m.Subject != w.Subject {
					t.Fatalf("Load(%d) = %+v, want %+v", q, m, w)
				}
				present++
			}
			if present != st.Msgs {
				t.Fatalf("%d loadable, state says %d", present, st.Msgs)
			}
			// Sequences are never reused: appends continue after the last.
			if seq := mustAppend(t, s, "after", nil, nil); seq != st.LastSeq+1 {
				t.Fatalf("append after crash = %d, last was %d", seq, st.LastSeq)
			}
		})
	}
}

// TestBitFlips flips bits across a middle record (every bit) and the last
// record (a sample): reopening always succeeds, the damaged sequence is
// reported lost and not served, everything else is intact.
func TestBitFlips(t *testing.T) {
	const n = 5
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{})
	writeN(t, s, n)
	mustSync(t, s)
	offs := make([]int, n+2)
	for q := uint64(1); q <= n; q++ {
		offs[q] = int(s.segs[0].find(q).off)
	}
	mustClose(t, s)
	offs[n+1] = len(fileBytes(t, fsys, seg1))

	flip := func(victim uint64, bit int) {
		t.Helper()
		c := fsys.CrashClone()
		f, err := c.OpenFile(seg1, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		off := int64(offs[victim] + bit/8)
		f.ReadAt(b, off)
		b[0] ^= 1 << (bit % 8)
		f.WriteAt(b, off)
		f.Sync()
		f.Close()

		for reopen := range 2 { // the verdict must survive a restart
			s := mustOpen(t, c, Config{Logger: nopLogger})
			st := s.State()
			extra := uint64(reopen) // the message appended by the previous round
			if len(st.Lost.Msgs) != 1 || st.Lost.Msgs[0] != victim || st.Msgs != n-1+extra || st.LastSeq != n+extra {
				t.Fatalf("seq %d bit %d (reopen %d): state %+v", victim, bit, reopen, st)
			}
			if _, err := s.Load(victim); !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("seq %d bit %d: Load = %v, want ErrCorrupt", victim, bit, err)
			}
			for q := uint64(1); q <= n; q++ {
				if q == victim {
					continue
				}
				if m, err := s.Load(q); err != nil || !bytes.Equal(m.Data, payloadFor(q)) {
					t.Fatalf("seq %d bit %d: Load(%d) = %v, %v", victim, bit, q, m, err)
				}
			}
			if m, err := s.LoadNext(">", victim); victim < n && (err != nil || m.Seq != victim+1) {
				t.Fatalf("LoadNext past the lost one = %v, %v", m, err)
			}
			if reopen == 0 && victim == n {
				// Reopen once more without appending: the loss must stay
				// reported with nothing after it but the meta record.
				mustClose(t, s)
				s = mustOpen(t, c, Config{Logger: nopLogger})
				if st2 := s.State(); fmt.Sprint(st2.Lost, st2.LastSeq) != fmt.Sprint(st.Lost, st.LastSeq) {
					t.Fatalf("seq %d bit %d: second open %+v, first %+v", victim, bit, st2, st)
				}
			}
			if seq := mustAppend(t, s, "more", nil, nil); seq != n+1+extra {
				t.Fatalf("append after damage = %d", seq)
			}
			mustClose(t, s)
		}
	}
	const middle = 3
	for bit := range (offs[middle+1] - offs[middle]) * 8 {
		flip(middle, bit)
	}
	// The last record: bits after its length field, where the damage is
	// told apart from a torn write by the record being complete.
	for bit := 32; bit < (offs[n+1]-offs[n])*8; bit += 7 {
		flip(n, bit)
	}
}

// TestCorruptionFoundOnRead damages a record under a running store.
func TestCorruptionFoundOnRead(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{Logger: nopLogger})
	defer s.Close()
	writeN(t, s, 3)
	mustSync(t, s)
	off := int64(s.segs[0].find(2).off) + 20
	f, err := fsys.OpenFile(seg1, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xFF, 0xFF}, off)
	f.Close()
	s.cache.drop(s.segs[0].f, 0, -1)

	if _, err := s.Load(2); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Load = %v, want ErrCorrupt", err)
	}
	if _, err := s.Load(2); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("second Load = %v, want ErrCorrupt", err)
	}
	st := s.State()
	if st.Msgs != 2 || len(st.Lost.Msgs) != 1 || st.Lost.Msgs[0] != 2 || st.Lost.Bytes == 0 {
		t.Fatalf("state %+v", st)
	}
	if m, err := s.LoadNext(">", 2); err != nil || m.Seq != 3 {
		t.Fatalf("LoadNext = %v, %v", m, err)
	}
}

// TestCrashDuringRewrite leaves a rewrite's temporary file behind, as a
// crash between writing and renaming it would: the original segment wins.
func TestCrashDuringRewrite(t *testing.T) {
	fsys := vfs.NewMem()
	efs := vfs.NewErrorFS(fsys)
	cfg := Config{SegmentSize: 1024, Logger: nopLogger}
	s := mustOpen(t, efs, cfg)
	writeN(t, s, 40)
	for q := uint64(2); q <= 10; q += 2 {
		s.Delete(q, false)
	}
	mustSync(t, s)
	efs.SetInjector(vfs.FailWhen(func(op vfs.Op, _ string) bool { return op == vfs.OpRename }, vfs.ErrInjected))
	s.waitMaintenance()
	c := fsys.CrashClone()
	s.Close()
	s = mustOpen(t, c, cfg)
	defer s.Close()
	if st := s.State(); st.Msgs != 35 || len(st.Lost.Msgs) != 0 {
		t.Fatalf("state %+v", st)
	}
	for _, name := range segFiles(t, c) {
		if filepath.Ext(name) == ".tmp" {
			t.Fatalf("leftover %s", name)
		}
	}
}

// rollFixture writes n messages and syncs them, then appends without a
// sync until the roll-th segment after the active one holds three more,
// and writes everything to the operating system with the new segments'
// directory entries synced (as a concurrent group commit's directory sync
// does). It returns the store, the active segment's id and synced length
// at the sync, and the layout.
func rollFixture(t *testing.T, fsys *vfs.MemFS, n int, roll uint64) (s *Store, id uint64, synced int, l layout) {
	t.Helper()
	s = mustOpen(t, fsys, Config{SegmentSize: 1024, Logger: nopLogger, BootID: "the-boot"})
	writeN(t, s, n)
	mustSync(t, s)
	locked(s, func() { id = s.active.id })
	synced = len(fileBytes(t, fsys, segPath(id)))
	for range 100 { // bounded: a segment holds far fewer records
		writeN(t, s, 1)
		var inNewer int
		locked(s, func() {
			if s.active.id == id+roll {
				inNewer = s.active.msgs
			}
		})
		if inNewer == 3 {
			break
		}
	}
	locked(s, func() {
		if err := s.flushLocked(); err != nil {
			t.Fatal(err)
		}
	})
	if err := fsys.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
	return s, id, synced, layoutOf(s)
}

// TestTornSegmentRoll crashes during a group commit that wrote the end of
// one segment and the head of the next, neither synced, keeping part of
// each: recovery must take everything from the cut on as the torn end of
// the log (truncated, nothing reported lost), and keep reporting a cut of
// synced data as loss.
func TestTornSegmentRoll(t *testing.T) {
	const n = 10 // synced, so acknowledged
	for _, tc := range []struct {
		name string
		roll uint64 // segments written after the older one
		// keep returns how many bytes past the synced length of the older
		// and the next segment survive (later ones survive whole), given the first and last sequence
		// written to the older segment after the sync (a, b).
		keep func(l layout, synced int, a, b uint64) (older, newer int64)
		// want is the last sequence recovered; nil for the loss cases.
		want func(a, b uint64) uint64
		// rebooted: the machine rebooted since the high-water mark was
		// written, so the mark may be stale and the cut is reported lost,
		// the newer segment's records kept.
		rebooted bool
	}{
		{"older cut between records, newer meta only", 1,
			func(l layout, synced int, a, b uint64) (int64, int64) {
				return l.offOf[b] - int64(synced), l.offOf[b+1]
			},
			func(a, b uint64) uint64 { return b - 1 }, false},
		{"older cut inside a record, newer records kept", 1,
			func(l layout, synced int, a, b uint64) (int64, int64) {
				return l.offOf[b] + 9 - int64(synced), l.offOf[b+3]
			},
			func(a, b uint64) uint64 { return b - 1 }, false},
		{"older cut inside a record, newer cut inside a record", 1,
			func(l layout, synced int, a, b uint64) (int64, int64) {
				return l.offOf[a+1] + 3 - int64(synced), l.offOf[b+2] + 5
			},
			func(a, b uint64) uint64 { return a }, false},
		{"older unsynced bytes all lost, newer whole", 1,
			func(l layout, synced int, a, b uint64) (int64, int64) { return 0, 1 << 20 },
			func(a, b uint64) uint64 { return a - 1 }, false},
		{"older cut inside a record, two newer segments whole", 2,
			func(l layout, synced int, a, b uint64) (int64, int64) {
				return l.offOf[b] + 9 - int64(synced), 1 << 20
			},
			func(a, b uint64) uint64 { return b - 1 }, false},
		{"synced bytes cut too", 1, // real damage below the mark: loss, as before
			func(l layout, synced int, a, b uint64) (int64, int64) { return 0, 1 << 20 },
			nil, false},
		{"older cut inside a record, newer records kept, after a reboot", 1,
			func(l layout, synced int, a, b uint64) (int64, int64) {
				return l.offOf[b] + 9 - int64(synced), l.offOf[b+3]
			},
			nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			s, id, synced, l := rollFixture(t, fsys, n, tc.roll)
			defer s.Close()
			older, newer := segPath(id), segPath(id+1)
			a, b := uint64(n+1), uint64(0)
			for q := a; l.offOf[q+1] > l.offOf[q]; q++ {
				b = q + 1 // b+1 is the first record of the newer segment
			}
			if l.offOf[a] < int64(synced) || b < a+1 || l.offOf[b+1] == 0 {
				t.Fatalf("layout: synced %d, a %d at %d, b %d", synced, a, l.offOf[a], b)
			}
			ko, kn := tc.keep(l, synced, a, b)
			c := fsys.CrashClone(vfs.KeepUnsynced(func(name string, unsynced int) int {
				switch name {
				case older:
					return int(ko)
				case newer:
					return int(kn)
				case segPath(id + 2):
					return unsynced
				}
				return 0
			}))
			if tc.want == nil && !tc.rebooted {
				damageTruncate(t, c, older, l.offOf[n])
			}
			var logs logBuf
			cfg := Config{SegmentSize: 1024, Logger: logs.logger(), BootID: "the-boot"}
			if tc.rebooted {
				cfg.BootID = "rebooted"
			}
			s2 := mustOpen(t, c, cfg)
			if tc.rebooted {
				st := s2.State()
				if len(st.Lost.Msgs) == 0 || st.Lost.Msgs[0] != b {
					t.Fatalf("state %+v, want a loss reported from %d", st, b)
				}
				if _, err := s2.Load(b + 1); err != nil {
					t.Fatalf("the newer segment's first message: %v", err)
				}
				mustClose(t, s2)
				return
			}
			if tc.want == nil {
				// n was acknowledged: the cut from it to the newer
				// segment's head is reported lost, its records kept.
				st := s2.State()
				var lost []uint64
				for q := uint64(n); q <= b; q++ {
					lost = append(lost, q)
				}
				if !slices.Equal(st.Lost.Msgs, lost) || st.LastSeq != b+3 {
					t.Fatalf("state %+v, want lost %v and last %d", st, lost, b+3)
				}
				mustClose(t, s2)
				return
			}
			want := tc.want(a, b)
			checkPrefix(t, s2, want)
			if strings.Contains(logs.String(), "lost") {
				t.Fatalf("loss logged:\n%s", logs.String())
			}
			writeN(t, s2, 2)
			mustClose(t, s2)
			// The truncation is what the next start sees: no damage left.
			logs = logBuf{}
			s3 := mustOpen(t, c.CrashClone(), cfg)
			defer s3.Close()
			checkPrefix(t, s3, want+2)
			if out := logs.String(); strings.Contains(out, "level=ERROR") || strings.Contains(out, "level=WARN") {
				t.Fatalf("second open logged:\n%s", out)
			}
		})
	}
}
