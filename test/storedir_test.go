package test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/storedir"
	"github.com/starling-mq/starling/server"
)

// TestStoreDirLockedInProcess: a second server on a store directory in use
// is refused at Start, and may start once the first has shut down.
func TestStoreDirLockedInProcess(t *testing.T) {
	dir := t.TempDir()
	startJS(t, dir)
	s2, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true, StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = s2.Start()
	if !errors.Is(err, storedir.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second server on the same store: %v", err)
	}
	if s2.ReadyForConnections(0) {
		t.Fatal("refused server is accepting clients")
	}
}

// TestStoreDirReleasedAfterShutdown: the lock goes with the server.
func TestStoreDirReleasedAfterShutdown(t *testing.T) {
	dir := t.TempDir()
	s1 := startJSManual(t, dir)
	if err := s1.Shutdown(ctx(t)); err != nil {
		t.Fatal(err)
	}
	startJS(t, dir)
}

// TestStoreDirDefault: with no store_dir, the store goes to the state
// directory, never the temporary directory; with no home to find one, the
// start is refused with a clear error.
func TestStoreDirDefault(t *testing.T) {
	home := t.TempDir()
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", home)
	startServer(t, func(o *serverOptions) { o.JetStream = true })
	want := filepath.Join(home, ".local", "state", "starling", storedir.LockName)
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("store not under the state directory: %v", err)
	}

	t.Setenv("HOME", "")
	_, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true})
	if err == nil || !strings.Contains(err.Error(), "set store_dir") {
		t.Fatalf("no home: %v", err)
	}
}

// TestStoreDirOnTmpfsWarns: a store in memory is allowed, with a warning
// that it will not survive a reboot.
func TestStoreDirOnTmpfsWarns(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "starling-test-")
	if err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(shm) })
	if fs, ok := storedir.Volatile(shm); !ok || fs != "tmpfs" {
		t.Skip("/dev/shm is not a tmpfs here")
	}
	rec := &levelRecorder{}
	startJS(t, shm, func(o *serverOptions) { o.Logger = slog.New(rec) })
	warned := false
	for _, line := range rec.atLeast(slog.LevelWarn) {
		warned = warned || strings.Contains(line, "on tmpfs") && strings.Contains(line, shm)
	}
	if !warned {
		t.Fatalf("no tmpfs warning: %v", rec.all())
	}
	ondisk := &levelRecorder{}
	startJS(t, "", func(o *serverOptions) { o.Logger = slog.New(ondisk) })
	for _, line := range ondisk.atLeast(slog.LevelWarn) {
		if strings.Contains(line, "tmpfs") {
			if fs, _ := storedir.Volatile(os.TempDir()); fs == "" {
				t.Fatalf("tmpfs warning for a store on disk: %s", line)
			}
		}
	}
}

// TestStartTwice: a second Start is refused and leaves the running server
// (and its store) alone.
func TestStartTwice(t *testing.T) {
	s := startJS(t, "")
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Fatalf("second Start: %v", err)
	}
	_, js := jsConnect(t, s)
	if _, err := js.AccountInfo(ctx(t)); err != nil {
		t.Fatalf("server after a second Start: %v", err)
	}
}
