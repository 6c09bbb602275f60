package raftlog

import (
	"errors"
	"strings"
	"testing"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/vfs"
)

// TestStorageSemantics runs scripted steps on one group of the log and on
// raft's MemoryStorage and compares what both show after each step, then
// after a reopen.
func TestStorageSemantics(t *testing.T) {
	type step struct {
		u       *Update // Save
		compact uint64  // Compact to this index
		wantErr error
	}
	save := func(u Update) step { return step{u: &u} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"empty", nil},
		{"append", []step{save(Update{Entries: ents(1, 1, 1, 2)})}},
		{"append twice", []step{save(Update{Entries: ents(1, 1, 1)}), save(Update{Entries: ents(3, 2, 2)})}},
		{"conflict replaces suffix", []step{
			save(Update{Entries: ents(1, 1, 1, 1, 1, 1)}),
			save(Update{Entries: ents(3, 2, 2)}),
		}},
		{"conflict at first", []step{
			save(Update{Entries: ents(1, 1, 1, 1)}),
			save(Update{Entries: ents(1, 3)}),
		}},
		{"gap refused", []step{
			save(Update{Entries: ents(1, 1)}),
			{u: &Update{Entries: ents(3, 1)}, wantErr: ErrGap},
		}},
		{"hard state", []step{
			save(Update{HardState: hardst(1, 2, 0), Entries: ents(1, 1)}),
			save(Update{HardState: hardst(1, 2, 1)}),
		}},
		{"compact", []step{
			save(Update{Entries: ents(1, 1, 1, 2, 2, 3)}),
			{compact: 3},
			{compact: 3, wantErr: raft.ErrCompacted},
			{compact: 9, wantErr: raft.ErrUnavailable},
			save(Update{Entries: ents(2, 5, 5)}), // below the compaction: skipped part
		}},
		{"compact all then append", []step{
			save(Update{Entries: ents(1, 1, 1)}),
			{compact: 2},
			save(Update{Entries: ents(3, 2)}),
		}},
		{"snapshot applied", []step{
			save(Update{Entries: ents(1, 1, 1, 1)}),
			save(Update{Snapshot: snap(10, 4, "state", 1, 2, 3), Entries: ents(11, 4, 5), HardState: hardst(5, 1, 11)}),
		}},
		{"old snapshot refused", []step{
			save(Update{Snapshot: snap(10, 4, "a", 1)}),
			{u: &Update{Snapshot: snap(8, 4, "b", 1)}, wantErr: raft.ErrSnapOutOfDate},
		}},
		{"entries all compacted", []step{
			save(Update{Snapshot: snap(10, 4, "a", 1)}),
			save(Update{Entries: ents(5, 1, 1)}),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := vfs.NewMem()
			l := mustOpen(t, fsys, Options{})
			ms := raft.NewMemoryStorage()
			for i, st := range tt.steps {
				var err, merr error
				if st.u != nil {
					u := *st.u
					u.Group = 7
					err = l.Save([]Update{u})
					if err == nil {
						merr = applyToMemory(ms, u)
					}
				} else {
					err = l.Compact(7, st.compact)
					if err == nil {
						merr = ms.Compact(st.compact)
					}
				}
				if !errors.Is(err, st.wantErr) || merr != nil {
					t.Fatalf("step %d: err %v (memory %v), want %v", i, err, merr, st.wantErr)
				}
				if got, want := viewOf(t, l.Storage(7)), viewOf(t, ms); !sameView(got, want) {
					t.Fatalf("step %d:\n got %v\nwant %v", i, got, want)
				}
			}
			want := viewOf(t, ms)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, fsys, Options{})
			defer l.Close()
			if got := viewOf(t, l.Storage(7)); !sameView(got, want) {
				t.Fatalf("after reopen:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// applyToMemory does to a MemoryStorage what Save does to a group.
func applyToMemory(ms *raft.MemoryStorage, u Update) error {
	if !raft.IsEmptySnap(u.Snapshot) {
		if err := ms.ApplySnapshot(u.Snapshot); err != nil {
			return err
		}
	}
	if len(u.Entries) > 0 {
		if err := ms.Append(u.Entries); err != nil {
			return err
		}
	}
	if !raft.IsEmptyHardState(u.HardState) {
		return ms.SetHardState(u.HardState)
	}
	return nil
}

// TestEntriesMaxSize: maxSize is raft's measure (encoded size), and at
// least one entry comes back.
func TestEntriesMaxSize(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), Options{})
	defer l.Close()
	ms := raft.NewMemoryStorage()
	es := ents(1, 1, 1, 1, 2, 2, 3, 3, 3, 4)
	mustSave(t, l, Update{Group: 1, Entries: es})
	if err := ms.Append(es); err != nil {
		t.Fatal(err)
	}
	for maxSize := uint64(0); maxSize < 200; maxSize++ {
		for lo := uint64(1); lo <= 9; lo++ {
			got, err := l.Storage(1).Entries(lo, 10, maxSize)
			want, merr := ms.Entries(lo, 10, maxSize)
			if err != nil || merr != nil || len(got) != len(want) {
				t.Fatalf("Entries(%d, 10, %d): %d entries %v, want %d %v", lo, maxSize, len(got), err, len(want), merr)
			}
		}
	}
	if _, err := l.Storage(1).Entries(1, 11, 100); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("past the end: %v", err)
	}
}

// TestManyGroupsOneSync: a batch of many groups costs one sync, a batch
// that only moves commit indexes none.
func TestManyGroupsOneSync(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	l := mustOpen(t, efs, Options{})
	defer l.Close()
	var batch []Update
	for g := uint64(1); g <= 64; g++ {
		batch = append(batch, Update{Group: g, HardState: hardst(1, 1, 0), Entries: ents(1, 1)})
	}
	before := efs.Count(vfs.OpSync)
	mustSave(t, l, batch...)
	if n := efs.Count(vfs.OpSync) - before; n != 1 {
		t.Fatalf("%d syncs for one batch", n)
	}
	batch = batch[:0]
	for g := uint64(1); g <= 64; g++ {
		batch = append(batch, Update{Group: g, HardState: hardst(1, 1, 1)})
	}
	before = efs.Count(vfs.OpSync)
	mustSave(t, l, batch...)
	if n := efs.Count(vfs.OpSync) - before; n != 0 {
		t.Fatalf("%d syncs for a commit-only batch", n)
	}
	if got := l.Groups(); len(got) != 64 {
		t.Fatalf("%d groups", len(got))
	}
	if err := l.Save([]Update{{Group: 1}, {Group: 1}}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate group: %v", err)
	}
}

// TestSyncFailureIsSticky: after a failed sync nothing more is accepted,
// and what the failed batch carried is not shown.
func TestSyncFailureIsSticky(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	l := mustOpen(t, efs, Options{})
	defer l.Close()
	mustSave(t, l, Update{Group: 1, Entries: ents(1, 1)})
	efs.SetInjector(vfs.FailNth(vfs.OpSync, 1, vfs.ErrInjected))
	if err := l.Save([]Update{{Group: 1, Entries: ents(2, 1)}}); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Save: %v", err)
	}
	efs.SetInjector(nil)
	if last, _ := l.Storage(1).LastIndex(); last != 1 {
		t.Fatalf("last index %d after a failed save", last)
	}
	if err := l.Save([]Update{{Group: 1, Entries: ents(2, 1)}}); err == nil {
		t.Fatal("Save after a failed sync succeeded")
	}
}

// TestSegmentsRotateAndGo: with small segments, compaction deletes the
// segments whose entries are all dead, and a reopen sees the same groups.
func TestSegmentsRotateAndGo(t *testing.T) {
	fsys := vfs.NewMem()
	opts := Options{SegmentSize: 4096}
	l := mustOpen(t, fsys, opts)
	payload := strings.Repeat("x", 300)
	// Group 2 is idle after its first write: it must not pin segments.
	mustSave(t, l, Update{Group: 2, HardState: hardst(3, 1, 1), Entries: []*pb.Entry{ent(1, 3, "idle")}})
	for i := uint64(1); i <= 200; i++ {
		if i%10 == 0 { // the next Save's sync makes the mark durable
			if err := l.Compact(1, i-1); err != nil {
				t.Fatal(err)
			}
		}
		mustSave(t, l, Update{Group: 1, HardState: hardst(1, 1, i), Entries: []*pb.Entry{ent(i, 1, payload)}})
	}
	segs, _ := fsys.ReadDir(testDir)
	if st := l.Stats(); len(segs) > 6 || st.Segments != len(segs) || st.Entries != 2 || st.Groups != 2 {
		t.Fatalf("%d segment files, stats %+v", len(segs), st)
	}
	want1, want2 := viewOf(t, l.Storage(1)), viewOf(t, l.Storage(2))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, fsys.CrashClone(), opts)
	defer l.Close()
	if got := viewOf(t, l.Storage(1)); !sameView(got, want1) {
		t.Fatalf("group 1 after reopen:\n got %v\nwant %v", got, want1)
	}
	if got := viewOf(t, l.Storage(2)); !sameView(got, want2) {
		t.Fatalf("group 2 after reopen:\n got %v\nwant %v", got, want2)
	}
}

// TestRemoveGroup: a removed group stays removed across a crash, also
// after the segments holding its records are gone.
func TestRemoveGroup(t *testing.T) {
	fsys := vfs.NewMem()
	opts := Options{SegmentSize: 4096}
	l := mustOpen(t, fsys, opts)
	defer l.Close()
	mustSave(t, l, Update{Group: 1, Entries: ents(1, 1, 1)}, Update{Group: 2, Entries: ents(1, 1)})
	if err := l.RemoveGroup(1); err != nil {
		t.Fatal(err)
	}
	l2 := mustOpen(t, fsys.CrashClone(), opts)
	if got := l2.Groups(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("groups after a crash: %v", got)
	}
	l2.Close()
	payload := strings.Repeat("y", 500)
	for i := uint64(2); i < 40; i++ {
		mustSave(t, l, Update{Group: 2, Entries: []*pb.Entry{ent(i, 1, payload)}})
		if err := l.Compact(2, i-1); err != nil {
			t.Fatal(err)
		}
	}
	l3 := mustOpen(t, fsys.CrashClone(), opts)
	defer l3.Close()
	if got := l3.Groups(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("groups after segments went: %v", got)
	}
}

// TestCreateSnapshot: a state machine's snapshot is served by Snapshot and
// survives a reopen; the entries stay until Compact.
func TestCreateSnapshot(t *testing.T) {
	fsys := vfs.NewMem()
	l := mustOpen(t, fsys, Options{})
	ms := raft.NewMemoryStorage()
	es := ents(1, 1, 1, 2, 2)
	mustSave(t, l, Update{Group: 3, Entries: es})
	_ = ms.Append(es)
	cs := &pb.ConfState{Voters: []uint64{1, 2, 3}}
	if _, err := l.CreateSnapshot(3, 3, cs, []byte("sm")); err != nil {
		t.Fatal(err)
	}
	_, _ = ms.CreateSnapshot(3, cs, []byte("sm"))
	if _, err := l.CreateSnapshot(3, 2, nil, nil); !errors.Is(err, raft.ErrSnapOutOfDate) {
		t.Fatalf("older snapshot: %v", err)
	}
	if err := l.Compact(3, 3); err != nil {
		t.Fatal(err)
	}
	_ = ms.Compact(3)
	mustSave(t, l, Update{Group: 3, Entries: ents(5, 2)}) // a sync, so the marks are durable
	_ = ms.Append(ents(5, 2))
	want := viewOf(t, ms)
	if got := viewOf(t, l.Storage(3)); !sameView(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	l.Close()
	l = mustOpen(t, fsys.CrashClone(), Options{})
	defer l.Close()
	if got := viewOf(t, l.Storage(3)); !sameView(got, want) {
		t.Fatalf("after a crash: got %v\nwant %v", got, want)
	}
}

// TestReadsDuringSaves: raft's reads run while batches are saved,
// compacted and segments deleted (run with -race). Bounded in count.
func TestReadsDuringSaves(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), Options{SegmentSize: 4096})
	defer l.Close()
	mustSave(t, l, Update{Group: 1, Entries: ents(1, 1)})
	done := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		s := l.Storage(1)
		for i := 0; i < 100_000; i++ {
			select {
			case <-done:
				return
			default:
			}
			first, _ := s.FirstIndex()
			last, _ := s.LastIndex()
			if last < first {
				continue
			}
			es, err := s.Entries(first, last+1, 1<<20)
			if errors.Is(err, raft.ErrCompacted) {
				continue // compacted between the calls
			}
			if err != nil {
				readerErr <- err
				return
			}
			if es[0].GetIndex() != first {
				readerErr <- errors.New("entries do not start at the first index")
				return
			}
		}
	}()
	payload := strings.Repeat("z", 200)
	for i := uint64(2); i <= 300; i++ {
		mustSave(t, l, Update{Group: 1, Entries: []*pb.Entry{ent(i, 1, payload)}})
		if i%7 == 0 {
			if err := l.Compact(1, i-3); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
}

// TestRecordLimits: entries are split across records to fit, one entry or
// snapshot too big for any record is refused, and an empty update creates
// no group.
func TestRecordLimits(t *testing.T) {
	fsys := vfs.NewMem()
	opts := Options{MaxRecordSize: 8192}
	l := mustOpen(t, fsys, opts)
	defer l.Close()
	big := strings.Repeat("q", 3000)
	es := []*pb.Entry{ent(1, 1, big), ent(2, 1, big), ent(3, 1, big), ent(4, 1, "small")}
	mustSave(t, l, Update{Group: 1, Entries: es})
	if err := l.Save([]Update{{Group: 1, Entries: []*pb.Entry{ent(5, 1, strings.Repeat("q", 9000))}}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge entry: %v", err)
	}
	if err := l.Save([]Update{{Group: 1, Snapshot: snap(9, 1, strings.Repeat("s", 9000))}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge snapshot: %v", err)
	}
	mustSave(t, l, Update{Group: 9})
	if got := l.Groups(); len(got) != 1 {
		t.Fatalf("groups %v", got)
	}
	want := viewOf(t, l.Storage(1))
	l2 := mustOpen(t, fsys.CrashClone(), opts)
	defer l2.Close()
	if got := viewOf(t, l2.Storage(1)); !sameView(got, want) {
		t.Fatalf("after a crash:\n got %v\nwant %v", got, want)
	}
}

// TestOSFiles: the same on the operating system's file system, reopened
// (old segments are opened read-only and synced at the rotation).
func TestOSFiles(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(vfs.Default, dir, Options{SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 50; i++ {
		mustSave(t, l, Update{Group: 1, HardState: hardst(1, 1, i-1), Entries: []*pb.Entry{ent(i, 1, strings.Repeat("o", 200))}})
	}
	want := viewOf(t, l.Storage(1))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l, err = Open(vfs.Default, dir, Options{SegmentSize: 4096, CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		if got := viewOf(t, l.Storage(1)); !sameView(got, want) {
			t.Fatalf("after reopen:\n got %v\nwant %v", got, want)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestClosed: after Close reads and writes say so, and nothing is marked
// damaged.
func TestClosed(t *testing.T) {
	l := mustOpen(t, vfs.NewMem(), Options{CacheSize: -1})
	mustSave(t, l, Update{Group: 1, Entries: ents(1, 1)})
	s := l.Storage(1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Entries(1, 2, 100); !errors.Is(err, ErrClosed) {
		t.Fatalf("Entries after Close: %v", err)
	}
	if err := l.Save([]Update{{Group: 1, Entries: ents(2, 1)}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Save after Close: %v", err)
	}
	if s.Damaged() {
		t.Fatal("closed log reads as damaged")
	}
}
