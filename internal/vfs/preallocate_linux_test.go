//go:build linux

package vfs

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestPreallocate: on the operating system's file system, a preallocated
// file keeps its size (readers see only what was written) while its
// blocks are reserved where the file system supports it; on the memory
// file system it does nothing.
func TestPreallocate(t *testing.T) {
	f, err := Default.Create(filepath.Join(t.TempDir(), "seg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("head")); err != nil {
		t.Fatal(err)
	}
	Preallocate(f, 1<<20)
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 4 {
		t.Fatalf("size %d after preallocating, want 4", fi.Size())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 < 1<<20 {
		t.Logf("%d bytes allocated: the file system does not preallocate", st.Blocks*512)
	}
	if _, err := f.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "headtail" {
		t.Fatalf("read back %q, %v", b, err)
	}

	mf, err := NewMem().Create("seg")
	if err != nil {
		t.Fatal(err)
	}
	Preallocate(mf, 1<<20) // no Preallocator: nothing happens
	if fi, err := mf.Stat(); err != nil || fi.Size() != 0 {
		t.Fatalf("memory file after preallocating: %v, %v", fi, err)
	}
}
