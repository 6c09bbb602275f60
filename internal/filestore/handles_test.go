package filestore

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// countFS counts the files open at once through it, and the most ever.
type countFS struct {
	vfs.FS
	open, peak atomic.Int64
}

type countFile struct {
	vfs.File
	fs   *countFS
	once sync.Once
}

func (c *countFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	n := c.open.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &countFile{File: f, fs: c}, nil
}

func (c *countFS) Create(name string) (vfs.File, error) {
	return c.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}

func (c *countFS) Open(name string) (vfs.File, error) { return c.OpenFile(name, os.O_RDONLY, 0) }

func (f *countFile) Close() error {
	f.once.Do(func() { f.fs.open.Add(-1) })
	return f.File.Close()
}

func TestNewHandlesRefusesTinyBound(t *testing.T) {
	for _, n := range []int{-1, 0, 1, MinMaxOpenFiles - 1} {
		if _, err := NewHandles(n); err == nil {
			t.Errorf("NewHandles(%d) accepted", n)
		}
	}
	if _, err := NewHandles(MinMaxOpenFiles); err != nil {
		t.Errorf("NewHandles(%d): %v", MinMaxOpenFiles, err)
	}
}

// Many stores sharing one cache keep at most its bound of files open
// while idle, and every store still appends, syncs and reads.
func TestHandlesBoundManyStores(t *testing.T) {
	fsys := &countFS{FS: vfs.NewMem()}
	h, err := NewHandles(MinMaxOpenFiles)
	if err != nil {
		t.Fatal(err)
	}
	const stores = 60
	var ss []*Store
	for i := range stores {
		s, err := Open(fsys, fmt.Sprintf("/data/s%d", i), Config{Handles: h, SegmentSize: 4096})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		ss = append(ss, s)
	}
	for round := range 3 {
		for i, s := range ss {
			for k := range 20 { // several segments each
				seq, err := s.Append("a", nil, []byte(fmt.Sprintf("m%d-%d-%d-%0200d", i, round, k, 0)), 1, 0)
				if err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				if err := durable(s, seq); err != nil {
					t.Fatalf("durable %d: %v", i, err)
				}
			}
		}
	}
	for i, s := range ss {
		st := s.State()
		if st.Msgs != 60 {
			t.Fatalf("store %d: %d msgs", i, st.Msgs)
		}
		for seq := uint64(1); seq <= st.LastSeq; seq += 7 {
			if _, err := s.Load(seq); err != nil {
				t.Fatalf("store %d load %d: %v", i, seq, err)
			}
		}
		// Deletes, a purge (a new active file) and a compaction hold and
		// let go of files too.
		for seq := uint64(1); seq <= 20; seq += 2 {
			if _, err := s.Delete(seq, seq%4 == 1); err != nil {
				t.Fatalf("store %d delete %d: %v", i, seq, err)
			}
		}
		if i%2 == 0 {
			if _, err := s.Purge(store.PurgeRequest{}); err != nil {
				t.Fatalf("store %d purge: %v", i, err)
			}
		} else if _, err := s.Compact(40); err != nil {
			t.Fatalf("store %d compact: %v", i, err)
		}
		seq, err := s.Append("b", nil, []byte("after"), 1, 0)
		if err == nil {
			err = durable(s, seq)
		}
		if err != nil {
			t.Fatalf("store %d append after purge: %v", i, err)
		}
		s.waitMaintenance()
	}
	// Idle now: the cache is back within its bound.
	if n := h.Stats().Open; n > MinMaxOpenFiles {
		t.Errorf("%d handles open while idle, bound %d", n, MinMaxOpenFiles)
	}
	// In use, only running operations exceed it: here one at a time,
	// plus short-lived side files read at open and temporary files.
	if p := fsys.peak.Load(); p > MinMaxOpenFiles+4 {
		t.Errorf("peak %d files open, bound %d", p, MinMaxOpenFiles)
	}
	if h.Stats().Evictions == 0 {
		t.Error("no handle was evicted: the test does not exercise the bound")
	}
	for _, s := range ss {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := fsys.open.Load(); n != 0 {
		t.Errorf("%d files still open after closing every store", n)
	}
	if n := h.Stats().Open; n != 0 {
		t.Errorf("cache counts %d open after closing every store", n)
	}
}

func durable(s *Store, seq uint64) error {
	ch := make(chan error, 1)
	s.Durable(seq, func(err error) { ch <- err })
	return <-ch
}

// A handle evicted with unsynced writes is synced as it closes: with a
// sync interval, a crash right after the eviction keeps what was written.
func TestHandlesEvictionSyncs(t *testing.T) {
	mem := vfs.NewMem()
	h, _ := NewHandles(MinMaxOpenFiles)
	f, err := createRfile(h, mem, "/x")
	if err != nil {
		t.Fatal(err)
	}
	f.unhold()
	if err := mem.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	// Fill the cache with others until /x is evicted.
	for i := range MinMaxOpenFiles + 1 {
		o, err := createRfile(h, mem, fmt.Sprintf("/o%d", i))
		if err != nil {
			t.Fatal(err)
		}
		o.unhold()
		defer o.release()
	}
	crashed := mem.CrashClone()
	b := make([]byte, 5)
	cf, err := crashed.Open("/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cf.ReadAt(b, 0); err != nil || string(b) != "hello" {
		t.Fatalf("after crash: %q, %v (evicted without sync)", b, err)
	}
	cf.Close()
	// Reopened on demand, it reads back.
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "hello" {
		t.Fatalf("reopened: %q, %v", b, err)
	}
	if err := f.release(); err != nil {
		t.Fatal(err)
	}
}

// A sync that fails while an evicted handle closes is reported by the
// file's next sync, so the store never acknowledges over it.
func TestHandlesEvictionSyncFailureReported(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	h, _ := NewHandles(MinMaxOpenFiles)
	f, err := createRfile(h, efs, "/x")
	if err != nil {
		t.Fatal(err)
	}
	f.unhold()
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	efs.SetInjector(vfs.FailNth(vfs.OpSync, 1, syscall.EIO))
	for i := range MinMaxOpenFiles + 1 {
		o, err := createRfile(h, efs, fmt.Sprintf("/o%d", i))
		if err != nil {
			t.Fatal(err)
		}
		o.unhold()
		defer o.release()
	}
	efs.SetInjector(nil)
	if err := f.sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync after failed eviction sync: %v, want EIO", err)
	}
	f.release()
}

// Out of descriptors, an append is refused with ErrTooManyOpenFiles and
// the store stays writable: the next append, with descriptors back,
// succeeds.
func TestHandlesOutOfFilesRefusesOneAppend(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	h, _ := NewHandles(MinMaxOpenFiles)
	s, err := Open(efs, testDir, Config{Handles: h})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seq, err := s.Append("a", nil, []byte("one"), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := durable(s, seq); err != nil {
		t.Fatal(err)
	}
	// Push every idle handle out, then run out of descriptors.
	for i := range MinMaxOpenFiles + 1 {
		o, err := createRfile(h, efs, fmt.Sprintf("/o%d", i))
		if err != nil {
			t.Fatal(err)
		}
		o.unhold()
		defer o.release()
	}
	efs.SetInjector(vfs.FailAfter(vfs.OpOpen, 1, syscall.EMFILE))
	if _, err := s.Append("a", nil, []byte("two"), 1, 0); !errors.Is(err, ErrTooManyOpenFiles) {
		t.Fatalf("append out of descriptors: %v, want ErrTooManyOpenFiles", err)
	}
	if _, err := s.Load(1); !errors.Is(err, ErrTooManyOpenFiles) {
		t.Fatalf("load out of descriptors: %v, want ErrTooManyOpenFiles", err)
	}
	efs.SetInjector(nil)
	seq, err = s.Append("a", nil, []byte("three"), 1, 0)
	if err != nil {
		t.Fatalf("append after descriptors came back: %v", err)
	}
	if seq != 2 {
		t.Fatalf("seq %d, want 2 (the refused append took none)", seq)
	}
	if err := durable(s, seq); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[uint64]string{1: "one", 2: "three"} {
		m, err := s.Load(q)
		if err != nil || string(m.Data) != want {
			t.Fatalf("load %d: %v %v", q, m, err)
		}
	}
	if err := s.Stats().Err; err != nil && !errors.Is(err, store.ErrClosed) {
		t.Fatalf("store failed: %v", err)
	}
}

// blockingSyncFS holds every Sync until release is closed.
type blockingSyncFS struct {
	vfs.FS
	entered chan struct{}
	release chan struct{}
}

type blockingSyncFile struct {
	vfs.File
	fs *blockingSyncFS
}

func (b *blockingSyncFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := b.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &blockingSyncFile{File: f, fs: b}, nil
}

func (f *blockingSyncFile) Sync() error {
	select {
	case f.fs.entered <- struct{}{}:
	default:
	}
	<-f.fs.release
	return f.File.Sync()
}

// A sync that finds the file clean while another sync's fsync is still
// running waits for it: returning at once would acknowledge writes that
// are not on disk yet.
func TestHandlesConcurrentSyncWaits(t *testing.T) {
	bfs := &blockingSyncFS{FS: vfs.NewMem(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	h, _ := NewHandles(MinMaxOpenFiles)
	f, err := createRfile(h, bfs, "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.release()
	f.unhold()
	if _, err := f.WriteAt([]byte("data"), 0); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- f.sync() }()
	<-bfs.entered // the first fsync is running
	second := make(chan error, 1)
	go func() { second <- f.sync() }()
	select {
	case err := <-second:
		t.Fatalf("second sync returned (%v) while the first fsync was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(bfs.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}
