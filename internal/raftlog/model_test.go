package raftlog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/vfs"
)

// workload drives random operations on a Log and, in step, on one raft
// MemoryStorage per group: the model.
type workload struct {
	t      testing.TB
	seed   uint64
	rng    *rand.Rand
	mem    *vfs.MemFS
	efs    *vfs.ErrorFS
	opts   Options
	l      *Log
	models map[uint64]*raft.MemoryStorage
	terms  map[uint64]uint64
	groups uint64
	// dirty: a Compact or CreateSnapshot since the last sync, which a
	// crash may or may not keep.
	dirty bool
}

func newWorkload(t testing.TB, seed uint64) *workload {
	mem := vfs.NewMem()
	w := &workload{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 14)), mem: mem, efs: vfs.NewErrorFS(mem),
		opts: Options{SegmentSize: 4096, CacheSize: 2000}, models: map[uint64]*raft.MemoryStorage{}, terms: map[uint64]uint64{}, groups: 5,
	}
	w.l = w.open(w.efs)
	return w
}

func (w *workload) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("seed %d: %s", w.seed, fmt.Sprintf(format, args...))
}

func (w *workload) open(fsys vfs.FS) *Log {
	w.t.Helper()
	l, err := Open(fsys, testDir, w.opts)
	if err != nil {
		w.fatalf("Open: %v", err)
	}
	return l
}

func (w *workload) model(g uint64) *raft.MemoryStorage {
	ms := w.models[g]
	if ms == nil {
		ms = raft.NewMemoryStorage()
		w.models[g] = ms
		w.terms[g] = 1
	}
	return ms
}

// update makes a random update for group g that raft could produce.
func (w *workload) update(g uint64) Update {
	ms := w.model(g)
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	sn, _ := ms.Snapshot()
	u := Update{Group: g}
	r := w.rng
	if r.IntN(20) == 0 {
		w.terms[g]++
		idx := max(sn.GetMetadata().GetIndex()+1, last) + uint64(r.IntN(5))
		u.Snapshot = snap(idx, w.terms[g], fmt.Sprintf("snap-%d", idx), 1, 2, uint64(r.IntN(5)))
		first, last = idx+1, idx
	}
	if r.IntN(4) != 0 {
		at := last + 1
		if r.IntN(4) == 0 { // a conflicting suffix replaced
			w.terms[g]++
			at = max(first, last-min(last, uint64(r.IntN(4))))
		}
		terms := make([]uint64, 1+r.IntN(4))
		for i := range terms {
			terms[i] = w.terms[g]
		}
		u.Entries = ents(at, terms...)
		if r.IntN(10) == 0 { // a big entry, across records and segments
			u.Entries[0].Data = []byte(strings.Repeat("b", 3000+r.IntN(3000)))
		}
		last = at + uint64(len(terms)) - 1
	}
	if r.IntN(2) == 0 {
		u.HardState = hardst(w.terms[g], uint64(r.IntN(3)), uint64(r.IntN(int(last)+1)))
	}
	return u
}

// step runs one random operation on the log and the model.
func (w *workload) step() {
	w.t.Helper()
	r := w.rng
	switch n := r.IntN(100); {
	case n < 60:
		var batch []Update
		for g := uint64(1); g <= w.groups; g++ {
			if r.IntN(2) == 0 {
				batch = append(batch, w.update(g))
			}
		}
		if err := w.l.Save(batch); err != nil {
			w.fatalf("Save: %v", err)
		}
		// A batch syncs (making all before it durable) when raft's
		// MustSync says so; a commit-only batch leaves unsynced bytes.
		sync, hs := false, false
		for _, u := range batch {
			prev, _, _ := w.model(u.Group).InitialState()
			if len(u.Entries) > 0 || !raft.IsEmptySnap(u.Snapshot) ||
				(!raft.IsEmptyHardState(u.HardState) && raft.MustSync(u.HardState, prev, 0)) {
				sync = true
			}
			hs = hs || u.HardState != nil
			if err := applyToMemory(w.model(u.Group), u); err != nil {
				w.fatalf("model: %v", err)
			}
		}
		if sync {
			w.dirty = false
		} else if hs {
			w.dirty = true
		}
	case n < 75:
		g := 1 + uint64(r.IntN(int(w.groups)))
		ms := w.model(g)
		first, _ := ms.FirstIndex()
		last, _ := ms.LastIndex()
		if last < first {
			return
		}
		idx := first + uint64(r.IntN(int(last-first+1)))
		if err := w.l.Compact(g, idx); err != nil {
			w.fatalf("Compact(%d, %d): %v", g, idx, err)
		}
		_ = ms.Compact(idx)
		w.dirty = true
	case n < 85:
		g := 1 + uint64(r.IntN(int(w.groups)))
		ms := w.model(g)
		first, _ := ms.FirstIndex()
		last, _ := ms.LastIndex()
		sn, _ := ms.Snapshot()
		lo := max(first-1, sn.GetMetadata().GetIndex()+1)
		if last < lo {
			return
		}
		idx := lo + uint64(r.IntN(int(last-lo+1)))
		var cs *pb.ConfState
		if r.IntN(2) == 0 {
			cs = &pb.ConfState{Voters: []uint64{1, uint64(r.IntN(9))}}
		}
		data := []byte(fmt.Sprintf("sm-%d", idx))
		if _, err := w.l.CreateSnapshot(g, idx, cs, data); err != nil {
			w.fatalf("CreateSnapshot(%d, %d): %v", g, idx, err)
		}
		if _, err := ms.CreateSnapshot(idx, cs, data); err != nil {
			w.fatalf("model CreateSnapshot: %v", err)
		}
		w.dirty = true
	case n < 88:
		g := 1 + uint64(r.IntN(int(w.groups)))
		held := slices.Contains(w.l.Groups(), g)
		if err := w.l.RemoveGroup(g); err != nil {
			w.fatalf("RemoveGroup: %v", err)
		}
		delete(w.models, g)
		if held { // removing an unknown group writes nothing, syncs nothing
			w.dirty = false
		}
	default:
		w.readRandom()
	}
}

// readRandom compares one random Entries call.
func (w *workload) readRandom() {
	w.t.Helper()
	g := 1 + uint64(w.rng.IntN(int(w.groups)))
	ms := w.model(g)
	first, _ := ms.FirstIndex()
	last, _ := ms.LastIndex()
	if last < first {
		return
	}
	lo := first + uint64(w.rng.IntN(int(last-first+1)))
	hi := lo + 1 + uint64(w.rng.IntN(int(last-lo+1)))
	maxSize := uint64(w.rng.IntN(200))
	got, err := w.l.Storage(g).Entries(lo, hi, maxSize)
	want, merr := ms.Entries(lo, hi, maxSize)
	if err != nil || merr != nil || len(got) != len(want) {
		w.fatalf("group %d Entries(%d, %d, %d): %d entries %v, model %d %v", g, lo, hi, maxSize, len(got), err, len(want), merr)
	}
	for i := range got {
		if got[i].GetIndex() != want[i].GetIndex() || got[i].GetTerm() != want[i].GetTerm() || string(got[i].GetData()) != string(want[i].GetData()) {
			w.fatalf("group %d entry %d differs", g, lo+uint64(i))
		}
	}
}

// check compares every group of l with the model.
func (w *workload) check(l *Log, when string) {
	w.t.Helper()
	for g := uint64(1); g <= w.groups; g++ {
		if got, want := viewOf(w.t, l.Storage(g)), viewOf(w.t, w.model(g)); !sameView(got, want) {
			w.fatalf("%s, group %d:\n got %v\nwant %v", when, g, got, want)
		}
	}
}

// TestModel runs random operations against the log and raft's
// MemoryStorage and compares them after each; it reopens the log now and
// then, and checks a crash copy whenever everything done is synced.
func TestModel(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		w := newWorkload(t, seed)
		for i := range 300 {
			w.step()
			w.check(w.l, fmt.Sprintf("step %d", i))
			if !w.dirty && w.rng.IntN(10) == 0 {
				c := w.open(w.mem.CrashClone())
				w.check(c, fmt.Sprintf("step %d after a crash", i))
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if w.rng.IntN(40) == 0 {
				if err := w.l.Close(); err != nil {
					t.Fatal(err)
				}
				w.l = w.open(w.efs)
				w.check(w.l, fmt.Sprintf("step %d after a reopen", i))
			}
		}
		segs, _ := w.mem.ReadDir(testDir)
		if len(segs) > 40 {
			t.Fatalf("seed %d: %d segments: compaction deletes none", seed, len(segs))
		}
		w.l.Close()
	}
}

// TestCrashDuringSave: random history, then a batch whose sync fails and a
// crash that keeps any prefix of its bytes. Every group must come back as
// before the batch or with its part of the batch (never acknowledged), its
// log and hard state each whole; nothing acknowledged may be missing.
func TestCrashDuringSave(t *testing.T) {
	tornCheckpoints := 0 // batches that started a segment and failed its sync
	for seed := uint64(100); seed < 300; seed++ {
		w := newWorkload(t, seed)
		for range 20 + w.rng.IntN(150) {
			w.step()
		}
		for w.dirty { // make the compactions durable: they are acknowledged
			u := w.update(1)
			if len(u.Entries) == 0 && raft.IsEmptySnap(u.Snapshot) {
				continue
			}
			if err := w.l.Save([]Update{u}); err != nil {
				w.fatalf("Save: %v", err)
			}
			_ = applyToMemory(w.model(1), u)
			w.dirty = false
		}
		before := map[uint64]view{}
		for g := uint64(1); g <= w.groups; g++ {
			before[g] = viewOf(t, w.model(g))
		}
		var batch []Update
		mid := map[uint64]view{}
		for g := uint64(1); g <= w.groups; g++ {
			u := w.update(g)
			if len(u.Entries) > 4 || (u.Entries != nil && len(u.Entries[0].Data) > 1000) {
				u.Entries = u.Entries[:1]
				u.Entries[0].Data = []byte("small")
			}
			batch = append(batch, u)
			if !raft.IsEmptySnap(u.Snapshot) {
				// The batch's snapshot record may survive without the
				// entries after it: a prefix of an unacknowledged batch.
				if err := applyToMemory(w.model(g), Update{Snapshot: u.Snapshot}); err != nil {
					w.fatalf("model: %v", err)
				}
				mid[g] = viewOf(t, w.model(g))
				u.Snapshot = nil
			}
			if err := applyToMemory(w.model(g), u); err != nil {
				w.fatalf("model: %v", err)
			}
		}
		after := map[uint64]view{}
		for g := uint64(1); g <= w.groups; g++ {
			after[g] = viewOf(t, w.model(g))
		}
		// The first or the second sync fails: the second is the batch's
		// own when it starts a segment (the first syncs the old one), so
		// a crash can also tear a segment's opening checkpoint. When no
		// sync fails the batch is acknowledged and must all be there.
		nth := int64(1 + w.rng.IntN(2))
		w.efs.SetInjector(vfs.FailNth(vfs.OpSync, nth, vfs.ErrInjected))
		seqBefore := w.l.active().seq
		err := w.l.Save(batch)
		if nth == 2 && w.l.active().seq != seqBefore {
			tornCheckpoints++
		}
		// Acknowledged and synced: a batch that only moves commit
		// indexes is acknowledged without a sync, as raft allows.
		acked := err == nil && batchSyncs(batch, before)
		if err != nil && !errors.Is(err, vfs.ErrInjected) {
			w.fatalf("Save with a failing sync: %v", err)
		}
		// Each file keeps its own pseudo-random prefix of what was not
		// synced; from the name, so the choice does not depend on order.
		salt := w.rng.Uint64()
		c := w.open(w.mem.CrashClone(vfs.KeepUnsynced(func(name string, n int) int {
			h := salt
			for _, ch := range name {
				h = h*31 + uint64(ch)
			}
			return int(h % uint64(n+1))
		})))
		for g := uint64(1); g <= w.groups; g++ {
			got := viewOf(t, c.Storage(g))
			b, a := before[g], after[g]
			m, hasMid := mid[g]
			logOK := sameLog(got, a) || (!acked && (sameLog(got, b) || (hasMid && sameLog(got, m))))
			hsOK := got.hs == a.hs || (!acked && got.hs == b.hs)
			if !logOK || !hsOK || c.Storage(g).Damaged() {
				w.fatalf("sync %d failed (acked %v), group %d:\n   got %v\nbefore %v\n after %v", nth, acked, g, got, b, a)
			}
		}
		c.Close()
		w.l.Close()
	}
	if tornCheckpoints == 0 {
		t.Fatal("no crash tore a new segment's checkpoint: the workload needs tuning")
	}
}

// batchSyncs says whether Save syncs batch over groups showing before.
func batchSyncs(batch []Update, before map[uint64]view) bool {
	for _, u := range batch {
		hs := before[u.Group].hs
		if len(u.Entries) > 0 || !raft.IsEmptySnap(u.Snapshot) ||
			(!raft.IsEmptyHardState(u.HardState) && (u.HardState.GetTerm() != hs[0] || u.HardState.GetVote() != hs[1])) {
			return true
		}
	}
	return false
}

// sameLog compares the log part of two views (not the hard state).
func sameLog(a, b view) bool {
	a.hs, b.hs = [3]uint64{}, [3]uint64{}
	return sameView(a, b)
}
