// Package vfs is the small filesystem interface every storage file in
// Starling goes through, so tests can swap the operating system for a memory
// filesystem that simulates crashes (losing whatever was not synced) and for
// a wrapper that injects I/O errors. The shape follows pebble's vfs: only the
// operations a log-structured store needs, with Sync meaning "data sync"
// (fdatasync) and SyncDir making directory entries durable.
package vfs

import (
	"io"
	"os"
	"path/filepath"
)

// File is an open file. Writes go to the operating system (or the memory
// filesystem's volatile state) and survive a crash only after Sync.
type File interface {
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	// Sync makes the file's data durable (fdatasync where available). It
	// does not make the file's directory entry durable: see FS.SyncDir.
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Name() string
}

// Preallocator is a File that can reserve disk space ahead of its writes
// without changing its size (a hint: it never fails).
type Preallocator interface {
	Preallocate(size int64)
}

// Preallocate reserves size bytes for f's future appends where f supports
// it (files on the host's filesystem); elsewhere it does nothing.
func Preallocate(f File, size int64) {
	if p, ok := f.(Preallocator); ok {
		p.Preallocate(size)
	}
}

// FS is a filesystem. Paths are in the host's format (filepath).
type FS interface {
	// OpenFile opens a file with os.OpenFile's flags.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Create creates or truncates a file for reading and writing, mode
	// 0600: store files are for the server's user only.
	Create(name string) (File, error)
	// Open opens a file read-only.
	Open(name string) (File, error)
	Remove(name string) error
	// RemoveAll removes a path and everything below it; a missing path is
	// not an error.
	RemoveAll(name string) error
	// Rename replaces newname with oldname atomically.
	Rename(oldname, newname string) error
	MkdirAll(dir string, perm os.FileMode) error
	// ReadDir lists a directory, sorted by name.
	ReadDir(dir string) ([]os.DirEntry, error)
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the directory's entries (creations, renames, removals)
	// durable.
	SyncDir(dir string) error
}

// Default is the operating system's filesystem.
var Default FS = osFS{}

// MkdirAllSynced creates dir and any missing parents, syncing each parent
// after the entry is created so the new directories survive a crash.
func MkdirAllSynced(fs FS, dir string, perm os.FileMode) error {
	dir = filepath.Clean(dir)
	if _, err := fs.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAllSynced(fs, parent, perm); err != nil {
			return err
		}
	}
	if err := fs.MkdirAll(dir, perm); err != nil {
		return err
	}
	if parent == dir {
		return nil
	}
	return fs.SyncDir(parent)
}
