package vfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomicAndReadFile(t *testing.T) {
	for _, size := range []int{0, 1, 4096, 100_000} {
		fs := NewMem()
		dir := "/d"
		if err := MkdirAllSynced(fs, dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "meta")
		if err := WriteFileAtomic(fs, path, []byte("old")); err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{'x'}, size)
		if err := WriteFileAtomic(fs, path, data); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(fs, path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
		}
		// Synced: a crash keeps it, and leaves no temporary file.
		crashed := fs.CrashClone()
		if got, err := ReadFile(crashed, path); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d after a crash: %d bytes, %v", size, len(got), err)
		}
		ents, _ := crashed.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				t.Fatalf("temporary file %s left", e.Name())
			}
		}
	}
}

// TestWriteFileAtomicOS: on the operating system's file system, a
// replacement leaves no temporary file, and a missing directory is
// os.ErrNotExist.
func TestWriteFileAtomicOS(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta")
	for _, content := range []string{"one", "two"} {
		if err := WriteFileAtomic(Default, path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := ReadFile(Default, path); string(b) != content {
			t.Fatalf("content %q, want %q", b, content)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err := WriteFileAtomic(Default, filepath.Join(dir, "missing", "meta"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing dir: %v", err)
	}
}
