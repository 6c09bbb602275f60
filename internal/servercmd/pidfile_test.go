package servercmd

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestPIDFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.pid")
	if err := writePIDFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("pid file %q %v", b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := removePIDFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("not removed: %v", err)
	}
	if err := removePIDFile(path); err != nil {
		t.Fatalf("removing a missing pid file: %v", err)
	}
	// Another server took the file over: it is left alone.
	os.WriteFile(path, []byte("1"), 0o644)
	if err := removePIDFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("another process's pid file removed: %v", err)
	}
	if err := writePIDFile(filepath.Join(dir, "missing", "s.pid")); err == nil {
		t.Fatal("pid file in a missing directory written")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}
