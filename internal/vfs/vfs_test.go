package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// eachFS runs a behaviour test against the OS and the memory filesystem, so
// the memory one cannot drift from what the OS does.
func eachFS(t *testing.T, test func(t *testing.T, fsys FS, dir string)) {
	t.Run("os", func(t *testing.T) { test(t, Default, t.TempDir()) })
	t.Run("mem", func(t *testing.T) {
		m := NewMem()
		if err := m.MkdirAll("/tmp/x", 0o755); err != nil {
			t.Fatal(err)
		}
		test(t, m, "/tmp/x")
	})
	t.Run("errorfs", func(t *testing.T) { test(t, NewErrorFS(NewMem()), "/") })
}

func readAll(t *testing.T, fsys FS, name string) []byte {
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
	if n, err := f.ReadAt(b, 0); err != nil && !(err == io.EOF && n == len(b)) {
		t.Fatal(err)
	}
	return b
}

func TestFileOps(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys FS, dir string) {
		name := filepath.Join(dir, "a")
		f, err := fsys.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("hello ")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("world")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("W"), 6); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("!"), 13); err != nil { // leaves a zero hole
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 20)
		n, err := f.ReadAt(buf, 0)
		if err != io.EOF || n != 14 {
			t.Fatalf("ReadAt past end = %d, %v", n, err)
		}
		if want := []byte("hello World\x00\x00!"); !bytes.Equal(buf[:n], want) {
			t.Fatalf("content %q, want %q", buf[:n], want)
		}
		if err := f.Truncate(5); err != nil {
			t.Fatal(err)
		}
		st, err := f.Stat()
		if err != nil || st.Size() != 5 {
			t.Fatalf("Stat after truncate = %v, %v", st, err)
		}
		if err := f.Truncate(7); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, fsys, name); !bytes.Equal(got, []byte("hello\x00\x00")) {
			t.Fatalf("after grow %q", got)
		}
		if f.Name() != name {
			t.Fatalf("Name = %q", f.Name())
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("x")); err == nil {
			t.Fatal("write after close succeeded")
		}

		ro, err := fsys.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ro.Write([]byte("x")); err == nil {
			t.Fatal("write to read-only file succeeded")
		}
		ro.Close()
	})
}

func TestDirOps(t *testing.T) {
	eachFS(t, func(t *testing.T, fsys FS, dir string) {
		sub := filepath.Join(dir, "s", "t")
		if err := MkdirAllSynced(fsys, sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"b", "a", "c"} {
			f, err := fsys.Create(filepath.Join(sub, n))
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		if err := fsys.Rename(filepath.Join(sub, "c"), filepath.Join(sub, "a")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Remove(filepath.Join(sub, "b")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.SyncDir(sub); err != nil {
			t.Fatal(err)
		}
		ents, err := fsys.ReadDir(sub)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 1 || ents[0].Name() != "a" || ents[0].IsDir() {
			t.Fatalf("ReadDir = %v", ents)
		}
		if _, err := fsys.Stat(filepath.Join(sub, "b")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat removed = %v", err)
		}
		if _, err := fsys.Open(filepath.Join(sub, "nope")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open missing = %v", err)
		}
		if _, err := fsys.OpenFile(filepath.Join(sub, "a"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("O_EXCL on existing = %v", err)
		}
		if err := fsys.RemoveAll(filepath.Join(dir, "s")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(filepath.Join(dir, "s")); err != nil {
			t.Fatalf("RemoveAll missing = %v", err)
		}
		if _, err := fsys.Stat(sub); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Stat after RemoveAll = %v", err)
		}
	})
}

func TestCrashDropsUnsyncedData(t *testing.T) {
	m := NewMem()
	f, err := m.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("synced"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("+lost"))
	f.WriteAt([]byte("S"), 0) // an overwrite of synced bytes, not synced

	c := m.CrashClone()
	if got := readAll(t, c, "/f"); string(got) != "synced" {
		t.Fatalf("after crash %q", got)
	}
	if got := readAll(t, m, "/f"); string(got) != "Synced+lost" {
		t.Fatalf("original changed: %q", got)
	}
	// The clone is independent of the original.
	f.Sync()
	if got := readAll(t, c, "/f"); string(got) != "synced" {
		t.Fatalf("clone follows original: %q", got)
	}

	torn := m.CrashClone(KeepUnsynced(func(string, int) int { return 3 }))
	if got := readAll(t, torn, "/f"); string(got) != "Synced+lost" {
		t.Fatalf("synced clone %q", got)
	}
	f.Write([]byte("abcdef"))
	torn = m.CrashClone(KeepUnsynced(func(_ string, n int) int {
		if n != 6 {
			t.Errorf("unsynced = %d", n)
		}
		return 3
	}))
	if got := readAll(t, torn, "/f"); string(got) != "Synced+lostabc" {
		t.Fatalf("torn clone %q", got)
	}
}

func TestCrashDropsUnsyncedEntries(t *testing.T) {
	m := NewMem()
	if err := MkdirAllSynced(m, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	mk := func(name string) {
		f, err := m.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(name))
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	mk("/d/kept")
	mk("/d/gone")
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	mk("/d/unsynced-entry") // data synced, entry not
	if err := m.Remove("/d/gone"); err != nil {
		t.Fatal(err)
	}
	if err := m.Rename("/d/kept", "/d/renamed"); err != nil {
		t.Fatal(err)
	}

	c := m.CrashClone()
	names := func(fsys FS) []string {
		ents, err := fsys.ReadDir("/d")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	if got := names(c); len(got) != 2 || got[0] != "gone" || got[1] != "kept" {
		t.Fatalf("after crash without SyncDir: %v", got)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	c = m.CrashClone()
	if got := names(c); len(got) != 2 || got[0] != "renamed" || got[1] != "unsynced-entry" {
		t.Fatalf("after crash with SyncDir: %v", got)
	}
	if got := readAll(t, c, "/d/renamed"); string(got) != "/d/kept" {
		t.Fatalf("renamed content %q", got)
	}

	// A directory made without syncing its parent disappears.
	if err := m.MkdirAll("/e", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CrashClone().Stat("/e"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unsynced dir survived: %v", err)
	}
}

func TestSharedSyncedCopyOnWrite(t *testing.T) {
	// Syncing aliases the data; later truncation and overwrite must not
	// leak into the synced state.
	m := NewMem()
	f, _ := m.Create("/f")
	m.SyncDir("/")
	f.Write(bytes.Repeat([]byte("a"), 100))
	f.Sync()
	f.Truncate(10)
	f.Write(bytes.Repeat([]byte("b"), 50)) // Write continues at its offset, 100
	f.WriteAt([]byte("c"), 5)
	got := readAll(t, m.CrashClone(), "/f")
	if !bytes.Equal(got, bytes.Repeat([]byte("a"), 100)) {
		t.Fatalf("synced state changed: %q", got)
	}
	cur := readAll(t, m, "/f")
	if len(cur) != 150 || cur[5] != 'c' || cur[10] != 0 || cur[100] != 'b' {
		t.Fatalf("current state %q", cur)
	}
}

func TestErrorFSInjection(t *testing.T) {
	e := NewErrorFS(NewMem())
	f, err := e.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	e.SetInjector(FailNth(OpSync, 2, ErrInjected))
	if err := f.Sync(); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("second sync = %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("third sync: %v", err)
	}
	if got := e.Count(OpSync); got != 3 {
		t.Fatalf("Count(sync) = %d", got)
	}

	e.SetInjector(FailAfter(OpWrite, 2, ErrInjected))
	if _, err := f.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := f.WriteAt([]byte("b"), 0); !errors.Is(err, ErrInjected) {
			t.Fatalf("write after failure = %v", err)
		}
	}

	e.SetInjector(FailWhen(func(op Op, path string) bool { return op == OpRename && path == "/g" }, ErrInjected))
	if err := e.Rename("/f", "/g"); !errors.Is(err, ErrInjected) {
		t.Fatalf("rename = %v", err)
	}
	if _, err := e.Stat("/f"); err != nil {
		t.Fatalf("failed rename had an effect: %v", err)
	}
	e.SetInjector(nil)
	if err := e.Rename("/f", "/g"); err != nil {
		t.Fatal(err)
	}
	if OpSyncDir.String() != "syncdir" || Op(200).String() != "op?" {
		t.Fatal("Op names")
	}
}
