package filestore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/vfs"
)

// TestIndexMemory measures the index's heap cost per million stored
// messages, and the time and records read to reopen the store, in this
// process, without a server around it. It is a measurement, not a check,
// and runs only when STARLING_INDEX_MEM is set (to the message count, or
// "1" for 5 million):
//
//	STARLING_INDEX_MEM=1 go test -run TestIndexMemory -v ./internal/filestore/
func TestIndexMemory(t *testing.T) {
	env := os.Getenv("STARLING_INDEX_MEM")
	if env == "" {
		t.Skip("set STARLING_INDEX_MEM to measure")
	}
	n := 5_000_000
	if v, err := strconv.Atoi(env); err == nil && v > 1 {
		n = v
	}
	for _, subjects := range []int{1, 1000} {
		t.Run(fmt.Sprintf("subjects=%d", subjects), func(t *testing.T) {
			measureIndex(t, n, subjects)
		})
	}
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func measureIndex(t *testing.T, n, subjects int) {
	dir := filepath.Join(t.TempDir(), "s")
	cfg := Config{SyncInterval: time.Hour, Logger: nopLogger}
	names := make([]string, subjects)
	for i := range names {
		names[i] = fmt.Sprintf("mem.s%d", i)
	}
	payload := make([]byte, 16)
	base := heapNow()
	s, err := Open(vfs.Default, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.Append(names[i%subjects], nil, payload, int64(i+1), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	written := heapNow()
	perM := func(h uint64) float64 { return float64(h-base) / 1e6 / (float64(n) / 1e6) }
	t.Logf("after appends: %.2f MB heap per million messages (%d segments)", perM(written), s.Stats().Segments)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var disk int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			disk += fi.Size()
		}
	}
	base = heapNow()
	t0 := time.Now()
	s, err = Open(vfs.Default, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(t0)
	scanned := s.scanned.Load()
	reopened := heapNow()
	t.Logf("after reopen: %.2f MB heap per million messages; open took %v for %.0f MB (%.2f s per GB), %d records read",
		perM(reopened), took.Round(time.Millisecond), float64(disk)/1e6, took.Seconds()/(float64(disk)/1e9), scanned)
	if st := s.State(); st.Msgs != uint64(n) {
		t.Fatalf("reopened with %d messages, want %d", st.Msgs, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Once more without the checkpoint: the whole log is read, as after
	// a crash with no checkpoint yet.
	if err := os.Remove(filepath.Join(dir, checkpointFile)); err != nil {
		t.Fatal(err)
	}
	base = heapNow()
	t0 = time.Now()
	s, err = Open(vfs.Default, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	took = time.Since(t0)
	t.Logf("without the checkpoint: %.2f MB heap per million messages; open took %v (%.2f s per GB), %d records read",
		perM(heapNow()), took.Round(time.Millisecond), took.Seconds()/(float64(disk)/1e9), s.scanned.Load())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
