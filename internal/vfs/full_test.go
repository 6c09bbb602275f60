package vfs

import (
	"errors"
	"syscall"
	"testing"
)

// TestDiskFull: while full, what needs space fails with ENOSPC and has no
// effect, what frees or only reads space works; freed, writes work again.
func TestDiskFull(t *testing.T) {
	var full DiskFull
	fs := NewErrorFS(NewMem())
	fs.SetInjector(full.Injector())
	f, err := fs.Create("/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	full.Set(true)
	steps := []struct {
		name   string
		run    func() error
		enospc bool
	}{
		{"write", func() error { _, err := f.Write([]byte("more")); return err }, true},
		{"write at", func() error { _, err := f.WriteAt([]byte("x"), 0); return err }, true},
		{"sync", f.Sync, true},
		{"mkdir", func() error { return fs.MkdirAll("/d", 0o700) }, true},
		{"rename", func() error { return fs.Rename("/a", "/b") }, true},
		{"sync dir", func() error { return fs.SyncDir("/") }, true},
		{"read", func() error { _, err := f.ReadAt(make([]byte, 5), 0); return err }, false},
		{"stat", func() error { _, err := fs.Stat("/a"); return err }, false},
		{"truncate", func() error { return f.Truncate(5) }, false},
	}
	for _, s := range steps {
		err := s.run()
		if got := errors.Is(err, syscall.ENOSPC); got != s.enospc {
			t.Errorf("%s on a full disk: %v, want ENOSPC %v", s.name, err, s.enospc)
		}
	}
	b := make([]byte, 5)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "hello" {
		t.Fatalf("a failed write changed the file: %q %v", b, err)
	}
	full.Set(false)
	if _, err := f.Write([]byte("!")); err != nil {
		t.Fatalf("write after space came back: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync after space came back: %v", err)
	}
}
