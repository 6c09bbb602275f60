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

func TestPIDFileMoves(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pid"), filepath.Join(dir, "b.pid")
	var p pidFile
	if err := p.set(a); err != nil {
		t.Fatal(err)
	}
	if err := p.set(a); err != nil {
		t.Fatal(err)
	}
	if err := p.set(b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Errorf("old pid file kept: %v", err)
	}
	if got, _ := os.ReadFile(b); string(got) != strconv.Itoa(os.Getpid()) {
		t.Errorf("new pid file %q", got)
	}
	if err := p.set(filepath.Join(dir, "missing", "c.pid")); err == nil {
		t.Error("unwritable pid file accepted")
	}
	if got, _ := os.ReadFile(b); string(got) != strconv.Itoa(os.Getpid()) {
		t.Errorf("a failed move lost the pid file: %q", got)
	}
	if err := p.set(""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
}
