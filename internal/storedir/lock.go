package storedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockName is the file inside a store directory whose lock marks the
// directory as owned by a running server. It holds the owner's process id,
// for the error a second server gets.
const LockName = "starling.lock"

// ErrLocked is wrapped by Lock's error when another process (or another
// server in this process) holds the directory.
var ErrLocked = errors.New("store directory is in use")

// Lock is a held store directory lock.
type Lock struct {
	f    *os.File
	path string
}

// Acquire creates dir if needed and locks it for the life of the process,
// or until Release. Two servers writing one store would each believe it
// owns the files and lose acknowledged messages; with the lock the second
// refuses to start. The lock is the kernel's (flock), so it goes away with
// the process, however it ends: a stale lock file from a crash locks
// nothing.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store directory: %w", err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store directory lock: %w", err)
	}
	if err := tryLock(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w: %s is locked by %s; each server needs its own store_dir",
				ErrLocked, dir, holder(path))
		}
		return nil, fmt.Errorf("store directory lock %s: %w", path, err)
	}
	l := &Lock{f: f, path: path}
	if err := l.writePID(); err != nil {
		_ = l.Release()
		return nil, err
	}
	return l, nil
}

// writePID records the owner. It is information for the error message
// only, so it is not synced: the lock itself is what protects the store.
func (l *Lock) writePID() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("store directory lock %s: %w", l.path, err)
	}
	if _, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return fmt.Errorf("store directory lock %s: %w", l.path, err)
	}
	return nil
}

// Release unlocks the directory. The file stays: removing it would let a
// process that opened it just before take a lock on a file nobody else can
// find. A second call does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}

// holder names the process that holds the lock at path, as well as the
// lock file says.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "another process"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return "another process"
	}
	if pid == os.Getpid() {
		return fmt.Sprintf("another server in this process (pid %d)", pid)
	}
	return fmt.Sprintf("process %d", pid)
}
