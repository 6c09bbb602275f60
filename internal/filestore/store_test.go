package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// segFiles lists the segment files in the store's directory.
func segFiles(t *testing.T, fsys vfs.FS) []string {
	t.Helper()
	ents, err := fsys.ReadDir(testDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func fileBytes(t testing.TB, fsys vfs.FS, name string) []byte {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, st.Size())
	if n, err := f.ReadAt(b, 0); n != len(b) && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

func TestPersistence(t *testing.T) {
	for _, name := range []string{"os", "mem"} {
		t.Run(name, func(t *testing.T) {
			var fsys vfs.FS = vfs.NewMem()
			dir := testDir
			if name == "os" {
				fsys, dir = vfs.Default, filepath.Join(t.TempDir(), "s")
			}
			cfg := Config{SegmentSize: 1024, Logger: testLogger(t)}
			open := func() *Store {
				s, err := Open(fsys, dir, cfg)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			s := open()
			m := newModel()
			for i := range 60 {
				subj := fmt.Sprintf("s.%d", i%4)
				var hdr []byte
				if i%3 == 0 {
					hdr = []byte("NATS/1.0\r\nA: b\r\n\r\n")
				}
				data := bytes.Repeat([]byte{byte(i)}, i)
				ts := int64(1000 + i)
				seq, err := s.Append(subj, hdr, data, ts, int64(i%2))
				if err != nil {
					t.Fatal(err)
				}
				m.append(subj, hdr, data, ts, int64(i%2))
				if seq != m.last {
					t.Fatalf("seq %d, want %d", seq, m.last)
				}
			}
			steps := []func(st store.Store) (uint64, uint64){
				func(st store.Store) (uint64, uint64) { // interior deletes
					ok, _ := st.Delete(7, false)
					delete(m.msgs, 7)
					ok2, _ := st.Delete(8, true)
					delete(m.msgs, 8)
					return b2u(ok) + b2u(ok2), 2
				},
				func(st store.Store) (uint64, uint64) {
					req := store.PurgeRequest{Subject: "s.1", Keep: 3}
					n, _ := st.Purge(req)
					return n, m.purge(req)
				},
				func(st store.Store) (uint64, uint64) {
					n, _ := st.Compact(20)
					return n, m.compact(20)
				},
				func(st store.Store) (uint64, uint64) {
					req := store.PurgeRequest{Subject: "s.*", Seq: 30}
					n, _ := st.Purge(req)
					return n, m.purge(req)
				},
				func(st store.Store) (uint64, uint64) {
					seq, _ := st.Skip()
					m.last++
					return seq, m.last
				},
				func(st store.Store) (uint64, uint64) {
					n, _ := st.Purge(store.PurgeRequest{})
					return n, m.purge(store.PurgeRequest{})
				},
				func(st store.Store) (uint64, uint64) {
					seq, _ := st.Append("after", nil, []byte("x"), 5000, 0)
					return seq, m.append("after", nil, []byte("x"), 5000, 0)
				},
				func(st store.Store) (uint64, uint64) {
					n, _ := st.Compact(200)
					return n, m.compact(200)
				},
			}
			filters := []string{">", "s.1", "s.*", "after"}
			for i, step := range steps {
				got, want := step(s)
				if got != want {
					t.Fatalf("step %d: got %d, want %d", i, got, want)
				}
				m.check(t, s, filters)
				s.waitMaintenance()
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				s = open()
				m.check(t, s, filters)
			}
			st := s.State()
			if st.FirstSeq != 200 || st.LastSeq != 199 || st.Msgs != 0 {
				t.Fatalf("after Compact(200): %+v", st)
			}
			if seq, _ := s.Append("x", nil, nil, 1, 0); seq != 200 {
				t.Fatalf("append after compact = %d", seq)
			}
			s.Close()
		})
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func TestFreshStoreState(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Config{})
	defer s.Close()
	if st := s.State(); st.FirstSeq != 0 || st.LastSeq != 0 || st.Msgs != 0 || !st.FirstTime.IsZero() {
		t.Fatalf("fresh state %+v", st)
	}
	if _, err := s.Load(1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load on empty = %v", err)
	}
	if _, err := s.LoadLast(">"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LoadLast on empty = %v", err)
	}
	// Purge of a fresh store moves first to 1, as nats-server does.
	if n, err := s.Purge(store.PurgeRequest{}); n != 0 || err != nil {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	if st := s.State(); st.FirstSeq != 1 || st.LastSeq != 0 {
		t.Fatalf("after purge %+v", st)
	}
}

func TestSegmentsRemovedAndRewritten(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{SegmentSize: 1024})
	payload := bytes.Repeat([]byte("p"), 50)
	for range 100 {
		mustAppend(t, s, "a", nil, payload)
	}
	mustSync(t, s)
	before := len(segFiles(t, fsys))
	if before < 8 {
		t.Fatalf("only %d segments", before)
	}
	// Every message of the first segments: those files go.
	first := s.segs[0]
	n := uint64(indexed(s, first).n() + indexed(s, s.segs[1]).n())
	for q := uint64(1); q <= n; q++ {
		s.Delete(q, false)
	}
	// Every other message of the rest: those get rewritten at half size.
	for q := n + 1; q < 90; q += 2 {
		s.Delete(q, false)
	}
	s.waitMaintenance()
	after := segFiles(t, fsys)
	if after[0] != fmt.Sprintf("%016x.seg", first.id+2) {
		t.Fatalf("segments %v (before %d)", after, before)
	}
	if st := s.Stats(); st.Compactions == 0 {
		t.Fatal("no segment was rewritten")
	}
	size := int64(len(fileBytes(t, fsys, filepath.Join(testDir, after[0]))))
	if size > 1024*3/4 {
		t.Fatalf("rewritten segment is %d bytes", size)
	}
	want := s.State()
	mustClose(t, s)
	s = mustOpen(t, fsys.CrashClone(), Config{SegmentSize: 1024})
	defer s.Close()
	if got := s.State(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopen %+v\nwant %+v", got, want)
	}
	for q := uint64(1); q <= 100; q++ {
		_, err := s.Load(q)
		if live := q > 89 || (q > n && (q-n)%2 == 0); live != (err == nil) {
			t.Fatalf("Load(%d) = %v", q, err)
		}
	}
}

// A segment's delete records may hide messages of an older segment that
// still holds them; removing the newer segment must carry them forward.
func TestDeletesCarriedForward(t *testing.T) {
	fsys := vfs.NewMem()
	cfg := Config{SegmentSize: 1024}
	s := mustOpen(t, fsys, cfg)
	defer func() { s.Close() }()
	payload := bytes.Repeat([]byte("p"), 50)
	fill := func(segs int) {
		for segCount(s) < segs {
			mustAppend(t, s, "a", nil, payload)
		}
	}
	fill(2)
	s.Delete(1, false) // delete records for 1..3 land in segment 2
	s.Delete(2, false)
	s.Delete(3, false)
	fill(3)
	// Maintenance may be rewriting segments meanwhile: read under the lock.
	var g2 *segment
	var first, last uint64
	locked(s, func() { g2 = s.segs[1]; first, last = g2.firstSeq(), g2.lastSeq() })
	for q := first; q <= last; q++ {
		s.Delete(q, false)
	}
	s.waitMaintenance()
	var removed, held bool
	locked(s, func() {
		s.indexLocked(s.segs[0])
		removed, held = g2.removed, s.segs[0].n() > 0 && s.segs[0].at(0).present()
	})
	if !removed {
		t.Fatal("empty segment 2 not removed")
	}
	if !held {
		t.Fatal("test needs segment 1 to still hold the deleted records")
	}
	want := s.State()
	mustSync(t, s)
	crashed := fsys.CrashClone()
	s.Close()
	s = mustOpen(t, crashed, cfg)
	if got := s.State(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after crash %+v\nwant %+v", got, want)
	}
	for q := uint64(1); q <= 3; q++ {
		if _, err := s.Load(q); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted %d came back: %v", q, err)
		}
	}
}

func TestEraseOverwritesPayload(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{})
	secret := []byte("TOP-SECRET-PAYLOAD")
	mustAppend(t, s, "a", nil, []byte("keep"))
	seq := mustAppend(t, s, "a", []byte("NATS/1.0\r\nX: SECRET-HEADER\r\n\r\n"), secret)
	mustAppend(t, s, "a", nil, []byte("keep too"))
	mustSync(t, s)
	seg := filepath.Join(testDir, fmt.Sprintf("%016x.seg", 1))
	if !bytes.Contains(fileBytes(t, fsys, seg), secret) {
		t.Fatal("payload not on disk to begin with")
	}
	if ok, err := s.Delete(seq, true); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	// Erase is synced before Delete returns: check the durable state.
	crashed := fsys.CrashClone()
	raw := fileBytes(t, crashed, seg)
	if bytes.Contains(raw, secret) || bytes.Contains(raw, []byte("SECRET-HEADER")) {
		t.Fatal("erased payload still on disk")
	}
	s.Close()
	s = mustOpen(t, crashed, Config{})
	defer s.Close()
	if _, err := s.Load(seq); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Load(erased) = %v", err)
	}
	if st := s.State(); st.Msgs != 2 || len(st.Lost.Msgs) != 0 {
		t.Fatalf("state %+v", st)
	}
}

func TestCompressionMixedFiles(t *testing.T) {
	fsys := vfs.NewMem()
	big := bytes.Repeat([]byte("compressible "), 200)
	s := mustOpen(t, fsys, Config{})
	mustAppend(t, s, "plain", nil, big)
	mustClose(t, s)
	s = mustOpen(t, fsys, Config{Compression: "s2"})
	seq := mustAppend(t, s, "s2", []byte("NATS/1.0\r\n\r\n"), big)
	if want := store.FileMsgSize("plain", nil, big) + store.FileMsgSize("s2", []byte("NATS/1.0\r\n\r\n"), big); s.State().Bytes != want {
		t.Fatalf("Bytes = %d, want %d (uncompressed sizes)", s.State().Bytes, want)
	}
	mustClose(t, s)
	raw := fileBytes(t, fsys, filepath.Join(testDir, fmt.Sprintf("%016x.seg", 1)))
	if len(raw) > len(big)+len(big)/4 {
		t.Fatalf("file is %d bytes for one plain and one compressed %d-byte payload", len(raw), len(big))
	}
	s = mustOpen(t, fsys, Config{})
	defer s.Close()
	for q := uint64(1); q <= seq; q++ {
		m, err := s.Load(q)
		if err != nil || !bytes.Equal(m.Data, big) {
			t.Fatalf("Load(%d) = %v", q, err)
		}
	}
}

func TestLargeMessages(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{SegmentSize: 4096})
	defer s.Close()
	big := bytes.Repeat([]byte("0123456789"), 20000) // larger than a segment and a cache block
	for i := range 3 {
		mustAppend(t, s, "big", nil, big[:len(big)-i])
		mustAppend(t, s, "small", nil, []byte("x"))
	}
	mustSync(t, s)
	for q := uint64(1); q <= 6; q++ {
		m, err := s.Load(q)
		if err != nil {
			t.Fatal(err)
		}
		if q%2 == 1 && len(m.Data) != len(big)-int(q/2) {
			t.Fatalf("Load(%d) = %d bytes", q, len(m.Data))
		}
	}
	if _, err := s.Append(strings.Repeat("s", 70000), nil, nil, 0, 0); err == nil {
		t.Fatal("subject over 64 KiB accepted")
	}
}

func TestReadCache(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Config{})
	defer s.Close()
	for range 2000 {
		mustAppend(t, s, "a", nil, make([]byte, 100))
	}
	mustSync(t, s)
	for q := uint64(1); q <= 2000; q++ {
		if _, err := s.Load(q); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.CacheHits < 10*st.CacheMisses {
		t.Fatalf("sequential reads: %d hits, %d misses", st.CacheHits, st.CacheMisses)
	}
	if s.cache.used > DefaultCacheBytes {
		t.Fatalf("cache holds %d bytes", s.cache.used)
	}
}

// Stores sharing a read cache stay within its one bound together, and
// each counts its own hits and misses.
func TestSharedReadCache(t *testing.T) {
	const bound = 4 * blockSize
	cache := NewBlockCache(bound)
	fsys := vfs.NewMem()
	var stores []*Store
	for i := range 8 {
		s, err := Open(fsys, fmt.Sprintf("s%d", i), Config{Cache: cache, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for range 1000 {
			mustAppend(t, s, "a", nil, make([]byte, 100))
		}
		mustSync(t, s)
		stores = append(stores, s)
	}
	for i, s := range stores {
		if i == 7 {
			break // the last store reads nothing
		}
		for q := uint64(1); q <= 1000; q++ {
			if _, err := s.Load(q); err != nil {
				t.Fatal(err)
			}
		}
		cache.mu.Lock()
		used := cache.used
		cache.mu.Unlock()
		if used > bound {
			t.Fatalf("shared cache holds %d bytes, bound %d", used, bound)
		}
		if st := s.Stats(); st.CacheMisses == 0 || st.CacheHits == 0 {
			t.Fatalf("store %d: %d hits, %d misses", i, st.CacheHits, st.CacheMisses)
		}
	}
	if st := stores[7].Stats(); st.CacheHits+st.CacheMisses != 0 {
		t.Fatalf("a store that read nothing counts %d hits, %d misses", st.CacheHits, st.CacheMisses)
	}
}

func TestIndexEntrySize(t *testing.T) {
	// The per-message RAM budget: 12 bytes of index entry (the subject
	// summary adds at most 4 bytes per distinct subject and segment).
	if n := unsafe.Sizeof(entry{}); n > 12 {
		t.Fatalf("index entry is %d bytes", n)
	}
}

func TestSparseIndex(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{SegmentSize: 32 << 10})
	defer s.Close()
	for len(s.segs) < 2 {
		mustAppend(t, s, "a", nil, []byte("x"))
	}
	g := s.segs[0]
	last := g.lastSeq()
	for q := uint64(2); q < last; q++ { // keep the first and the last
		s.Delete(q, false)
	}
	s.waitMaintenance()
	indexed(s, g)
	// Two live entries; a third, dead one remains when its delete raced
	// the rewrite's copy (it is dropped by the next rewrite).
	if g.sparse == nil || len(g.sparse) < 2 || len(g.sparse) > 3 {
		t.Fatalf("rewritten segment index: sparse=%d dense=%d", len(g.sparse), len(g.dense))
	}
	for _, q := range []uint64{1, last} {
		if m, err := s.Load(q); err != nil || m.Seq != q {
			t.Fatalf("Load(%d) = %v", q, err)
		}
	}
	if m, err := s.LoadNext("a", 2); err != nil || m.Seq != last {
		t.Fatalf("LoadNext = %v, %v", m, err)
	}
	if m, err := s.LoadPrev("a", last-1); err != nil || m.Seq != 1 {
		t.Fatalf("LoadPrev = %v, %v", m, err)
	}
}

func TestOpenLeavesForeignFilesAndRemovesTmp(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{})
	mustAppend(t, s, "a", nil, []byte("x"))
	mustClose(t, s)
	for _, name := range []string{"0000000000000001.seg.tmp", "README"} {
		f, err := fsys.Create(filepath.Join(testDir, name))
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("junk"))
		f.Close()
	}
	s = mustOpen(t, fsys, Config{})
	defer s.Close()
	if got := segFiles(t, fsys); strings.Join(got, " ") != "0000000000000001.seg README highwater segments" {
		t.Fatalf("files %v", got)
	}
	if s.State().Msgs != 1 {
		t.Fatal("message lost")
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{SegmentSize: 10},
		{SegmentSize: 2 << 30},
		{Compression: "zstd"},
		{SyncInterval: -1},
	} {
		if _, err := Open(vfs.NewMem(), testDir, cfg); err == nil {
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}

func TestClosedAndDestroy(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{})
	mustAppend(t, s, "a", nil, nil)
	mustClose(t, s)
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := s.Append("a", nil, nil, 0, 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, err := s.Load(1); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Load after Close = %v", err)
	}
	if err := s.Sync(); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Sync after Close = %v", err)
	}
	done := make(chan error, 1)
	s.Durable(5, func(err error) { done <- err })
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Durable after Close = %v", err)
	}

	s = mustOpen(t, fsys, Config{})
	if err := s.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(testDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory still there: %v", err)
	}
}

// TestMemoryPerMessage: payloads stay on disk; what the store keeps per
// message is its index entry (plus slack from slice growth).
func TestMemoryPerMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 25 MB")
	}
	const n = 200_000
	s, err := Open(vfs.Default, filepath.Join(t.TempDir(), "s"), Config{Logger: nopLogger, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	payload := make([]byte, 100)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := range n {
		if _, err := s.Append(fmt.Sprintf("subj.%d", i%100), nil, payload, int64(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	perMsg := float64(heap()-before) / n
	t.Logf("%.1f bytes of heap per message (100-byte payloads)", perMsg)
	if perMsg > 40 {
		t.Fatalf("%.1f bytes of heap per message", perMsg)
	}
}
