package vfs

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
)

// Op names a filesystem operation for counting and error injection.
type Op uint8

const (
	OpOpen Op = iota // OpenFile, Create, Open
	OpRead
	OpWrite // Write, WriteAt
	OpSync
	OpTruncate
	OpClose
	OpStat
	OpRemove // Remove, RemoveAll
	OpRename
	OpMkdir
	OpReadDir
	OpSyncDir
	numOps
)

var opNames = [numOps]string{"open", "read", "write", "sync", "truncate", "close", "stat", "remove", "rename", "mkdir", "readdir", "syncdir"}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return "op?"
}

// ErrInjected is the error the ready-made injectors return.
var ErrInjected = errors.New("vfs: injected error")

// Injector decides whether an operation fails: it returns nil to let it run,
// or the error to return instead. A failed operation has no effect.
type Injector func(op Op, path string) error

// FailNth fails the nth (1-based) operation of kind op counted from when
// the injector is installed, and only that one.
func FailNth(op Op, n int64, err error) Injector {
	var count atomic.Int64
	return func(o Op, _ string) error {
		if o == op && count.Add(1) == n {
			return err
		}
		return nil
	}
}

// FailAfter fails every operation of kind op from the nth (1-based) on:
// a disk that went bad stays bad.
func FailAfter(op Op, n int64, err error) Injector {
	var count atomic.Int64
	return func(o Op, _ string) error {
		if o == op && count.Add(1) >= n {
			return err
		}
		return nil
	}
}

// FailWhen fails the operations pred selects.
func FailWhen(pred func(op Op, path string) bool, err error) Injector {
	return func(o Op, path string) error {
		if pred(o, path) {
			return err
		}
		return nil
	}
}

// ErrorFS wraps a filesystem, counts operations by kind and fails those an
// Injector selects, in the spirit of pebble's errorfs.
type ErrorFS struct {
	inner  FS
	counts [numOps]atomic.Uint64
	mu     sync.RWMutex
	inj    Injector
}

// NewErrorFS wraps inner with no injector installed.
func NewErrorFS(inner FS) *ErrorFS { return &ErrorFS{inner: inner} }

// SetInjector installs inj (nil removes it).
func (e *ErrorFS) SetInjector(inj Injector) {
	e.mu.Lock()
	e.inj = inj
	e.mu.Unlock()
}

// Count returns how many operations of kind op were attempted, including
// failed ones.
func (e *ErrorFS) Count(op Op) uint64 { return e.counts[op].Load() }

func (e *ErrorFS) maybe(op Op, path string) error {
	e.counts[op].Add(1)
	e.mu.RLock()
	inj := e.inj
	e.mu.RUnlock()
	if inj == nil {
		return nil
	}
	if err := inj(op, path); err != nil {
		return &os.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

func (e *ErrorFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if err := e.maybe(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, fs: e}, nil
}

func (e *ErrorFS) Create(name string) (File, error) {
	return e.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
}

func (e *ErrorFS) Open(name string) (File, error) {
	return e.OpenFile(name, os.O_RDONLY, 0)
}

func (e *ErrorFS) Remove(name string) error {
	if err := e.maybe(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

func (e *ErrorFS) RemoveAll(name string) error {
	if err := e.maybe(OpRemove, name); err != nil {
		return err
	}
	return e.inner.RemoveAll(name)
}

func (e *ErrorFS) Rename(oldname, newname string) error {
	if err := e.maybe(OpRename, newname); err != nil {
		return err
	}
	return e.inner.Rename(oldname, newname)
}

func (e *ErrorFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := e.maybe(OpMkdir, dir); err != nil {
		return err
	}
	return e.inner.MkdirAll(dir, perm)
}

func (e *ErrorFS) ReadDir(dir string) ([]os.DirEntry, error) {
	if err := e.maybe(OpReadDir, dir); err != nil {
		return nil, err
	}
	return e.inner.ReadDir(dir)
}

func (e *ErrorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.maybe(OpStat, name); err != nil {
		return nil, err
	}
	return e.inner.Stat(name)
}

func (e *ErrorFS) SyncDir(dir string) error {
	if err := e.maybe(OpSyncDir, dir); err != nil {
		return err
	}
	return e.inner.SyncDir(dir)
}

type errorFile struct {
	File
	fs *ErrorFS
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.maybe(OpRead, f.Name()); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.fs.maybe(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *errorFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.maybe(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f *errorFile) Sync() error {
	if err := f.fs.maybe(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.maybe(OpTruncate, f.Name()); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *errorFile) Stat() (os.FileInfo, error) {
	if err := f.fs.maybe(OpStat, f.Name()); err != nil {
		return nil, err
	}
	return f.File.Stat()
}

func (f *errorFile) Close() error {
	if err := f.fs.maybe(OpClose, f.Name()); err != nil {
		// The descriptor is released anyway, as close(2) does.
		f.File.Close()
		return err
	}
	return f.File.Close()
}
