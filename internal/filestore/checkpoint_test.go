package filestore

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

var ckPath = filepath.Join(testDir, checkpointFile)

// ckConfig has small segments and no periodic checkpoint, so a test
// decides when one is written (at Close).
func ckConfig(logs *logBuf) Config {
	cfg := Config{SegmentSize: 1024, CheckpointInterval: -1, Logger: nopLogger}
	if logs != nil {
		cfg.Logger = logs.logger()
	}
	return cfg
}

// ckFixture writes n messages on three subjects over many segments,
// deletes some, and closes the store (writing a checkpoint).
func ckFixture(t testing.TB, n int) *vfs.MemFS {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, ckConfig(nil))
	subjects := []string{"a", "b.x", "b.y"}
	for i := range n {
		mustAppend(t, s, subjects[i%len(subjects)], nil, payloadFor(uint64(i+1)))
	}
	for q := uint64(2); q <= uint64(n); q += 5 {
		if _, err := s.Delete(q, false); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, s)
	if s.checkpoints.Load() != 1 {
		t.Fatalf("%d checkpoints written at close, want 1", s.checkpoints.Load())
	}
	return fsys
}

// snapshot is what a store answers, for comparing two opens.
type snapshot struct {
	State    store.State
	Subjects map[string]store.SubjectState
	Pending  uint64
	Deleted  []uint64
	Data     map[uint64]string
}

func snap(t *testing.T, s *Store) snapshot {
	t.Helper()
	sn := snapshot{State: s.State(), Subjects: s.SubjectsState(">"), Pending: s.NumPending(7, "b.*", false),
		Deleted: s.Deleted(0), Data: map[uint64]string{}}
	sn.State.FirstTime, sn.State.LastTime = time.Time{}, time.Time{}
	for q := uint64(1); q <= sn.State.LastSeq; q++ {
		if m, err := s.Load(q); err == nil {
			sn.Data[q] = m.Subject + ":" + string(m.Data)
		}
	}
	return sn
}

// openScanning opens the store and returns it with the records it read.
func openScanning(t *testing.T, fsys vfs.FS, cfg Config) (*Store, uint64) {
	t.Helper()
	s := mustOpen(t, fsys, cfg)
	return s, s.scanned.Load()
}

// TestCheckpointReadsOnlyTail: after a clean close, an open reads only the
// active segment, and answers every query as a full scan does; after more
// appends, deletes and a crash, it reads from the checkpoint's active
// segment on and still finds everything.
func TestCheckpointReadsOnlyTail(t *testing.T) {
	const n = 300
	fsys := ckFixture(t, n)
	full := func(fsys *vfs.MemFS) (snapshot, uint64) {
		c := fsys.CrashClone()
		if err := c.Remove(ckPath); err != nil {
			t.Fatal(err)
		}
		s, scanned := openScanning(t, c, ckConfig(nil))
		defer s.Close()
		return snap(t, s), scanned
	}
	want, fullScan := full(fsys)

	s, scanned := openScanning(t, fsys.CrashClone(), ckConfig(nil))
	var active uint64
	locked(s, func() { active = s.active.id })
	activeRecs := countRecords(t, fsys, segPath(active))
	if scanned != activeRecs || scanned*5 > fullScan {
		t.Fatalf("open with a checkpoint read %d records (full scan %d, active segment about %d)", scanned, fullScan, activeRecs)
	}
	if got := snap(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("with the checkpoint:\n%+v\nwant\n%+v", got.State, want.State)
	}
	s.Close()

	// Appends, deletes across old segments and a crash: the checkpoint is
	// stale but its segments are intact; what came after is scanned.
	// Let maintenance settle first (it may remove a segment holding only
	// delete records, which voids the checkpoint), and close again.
	s = mustOpen(t, fsys, ckConfig(nil))
	s.waitMaintenance()
	mustClose(t, s)
	s = mustOpen(t, fsys, ckConfig(nil))
	for i := range 100 {
		mustAppend(t, s, "c", nil, payloadFor(uint64(n+i+1)))
	}
	// One delete in each of a few old segments: not enough to have
	// maintenance rewrite them (which would rightly void the checkpoint).
	for _, q := range []uint64{1, 51, 101, 151, 201} {
		if _, err := s.Delete(q, false); err != nil {
			t.Fatal(err)
		}
	}
	mustSync(t, s)
	s.waitMaintenance()
	crashed := fsys.CrashClone()
	s.Close()
	want, fullScan = full(crashed)
	var logs logBuf
	s, scanned = openScanning(t, crashed, ckConfig(&logs))
	defer s.Close()
	if scanned >= fullScan {
		t.Fatalf("stale checkpoint: read %d records, full scan %d\n%s", scanned, fullScan, logs.String())
	}
	if got := snap(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a crash with a stale checkpoint:\n%+v\nwant\n%+v", got, want)
	}
}

// TestCheckpointIgnored: a checkpoint that is damaged, or that no longer
// matches the segment files, is ignored with a warning and the whole log
// is scanned; the store comes back exactly as a full scan finds it.
func TestCheckpointIgnored(t *testing.T) {
	const n = 200
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, fsys *vfs.MemFS)
	}{
		{"byte flipped", func(t *testing.T, fsys *vfs.MemFS) { flipByte(t, fsys, ckPath, 40) }},
		{"truncated", func(t *testing.T, fsys *vfs.MemFS) { damageTruncate(t, fsys, ckPath, 100) }},
		{"empty", func(t *testing.T, fsys *vfs.MemFS) { damageTruncate(t, fsys, ckPath, 0) }},
		{"sealed segment rewritten", func(t *testing.T, fsys *vfs.MemFS) {
			// Same size, other bytes: a record's payload changed.
			b := fileBytes(t, fsys, segPath(2))
			flipByte(t, fsys, segPath(2), int64(len(b)-2))
		}},
		{"sealed segment cut", func(t *testing.T, fsys *vfs.MemFS) {
			b := fileBytes(t, fsys, segPath(3))
			damageTruncate(t, fsys, segPath(3), int64(len(b)-10))
		}},
		{"sealed segment removed", func(t *testing.T, fsys *vfs.MemFS) { damageRemove(t, fsys, segPath(1)) }},
		{"stray older segment", func(t *testing.T, fsys *vfs.MemFS) {
			// A segment the checkpoint does not know, older than its
			// active one (a copy of segment 2 under an unused id).
			b := fileBytes(t, fsys, segPath(2))
			writeFile(t, fsys, filepath.Join(testDir, "0000000000000000.seg"), b)
		}},
		{"file from another store", func(t *testing.T, fsys *vfs.MemFS) {
			other := ckFixture(t, 50)
			writeFile(t, fsys, ckPath, fileBytes(t, other, ckPath))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := ckFixture(t, n)
			tc.damage(t, fsys)
			noCk := fsys.CrashClone()
			if err := noCk.Remove(ckPath); err != nil {
				t.Fatal(err)
			}
			ref, fullScan := openScanning(t, noCk, ckConfig(nil))
			want := snap(t, ref)
			ref.Close()

			var logs logBuf
			s, scanned := openScanning(t, fsys, ckConfig(&logs))
			defer s.Close()
			if !strings.Contains(logs.String(), "checkpoint ignored") {
				t.Fatalf("no warning logged:\n%s", logs.String())
			}
			if scanned != fullScan {
				t.Fatalf("read %d records, a full scan reads %d", scanned, fullScan)
			}
			if got := snap(t, s); !reflect.DeepEqual(got, want) {
				t.Fatalf("state:\n%+v\nwant\n%+v", got.State, want.State)
			}
		})
	}
}

// TestCheckpointDecodeBounded: no prefix or single-byte damage of a valid
// checkpoint decodes (the checksum), and a forged length cannot make the
// decoder allocate past the file.
func TestCheckpointDecodeBounded(t *testing.T) {
	fsys := ckFixture(t, 100)
	b := fileBytes(t, fsys, ckPath)
	if _, err := decodeCheckpoint(b); err != nil {
		t.Fatalf("valid checkpoint: %v", err)
	}
	for i := range b {
		if _, err := decodeCheckpoint(b[:i]); err == nil {
			t.Fatalf("prefix of %d bytes decoded", i)
		}
		c := bytes.Clone(b)
		c[i] ^= 0x40
		if _, err := decodeCheckpoint(c); err == nil {
			t.Fatalf("byte %d flipped decoded", i)
		}
	}
	// A huge count with a valid checksum.
	forged := appendCRC(append([]byte(checkpointMagic), bytes.Repeat([]byte{0xFF}, 60)...))
	if _, err := decodeCheckpoint(forged); err == nil {
		t.Fatal("forged checkpoint decoded")
	}
}

func flipByte(t *testing.T, fsys vfs.FS, path string, off int64) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x55
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, fsys vfs.FS, path string, b []byte) {
	t.Helper()
	f, err := fsys.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
}

// countRecords counts the whole records in a segment file.
func countRecords(t *testing.T, fsys vfs.FS, path string) uint64 {
	t.Helper()
	b := fileBytes(t, fsys, path)
	var n uint64
	for len(b) > 0 {
		k, err := recordLen(b)
		if err != nil || k > len(b) {
			t.Fatalf("%s: bad record: %v", path, err)
		}
		b = b[k:]
		n++
	}
	return n
}

// TestPeriodicCheckpoint: a periodic checkpoint is written when the sealed
// segments changed and skipped otherwise, and after a power loss the open
// uses it and reads only what came after it, losing nothing acknowledged.
func TestPeriodicCheckpoint(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, ckConfig(nil))
	defer s.Close()
	writeN(t, s, 100)
	s.periodicCheckpoint()
	if n := s.checkpoints.Load(); n != 1 {
		t.Fatalf("%d checkpoints, want 1", n)
	}
	s.periodicCheckpoint()
	if n := s.checkpoints.Load(); n != 1 {
		t.Fatalf("unchanged store: %d checkpoints, want still 1", n)
	}
	// The snapshot is taken only with everything it covers synced: a
	// power loss right after it keeps all of it.
	if _, err := s.Delete(5, false); err != nil {
		t.Fatal(err)
	}
	s.periodicCheckpoint()
	if n := s.checkpoints.Load(); n != 2 {
		t.Fatalf("after a delete in a sealed segment: %d checkpoints, want 2", n)
	}
	crashed := fsys.CrashClone()
	s2, scanned := openScanning(t, crashed, ckConfig(nil))
	defer s2.Close()
	var active uint64
	locked(s2, func() { active = s2.active.id })
	if want := countRecords(t, crashed, segPath(active)); scanned != want {
		t.Fatalf("read %d records after the power loss, want the %d of the last segment", scanned, want)
	}
	if st := s2.State(); st.Msgs != 99 || st.LastSeq != 100 {
		t.Fatalf("state %+v", st)
	}
	if _, err := s2.Load(5); err == nil {
		t.Fatal("deleted message served")
	}
	checkPrefixExcept(t, s2, 100, 5)
}

// checkPrefixExcept checks that sequences 1..n except skip hold writeN's
// payloads.
func checkPrefixExcept(t *testing.T, s *Store, n, skip uint64) {
	t.Helper()
	for q := uint64(1); q <= n; q++ {
		if q == skip {
			continue
		}
		m, err := s.Load(q)
		if err != nil || !bytes.Equal(m.Data, payloadFor(q)) {
			t.Fatalf("Load(%d) = %v, %v", q, m, err)
		}
	}
}

// FuzzDecodeCheckpoint damages a real checkpoint and re-seals its
// checksum, so the fuzzer reaches the decoder's checks: whatever the bytes,
// decoding refuses them or yields a state that encodes and decodes again.
func FuzzDecodeCheckpoint(f *testing.F) {
	f.Add(fileBytes(f, ckFixture(f, 100), ckPath))
	f.Add(fileBytes(f, ckFixture(f, 300), ckPath))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 4 {
			b = appendCRC(bytes.Clone(b[:len(b)-4]))
		}
		c, err := decodeCheckpoint(b)
		if err != nil {
			return
		}
		if _, err := decodeCheckpoint(c.encode()); err != nil {
			t.Fatalf("a decoded checkpoint does not decode once re-encoded: %v", err)
		}
	})
}
