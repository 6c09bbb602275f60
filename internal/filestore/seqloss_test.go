package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
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

// Losing log data after it was acknowledged (a truncated or deleted
// segment, found at open) must never make sequences go backwards: the store
// continues after every acknowledged sequence and reports the ones it no
// longer has as lost.

// killClone is the filesystem as a process crash leaves it: the operating
// system keeps everything written to it, synced or not.
func killClone(t *testing.T, fsys *vfs.MemFS) *vfs.MemFS {
	t.Helper()
	c := vfs.NewMem()
	if err := vfs.MkdirAllSynced(c, testDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := fsys.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		path := filepath.Join(testDir, e.Name())
		b := fileBytes(t, fsys, path)
		f, err := c.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(b, 0); err != nil {
			t.Fatal(err)
		}
		f.Sync()
		f.Close()
	}
	if err := c.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
	return c
}

func segPath(id uint64) string { return filepath.Join(testDir, fmt.Sprintf("%016x.seg", id)) }

// damageRemove deletes a file for good.
func damageRemove(t *testing.T, fsys vfs.FS, path string) {
	t.Helper()
	if err := fsys.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
}

// damageTruncate cuts a file to size for good.
func damageTruncate(t *testing.T, fsys vfs.FS, path string, size int64) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// logBuf collects a store's log so a test can look for a line.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// layout is where each sequence of a store is, by segment id.
type layout struct {
	ids   []uint64            // segment ids in log order
	seqs  map[uint64][]uint64 // live sequences per segment
	offOf map[uint64]int64    // record offset per sequence
}

func layoutOf(s *Store) layout {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := layout{seqs: map[uint64][]uint64{}, offOf: map[uint64]int64{}}
	for _, g := range s.segs {
		l.ids = append(l.ids, g.id)
		s.indexLocked(g)
		for i := range g.n() {
			if e := g.at(i); e.live() {
				l.seqs[g.id] = append(l.seqs[g.id], g.seqAt(i))
				l.offOf[g.seqAt(i)] = int64(e.off)
			}
		}
	}
	return l
}

// lossFixture writes n messages over several small segments and syncs.
func lossFixture(t *testing.T, n int) (*vfs.MemFS, *Store, Config) {
	fsys := vfs.NewMem()
	cfg := Config{SegmentSize: 1024, Logger: nopLogger}
	s := mustOpen(t, fsys, cfg)
	writeN(t, s, n)
	mustSync(t, s)
	return fsys, s, cfg
}

// checkAfterLoss checks a store reopened after losing the sequences lost:
// the last sequence is where it was, exactly those are reported lost and
// not served, every other one is intact, and appends continue after the
// last.
func checkAfterLoss(t *testing.T, s *Store, n uint64, lost []uint64) {
	t.Helper()
	st := s.State()
	if st.LastSeq != n {
		t.Fatalf("LastSeq = %d, want %d (sequences went backwards)", st.LastSeq, n)
	}
	if !slices.Equal(st.Lost.Msgs, lost) {
		t.Fatalf("Lost = %v, want %v", st.Lost.Msgs, lost)
	}
	if st.Msgs != n-uint64(len(lost)) {
		t.Fatalf("Msgs = %d, want %d", st.Msgs, n-uint64(len(lost)))
	}
	for q := uint64(1); q <= n; q++ {
		m, err := s.Load(q)
		if slices.Contains(lost, q) {
			if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Load(%d) of a lost message = %v, %v", q, m, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(m.Data, payloadFor(q)) {
			t.Fatalf("Load(%d) = %v, %v", q, m, err)
		}
	}
	if seq := mustAppend(t, s, "after", nil, nil); seq != n+1 {
		t.Fatalf("append after the loss got %d, want %d", seq, n+1)
	}
}

// TestLostSegments removes or cuts segment files at every interesting
// point, after a clean close and after a process crash.
func TestLostSegments(t *testing.T) {
	const n = 60
	for _, tc := range []struct {
		name string
		// damage harms the files and returns the sequences it lost.
		damage func(t *testing.T, fsys vfs.FS, l layout) []uint64
		line   string // expected in the log
		// stays says the loss is reported again at the next open: the
		// damaged segment is still there (as with a corrupt record).
		stays bool
	}{
		{"last record cut", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			damageTruncate(t, fsys, segPath(l.ids[len(l.ids)-1]), l.offOf[n])
			return []uint64{n}
		}, "log ends before the last acknowledged sequence", false},
		{"last segment deleted", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			id := l.ids[len(l.ids)-1]
			damageRemove(t, fsys, segPath(id))
			return l.seqs[id]
		}, "segment files missing", false},
		{"last two segments deleted", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			a, b := l.ids[len(l.ids)-2], l.ids[len(l.ids)-1]
			damageRemove(t, fsys, segPath(a))
			damageRemove(t, fsys, segPath(b))
			return append(slices.Clone(l.seqs[a]), l.seqs[b]...)
		}, "segment files missing", false},
		{"middle segment deleted", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			id := l.ids[len(l.ids)/2]
			damageRemove(t, fsys, segPath(id))
			return l.seqs[id]
		}, "segment files missing", false},
		{"first segment deleted", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			damageRemove(t, fsys, segPath(l.ids[0]))
			return l.seqs[l.ids[0]]
		}, "segment files missing", false},
		{"middle segment cut between records", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			id := l.ids[2]
			last := l.seqs[id][len(l.seqs[id])-1]
			damageTruncate(t, fsys, segPath(id), l.offOf[last])
			return []uint64{last}
		}, "segment file ends early", true},
		{"middle segment cut inside a record", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			id := l.ids[2]
			last := l.seqs[id][len(l.seqs[id])-2]
			damageTruncate(t, fsys, segPath(id), l.offOf[last]+9)
			return l.seqs[id][len(l.seqs[id])-2:]
		}, "segment file ends early", true},
		{"middle segment emptied", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			id := l.ids[1]
			damageTruncate(t, fsys, segPath(id), 0)
			return l.seqs[id]
		}, "messages lost with missing log data", false},
		{"all segments deleted", func(t *testing.T, fsys vfs.FS, l layout) []uint64 {
			var all []uint64
			for _, id := range l.ids {
				damageRemove(t, fsys, segPath(id))
				all = append(all, l.seqs[id]...)
			}
			return all
		}, "segment files missing", false},
	} {
		for _, end := range []string{"closed", "killed"} {
			t.Run(tc.name+"/"+end, func(t *testing.T) {
				fsys, s, cfg := lossFixture(t, n)
				l := layoutOf(s)
				if len(l.ids) < 4 {
					t.Fatalf("only %d segments", len(l.ids))
				}
				c := fsys
				if end == "killed" {
					c = killClone(t, fsys)
					defer s.Close()
				} else {
					mustClose(t, s)
				}
				lost := tc.damage(t, c, l)
				slices.Sort(lost)
				var logs logBuf
				cfg.Logger = logs.logger()
				s2 := mustOpen(t, c, cfg)
				checkAfterLoss(t, s2, n, lost)
				if !strings.Contains(logs.String(), tc.line) {
					t.Fatalf("log lacks %q:\n%s", tc.line, logs.String())
				}
				// Reported once: the next open starts from the new state
				// (an emptied segment is removed by maintenance).
				s2.waitMaintenance()
				mustClose(t, s2)
				s3 := mustOpen(t, c, Config{SegmentSize: 1024, Logger: nopLogger})
				defer s3.Close()
				st := s3.State()
				if st.LastSeq != n+1 || st.Msgs != n+1-uint64(len(lost)) {
					t.Fatalf("second open: %+v", st)
				}
				if again := st.Lost.Msgs; tc.stays && !slices.Equal(again, lost) || !tc.stays && len(again) != 0 {
					t.Fatalf("second open reports lost %v (first %v)", again, lost)
				}
			})
		}
	}
}

// TestLostSegmentDeletedMessages: messages of a lost segment that were
// deleted before (their delete records survive elsewhere) are not lost.
func TestLostSegmentDeletedMessages(t *testing.T) {
	const n = 60
	fsys, s, cfg := lossFixture(t, n)
	l := layoutOf(s)
	id := l.ids[2]
	var lost []uint64
	for i, q := range l.seqs[id] {
		if i%2 == 0 {
			if ok, err := s.Delete(q, false); !ok || err != nil {
				t.Fatalf("Delete(%d) = %v, %v", q, ok, err)
			}
			continue
		}
		lost = append(lost, q)
	}
	mustClose(t, s)
	damageRemove(t, fsys, segPath(id))
	s = mustOpen(t, fsys, cfg)
	defer s.Close()
	if st := s.State(); !slices.Equal(st.Lost.Msgs, lost) || st.LastSeq != n {
		t.Fatalf("state %+v, want lost %v", st, lost)
	}
}

// TestLastSeqKeptWithoutMessages: a store whose messages are all gone
// (purged, compacted past its end, deleted one by one) keeps its last
// sequence through a restart, a crash, and the loss of every segment file.
func TestLastSeqKeptWithoutMessages(t *testing.T) {
	const n = 40
	for _, tc := range []struct {
		name      string
		empty     func(t *testing.T, s *Store)
		last      uint64
		firstNext uint64 // FirstSeq, and the next append's sequence
	}{
		{"purge", func(t *testing.T, s *Store) {
			if _, err := s.Purge(store.PurgeRequest{}); err != nil {
				t.Fatal(err)
			}
		}, n, n + 1},
		{"compact past the end", func(t *testing.T, s *Store) {
			if _, err := s.Compact(100); err != nil {
				t.Fatal(err)
			}
		}, 99, 100},
		{"every message deleted", func(t *testing.T, s *Store) {
			for q := uint64(1); q <= n; q++ {
				if _, err := s.Delete(q, false); err != nil {
					t.Fatal(err)
				}
			}
			mustSync(t, s)
			s.waitMaintenance()
		}, n, n + 1},
	} {
		for _, end := range []string{"closed", "killed", "crashed", "files deleted"} {
			t.Run(tc.name+"/"+end, func(t *testing.T) {
				fsys, s, cfg := lossFixture(t, n)
				tc.empty(t, s)
				c := fsys
				switch end {
				case "closed":
					mustClose(t, s)
				case "killed":
					c = killClone(t, fsys)
					defer s.Close()
				case "crashed":
					c = fsys.CrashClone()
					defer s.Close()
					cfg.BootID = "rebooted"
				case "files deleted":
					mustClose(t, s)
					for _, name := range segFiles(t, fsys) {
						if strings.HasSuffix(name, ".seg") {
							damageRemove(t, fsys, filepath.Join(testDir, name))
						}
					}
				}
				s2 := mustOpen(t, c, cfg)
				defer s2.Close()
				st := s2.State()
				if st.LastSeq != tc.last || st.FirstSeq != tc.firstNext || st.Msgs != 0 || len(st.Lost.Msgs) != 0 {
					t.Fatalf("state %+v, want last %d first %d", st, tc.last, tc.firstNext)
				}
				if seq := mustAppend(t, s2, "next", nil, nil); seq != tc.firstNext {
					t.Fatalf("append = %d, want %d", seq, tc.firstNext)
				}
			})
		}
	}
}

// TestNoLossAfterMaintenance: segments removed on purpose (emptied by
// deletes, purged, compacted away) are never reported lost, after a clean
// close, a process crash or a power loss.
func TestNoLossAfterMaintenance(t *testing.T) {
	fsys, s, cfg := lossFixture(t, 200)
	l := layoutOf(s)
	// Empty every other segment: maintenance removes them, leaving holes
	// in the ids.
	for i, id := range l.ids[:len(l.ids)-1] {
		if i%2 == 1 {
			for _, q := range l.seqs[id] {
				s.Delete(q, false)
			}
		}
	}
	mustSync(t, s)
	s.waitMaintenance()
	if _, err := s.Compact(l.seqs[l.ids[2]][0]); err != nil {
		t.Fatal(err)
	}
	writeN(t, s, 30)
	mustSync(t, s)
	s.waitMaintenance()
	want := s.State()
	segs := slices.DeleteFunc(segFiles(t, fsys), func(name string) bool { return !strings.HasSuffix(name, ".seg") })
	if got := len(segs); got >= len(l.ids) {
		t.Fatalf("maintenance removed nothing: %d files", got)
	}
	for _, end := range []string{"killed", "crashed", "closed"} {
		c := fsys
		cfg := cfg
		switch end {
		case "killed":
			c = killClone(t, fsys)
		case "crashed":
			c = fsys.CrashClone()
			cfg.BootID = "rebooted"
		case "closed":
			mustClose(t, s)
		}
		var logs logBuf
		cfg.Logger = logs.logger()
		s2 := mustOpen(t, c, cfg)
		st := s2.State()
		if st.LastSeq != want.LastSeq || st.Msgs != want.Msgs || st.FirstSeq != want.FirstSeq || len(st.Lost.Msgs) != 0 {
			t.Fatalf("%s: state %+v, want %+v", end, st, want)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Fatalf("%s: errors logged:\n%s", end, logs.String())
		}
		s2.Close()
	}
}

// TestSideFilesDamaged: a deleted or damaged side file costs only the check
// it serves: the store opens from its log with a warning, reports nothing
// lost, and writes the file again.
func TestSideFilesDamaged(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		garbage    bool
		line       string
	}{
		{"highwater deleted", markFile, false, "no high-water file"},
		{"highwater damaged", markFile, true, "high-water file unreadable"},
		{"segments deleted", segMapFile, false, "no segment map"},
		{"segments damaged", segMapFile, true, "segment map unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, s, cfg := lossFixture(t, 60)
			want := s.State()
			mustClose(t, s)
			path := filepath.Join(testDir, tc.file)
			if tc.garbage {
				f, err := fsys.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt(bytes.Repeat([]byte{0x5a}, markSlotStep+markSlotSize), 0)
				f.Sync()
				f.Close()
			} else {
				damageRemove(t, fsys, path)
			}
			for round := range 2 {
				var logs logBuf
				cfg.Logger = logs.logger()
				s := mustOpen(t, fsys, cfg)
				st := s.State()
				if st.LastSeq != want.LastSeq || st.Msgs != want.Msgs || len(st.Lost.Msgs) != 0 {
					t.Fatalf("round %d: state %+v, want %+v", round, st, want)
				}
				if warned := strings.Contains(logs.String(), tc.line); warned != (round == 0) {
					t.Fatalf("round %d: warning %q logged: %v\n%s", round, tc.line, warned, logs.String())
				}
				mustClose(t, s)
			}
		})
	}
}

// TestLossProperty runs random operations, kills the process (or cuts the
// power) at a random point, damages the log at random, and checks what
// must hold whatever happened: the next sequence is above every
// acknowledged one, every acknowledged message not deleted is served
// intact or reported lost, and nothing is served under a sequence that was
// not its own.
func TestLossProperty(t *testing.T) {
	rounds := 40
	if testing.Short() {
		rounds = 8
	}
	for round := range uint64(rounds) {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(round, 99))
			fsys := vfs.NewMem()
			cfg := Config{SegmentSize: 1024, Logger: nopLogger}
			if round%4 == 3 {
				cfg.SyncInterval = time.Hour
			}
			s := mustOpen(t, fsys, cfg)
			defer s.Close()
			var a acker
			data := map[uint64][]byte{}
			deleted := map[uint64]bool{}
			skipped := map[uint64]bool{}
			for range 20 + rng.IntN(150) {
				switch op := rng.IntN(20); {
				case op < 14:
					seq := s.State().LastSeq + 1
					data[seq] = payloadFor(seq)
					a.append(t, s, 1)
				case op < 17:
					if last := s.State().LastSeq; last > 0 {
						q := 1 + rng.Uint64N(last)
						if ok, _ := s.Delete(q, false); ok {
							deleted[q] = true
						}
					}
				case op == 17:
					if last := s.State().LastSeq; last > 0 {
						if _, err := s.Compact(1 + rng.Uint64N(last+5)); err != nil {
							t.Fatal(err)
						}
					}
				case op == 18:
					mustSync(t, s)
					s.waitMaintenance()
				default:
					if q, err := s.Skip(); err != nil {
						t.Fatal(err)
					} else {
						skipped[q] = true
					}
				}
			}
			acked := a.wait(t)
			st := s.State()
			live := map[uint64]bool{}
			for q := st.FirstSeq; q <= st.LastSeq; q++ {
				if _, err := s.Load(q); err == nil {
					live[q] = true
				}
			}
			// A power loss and damage at once is beyond what the side files
			// cover (see docs/durability.md): power-loss rounds do not damage.
			powerLoss := round%3 == 2
			var c *vfs.MemFS
			if powerLoss {
				c = fsys.CrashClone()
				cfg.BootID = "rebooted"
			} else {
				c = killClone(t, fsys)
			}
			var segs []string
			for _, name := range segFiles(t, c) {
				if strings.HasSuffix(name, ".seg") {
					segs = append(segs, filepath.Join(testDir, name))
				}
			}
			switch d := rng.IntN(5); {
			case len(segs) == 0 || d == 0 || powerLoss:
			case d == 1:
				damageRemove(t, c, segs[rng.IntN(len(segs))])
			case d == 2:
				p := segs[rng.IntN(len(segs))]
				damageTruncate(t, c, p, rng.Int64N(int64(len(fileBytes(t, c, p)))+1))
			case d == 3:
				damageRemove(t, c, segs[len(segs)-1])
			default:
				for _, p := range segs {
					damageRemove(t, c, p)
				}
			}
			s2 := mustOpen(t, c, cfg)
			defer s2.Close()
			st2 := s2.State()
			// Only sequences that were handed out are reported lost, and only
			// ones that held a message, were deleted or were skipped: the
			// lost data may have held their delete or skip records.
			for _, q := range st2.Lost.Msgs {
				if q > st.LastSeq || q == 0 || !live[q] && !deleted[q] && !skipped[q] && data[q] == nil {
					t.Fatalf("%d reported lost, never stored (last was %d)", q, st.LastSeq)
				}
			}
			if st2.LastSeq < acked {
				t.Fatalf("LastSeq %d below the acknowledged %d", st2.LastSeq, acked)
			}
			lost := map[uint64]bool{}
			for _, q := range st2.Lost.Msgs {
				lost[q] = true
			}
			for q := range live {
				if q > acked || (cfg.SyncInterval > 0 && powerLoss) {
					continue // not acknowledged, or acknowledged without a sync before a power loss
				}
				m, err := s2.Load(q)
				if err != nil && !lost[q] {
					t.Fatalf("acknowledged %d neither served nor reported lost: %v (lost %v)", q, err, st2.Lost.Msgs)
				}
				if err == nil && !bytes.Equal(m.Data, data[q]) {
					t.Fatalf("message %d served with %q, stored %q", q, m.Data, data[q])
				}
			}
			for q := uint64(1); q <= st2.LastSeq; q++ {
				if m, err := s2.Load(q); err == nil && !bytes.Equal(m.Data, data[q]) {
					t.Fatalf("message %d served with %q, stored %q", q, m.Data, data[q])
				}
			}
			if seq := mustAppend(t, s2, "next", nil, nil); seq <= acked {
				t.Fatalf("next sequence %d, acknowledged %d", seq, acked)
			}
		})
	}
}

// TestInterruptedPurgeIsNotLoss: a purge or compaction past the end that
// stopped before removing the old segments leaves them beside the new one;
// that is not lost data, and nothing is reported.
func TestInterruptedPurgeIsNotLoss(t *testing.T) {
	for _, floor := range []uint64{0, 100} {
		t.Run(fmt.Sprint(floor), func(t *testing.T) {
			mem := vfs.NewMem()
			efs := vfs.NewErrorFS(mem)
			cfg := Config{SegmentSize: 1024, Logger: nopLogger}
			s := mustOpen(t, efs, cfg)
			writeN(t, s, 40)
			mustSync(t, s)
			efs.SetInjector(vfs.FailWhen(func(op vfs.Op, path string) bool {
				return op == vfs.OpRemove && strings.HasSuffix(path, ".seg")
			}, vfs.ErrInjected))
			var err error
			if floor == 0 {
				_, err = s.Purge(store.PurgeRequest{})
			} else {
				_, err = s.Compact(floor)
			}
			if !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("purge with removals failing: %v", err)
			}
			s.Close()
			var logs logBuf
			cfg.Logger = logs.logger()
			s = mustOpen(t, mem.CrashClone(), cfg)
			defer s.Close()
			last := uint64(40)
			if floor > 0 {
				last = floor - 1
			}
			if st := s.State(); st.LastSeq != last || st.FirstSeq != last+1 || st.Msgs != 0 || len(st.Lost.Msgs) != 0 {
				t.Fatalf("state %+v", st)
			}
			if strings.Contains(logs.String(), "level=ERROR") {
				t.Fatalf("errors logged:\n%s", logs.String())
			}
		})
	}
}

// TestAckedTailCutEveryOffset cuts the last record after it was synced and
// acknowledged, at every byte offset: it is a lost message now, reported
// as such, and its sequence is not handed out again.
func TestAckedTailCutEveryOffset(t *testing.T) {
	const n = 5
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{})
	writeN(t, s, n)
	mustSync(t, s)
	start := s.segs[0].find(n).off
	mustClose(t, s)
	end := len(fileBytes(t, fsys, seg1))
	for cut := int(start); cut < end; cut++ {
		c := fsys.CrashClone()
		damageTruncate(t, c, seg1, int64(cut))
		s := mustOpen(t, c, Config{Logger: nopLogger})
		checkAfterLoss(t, s, n, []uint64{n})
		s.Close()
	}
}
