package raftlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/vfs"
)

// TestTornTailEveryOffset: a batch whose sync failed is cut by a crash at
// every byte: recovery truncates the torn record, every group is as
// before the batch or has its part of it, none is damaged, and the log
// takes appends and reopens clean afterwards.
func TestTornTailEveryOffset(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	l := mustOpen(t, efs, Options{})
	defer l.Close()
	mustSave(t, l, Update{Group: 1, HardState: hardst(1, 1, 0), Entries: ents(1, 1, 1)},
		Update{Group: 2, HardState: hardst(1, 2, 0), Entries: ents(1, 1)})
	before := []view{viewOf(t, l.Storage(1)), viewOf(t, l.Storage(2))}
	active := l.segPath(l.active().seq)
	synced := len(fileBytes(t, mem, active))
	efs.SetInjector(vfs.FailNth(vfs.OpSync, 1, vfs.ErrInjected))
	err := l.Save([]Update{
		{Group: 1, HardState: hardst(2, 1, 2), Entries: ents(3, 2, 2)},
		{Group: 2, Entries: ents(2, 1, 1)},
	})
	if !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Save: %v", err)
	}
	written := len(fileBytes(t, mem, active)) - synced
	for cut := 0; cut <= written; cut++ {
		c := mem.CrashClone(vfs.KeepUnsynced(func(name string, n int) int {
			if name == active {
				return cut
			}
			return 0
		}))
		r := mustOpen(t, c, Options{})
		for i, g := range []uint64{1, 2} {
			got := viewOf(t, r.Storage(g))
			if cut < written/2 && !sameView(got, before[i]) && got.last < before[i].last {
				t.Fatalf("cut %d: group %d lost acknowledged entries: %v", cut, g, got)
			}
			if got.last < before[i].last || got.hs[0] < before[i].hs[0] {
				t.Fatalf("cut %d: group %d went back: %v, before %v", cut, g, got, before[i])
			}
		}
		mustSave(t, r, Update{Group: 3, Entries: ents(1, 1)})
		want := viewOf(t, r.Storage(1))
		r.Close()
		r = mustOpen(t, c.CrashClone(), Options{})
		if r.Storage(1).Damaged() || r.Storage(3).Damaged() || !sameView(viewOf(t, r.Storage(1)), want) {
			t.Fatalf("cut %d: second reopen differs or damaged", cut)
		}
		r.Close()
	}
}

// damageLog builds a small log of several segments and three groups and
// returns its file system, closed.
func damageFixture(t *testing.T) (*vfs.MemFS, map[uint64]view) {
	mem := vfs.NewMem()
	opts := Options{SegmentSize: 4096}
	l := mustOpen(t, mem, opts)
	payload := strings.Repeat("p", 400)
	for i := uint64(1); i <= 20; i++ {
		mustSave(t, l,
			Update{Group: 1, HardState: hardst(1, 1, i-1), Entries: []*pb.Entry{ent(i, 1, payload)}},
			Update{Group: 2, Entries: ents(i, 1)},
			Update{Group: 3, HardState: hardst(i, 3, 0)})
	}
	if err := l.Compact(2, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateSnapshot(1, 4, &pb.ConfState{Voters: []uint64{1, 2}}, []byte("s")); err != nil {
		t.Fatal(err)
	}
	mustSave(t, l, Update{Group: 2, Entries: ents(21, 2)})
	want := map[uint64]view{}
	for g := uint64(1); g <= 3; g++ {
		want[g] = viewOf(t, l.Storage(g))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return mem, want
}

// TestEveryBitFlipDetected flips one bit in every byte of every segment:
// recovery never fails, and every group either reads exactly as written or
// is marked damaged and refuses reads. A flip in a record's body damages
// its group only.
func TestEveryBitFlipDetected(t *testing.T) {
	mem, want := damageFixture(t)
	dirents, err := mem.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(dirents) < 2 {
		t.Fatalf("%d segments: the fixture should rotate", len(dirents))
	}
	bodyOnly := 0
	for _, de := range dirents {
		name := filepath.Join(testDir, de.Name())
		orig := fileBytes(t, mem, name)
		for off := 0; off < len(orig); off++ {
			c := mem.CrashClone()
			d := append([]byte(nil), orig...)
			d[off] ^= 1 << (off % 8)
			writeBytes(t, c, name, d)
			l, err := Open(c, testDir, Options{SegmentSize: 4096})
			if err != nil {
				t.Fatalf("%s byte %d: Open: %v", de.Name(), off, err)
			}
			damaged := 0
			for g := uint64(1); g <= 3; g++ {
				s := l.Storage(g)
				if s.Damaged() {
					damaged++
					if _, err := s.Entries(want[g].first, want[g].last+1, 1<<30); !isDamaged(err) && want[g].last >= want[g].first {
						t.Fatalf("%s byte %d: damaged group %d served: %v", de.Name(), off, g, err)
					}
					continue
				}
				if got := viewOf(t, s); !sameView(got, want[g]) {
					t.Fatalf("%s byte %d: group %d not damaged but differs:\n got %v\nwant %v", de.Name(), off, g, got, want[g])
				}
			}
			if damaged == 1 {
				bodyOnly++
			}
			l.Close()
		}
	}
	if bodyOnly == 0 {
		t.Fatal("no flip was confined to one group")
	}
}

// TestDamageFoundAtRead: a bit flipped in a file after recovery is caught
// by the entry's own checksum when raft reads it, and the group is then
// refused; other groups go on.
func TestDamageFoundAtRead(t *testing.T) {
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{CacheSize: -1}) // a cached entry is not read
	defer l.Close()
	mustSave(t, l, Update{Group: 1, Entries: []*pb.Entry{ent(1, 1, "needle-1")}},
		Update{Group: 2, Entries: []*pb.Entry{ent(1, 1, "needle-2")}})
	name := l.segPath(l.active().seq)
	b := fileBytes(t, mem, name)
	at := strings.Index(string(b), "needle-1")
	f, err := mem.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'N'}, int64(at)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil { // rot on the disk, not in a cache
		t.Fatal(err)
	}
	f.Close()
	if _, err := l.Storage(1).Entries(1, 2, 100); !isDamaged(err) {
		t.Fatalf("read of a flipped entry: %v", err)
	}
	if !l.Storage(1).Damaged() {
		t.Fatal("group not marked damaged")
	}
	if _, err := l.Storage(1).LastIndex(); !isDamaged(err) {
		t.Fatalf("damaged group served: %v", err)
	}
	if err := l.Save([]Update{{Group: 1, Entries: ents(2, 1)}}); !isDamaged(err) {
		t.Fatalf("save to a damaged group: %v", err)
	}
	if es, err := l.Storage(2).Entries(1, 2, 100); err != nil || string(es[0].GetData()) != "needle-2" {
		t.Fatalf("other group: %v %v", es, err)
	}
	// Recovery finds it again (the record's checksum), and the checkpoint
	// of the new segment carries it forward.
	l.Close()
	c := mem.CrashClone()
	for range 2 {
		l2 := mustOpen(t, c, Options{})
		if !l2.Storage(1).Damaged() || l2.Storage(2).Damaged() {
			t.Fatal("damage forgotten or spread after a reopen")
		}
		l2.Close()
	}
}

// TestLostRegionSettledByCheckpoint: an unframeable record in a segment
// that is not the last loses the rest of that segment, but the next
// segment's checkpoint vouches for every group's state: a group with no
// entries there stays served, one with entries there is damaged.
func TestLostRegionSettledByCheckpoint(t *testing.T) {
	mem, want := damageFixture(t)
	dirents, _ := mem.ReadDir(testDir)
	first := filepath.Join(testDir, dirents[0].Name())
	b := fileBytes(t, mem, first)
	b[1] ^= 0x10 // the first record's length: its header checksum fails
	writeBytes(t, mem, first, b)
	l := mustOpen(t, mem, Options{SegmentSize: 4096})
	defer l.Close()
	if !l.Storage(1).Damaged() {
		t.Fatal("group 1, with entries in the lost segment, is served")
	}
	if l.Storage(3).Damaged() {
		t.Fatal("group 3, with no entries, is refused")
	}
	if got := viewOf(t, l.Storage(3)); !sameView(got, want[3]) {
		t.Fatalf("group 3:\n got %v\nwant %v", got, want[3])
	}
}

// TestIOErrors: an I/O error at Open fails the Open and leaves the log as
// it was; an I/O error in a Save fails it and every later write, and
// nothing acknowledged is lost.
func TestIOErrors(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpReadDir, vfs.OpOpen, vfs.OpRead, vfs.OpWrite, vfs.OpSync, vfs.OpSyncDir} {
		t.Run(op.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			l := mustOpen(t, mem, Options{SegmentSize: 4096})
			payload := strings.Repeat("e", 500)
			for i := uint64(1); i <= 20; i++ {
				mustSave(t, l, Update{Group: 1, HardState: hardst(1, 1, i-1), Entries: []*pb.Entry{ent(i, 1, payload)}})
			}
			want := viewOf(t, l.Storage(1))
			l.Close()

			efs := vfs.NewErrorFS(mem)
			efs.SetInjector(vfs.FailNth(op, 1, vfs.ErrInjected))
			if l, err := Open(efs, testDir, Options{SegmentSize: 4096}); err == nil {
				l.Close()
				t.Fatalf("Open with a failing %s succeeded", op)
			}
			efs.SetInjector(nil)
			l = mustOpen(t, efs, Options{SegmentSize: 4096})
			if got := viewOf(t, l.Storage(1)); !sameView(got, want) {
				t.Fatalf("after a failed Open:\n got %v\nwant %v", got, want)
			}
			if op == vfs.OpWrite || op == vfs.OpSync || op == vfs.OpOpen || op == vfs.OpSyncDir {
				efs.SetInjector(vfs.FailNth(op, 1, vfs.ErrInjected))
				var err error
				// Enough saves to start a segment, where every op runs.
				for i := uint64(21); i <= 40 && err == nil; i++ {
					err = l.Save([]Update{{Group: 1, Entries: []*pb.Entry{ent(i, 1, payload)}}})
					if err == nil {
						want = viewOf(t, l.Storage(1))
					}
				}
				if !errors.Is(err, vfs.ErrInjected) {
					t.Fatalf("Save with a failing %s: %v", op, err)
				}
				efs.SetInjector(nil)
				if err := l.Save([]Update{{Group: 1, Entries: []*pb.Entry{ent(want.last+1, 1, "x")}}}); err == nil {
					t.Fatal("Save after a failure succeeded")
				}
			}
			l.Close()
			l = mustOpen(t, mem.CrashClone(), Options{SegmentSize: 4096})
			defer l.Close()
			if got := viewOf(t, l.Storage(1)); got.last < want.last || !sameView(got, want) && got.last == want.last {
				t.Fatalf("after a crash:\n got %v\nwant at least %v", got, want)
			}
		})
	}
}

// TestWholeLogDamaged: a record header that fails its checksum in the
// last segment (no checkpoint after it to say what was lost) refuses the
// log as a whole, and says so (Log.Damaged) at every reopen; a damaged
// record body refuses its group only.
func TestWholeLogDamaged(t *testing.T) {
	mem, _ := damageFixture(t)
	l := mustOpen(t, mem, Options{SegmentSize: 4096})
	if l.Damaged() {
		t.Fatal("an undamaged log reports damage")
	}
	l.Close()
	dirents, _ := mem.ReadDir(testDir)
	last := filepath.Join(testDir, dirents[len(dirents)-1].Name())
	b := fileBytes(t, mem, last)
	_, n, _ := nextRecord(b, len(b))
	b[n+1] ^= 0x10 // the length of the record after the segment header
	writeBytes(t, mem, last, b)
	for range 2 {
		l := mustOpen(t, mem, Options{SegmentSize: 4096})
		if !l.Damaged() || !l.Storage(2).Damaged() {
			t.Fatalf("log damaged %v, group 2 damaged %v: want both", l.Damaged(), l.Storage(2).Damaged())
		}
		l.Close()
	}
}
