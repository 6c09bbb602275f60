// Package logfile is the writer behind the log_file option: it appends to
// one file, rotates it when logfile_size_limit would be exceeded, keeps at
// most logfile_max_num files, and reopens it on request (SIGUSR1) so an
// external logrotate can move it away.
//
// Rotated files are named as nats-server names them, <path>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn
// in local time, so existing cleanup scripts keep working.
//
// Nothing is fsynced, as nats-server does not: a log is not recovery state,
// and a Sync per line would put disk latency on every logging call.
package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sync"
	"time"
)

// perm is the mode new log files get: readable by the group that operators
// are usually in, as nats-server's files are, and by no one else.
const perm os.FileMode = 0o640

// File is a log file with size-based rotation. It is safe for concurrent
// use; each Write lands whole in one file.
type File struct {
	path      string
	sizeLimit int64 // 0 = never rotate
	maxFiles  int   // 0 = keep every rotated file
	fs        fileSystem
	now       func() time.Time

	mu        sync.Mutex
	f         file   // nil after Close, or while a reopen keeps failing
	size      int64  // bytes in f, counted rather than statted per write
	limit     int64  // sizeLimit, raised while rotation keeps failing
	lastStamp string // of the newest backup, so names only grow
	closed    bool
}

// Open opens path for appending, creating it if needed. A sizeLimit above
// zero rotates the file before a write that would take it past sizeLimit
// bytes; a single write larger than the limit still goes whole into a file of
// its own. A maxFiles above zero keeps at most that many files, the current
// one included, as nats-server's logfile_max_num does: maxFiles 3 keeps the
// current file and the two newest rotated ones.
func Open(path string, sizeLimit int64, maxFiles int) (*File, error) {
	return open(path, sizeLimit, maxFiles, osFS{}, time.Now)
}

func open(path string, sizeLimit int64, maxFiles int, fsys fileSystem, now func() time.Time) (*File, error) {
	if sizeLimit < 0 {
		return nil, fmt.Errorf("logfile: negative size limit %d", sizeLimit)
	}
	if maxFiles < 0 {
		return nil, fmt.Errorf("logfile: negative max files %d", maxFiles)
	}
	f := &File{path: path, sizeLimit: sizeLimit, maxFiles: maxFiles, fs: fsys, now: now, limit: sizeLimit}
	if err := f.openCurrent(); err != nil {
		return nil, err
	}
	return f, nil
}

// Write appends p to the file, rotating first if p would take the file past
// its size limit. When rotation fails p is still written, to whichever file
// is open, and the rotation error is returned alongside n == len(p): losing a
// log line would be worse than a file that grows past its limit.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "write", Path: f.path, Err: fs.ErrClosed}
	}
	var rotErr error
	if f.f == nil {
		// A previous reopen failed; try again rather than stay mute.
		if err := f.openCurrent(); err != nil {
			return 0, err
		}
	} else if f.sizeLimit > 0 && f.size > 0 && f.size+int64(len(p)) > f.limit {
		rotErr = f.rotate()
		if f.f == nil {
			return 0, rotErr
		}
	}
	n, err := f.f.Write(p)
	f.size += int64(n)
	return n, errors.Join(err, rotErr)
}

// Reopen closes the file and opens path again, creating it if it was moved
// away: the SIGUSR1 half of logrotate's move-then-signal protocol.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "reopen", Path: f.path, Err: fs.ErrClosed}
	}
	var closeErr error
	if f.f != nil {
		closeErr = f.f.Close()
		f.f = nil
	}
	f.limit = f.sizeLimit
	return errors.Join(closeErr, f.openCurrent())
}

// Close closes the file. Later writes fail; a second Close does nothing.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	return err
}

// openCurrent opens path for appending and learns its size, so a restart
// keeps counting toward the limit from what is already there.
func (f *File) openCurrent() error {
	h, err := f.fs.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return err
	}
	st, err := h.Stat()
	if err != nil {
		return errors.Join(err, h.Close())
	}
	f.f, f.size = h, st.Size()
	return nil
}

// rotate moves the current file to a backup name and opens a fresh one.
// The file is closed before the rename because Windows cannot rename an open
// file. Whatever fails, a file is reopened at path if at all possible; if
// the rename failed that is the old file, and the limit doubles so the next
// attempt waits for more output instead of retrying on every line.
func (f *File) rotate() error {
	closeErr := f.f.Close()
	f.f = nil
	bak, err := f.backupName()
	if err == nil {
		err = f.fs.Rename(f.path, bak)
	}
	if err != nil {
		f.limit = min(f.limit, math.MaxInt64/2) * 2
		return errors.Join(closeErr, fmt.Errorf("logfile: rotate %s: %w", f.path, err), f.openCurrent())
	}
	if err := f.openCurrent(); err != nil {
		return errors.Join(closeErr, fmt.Errorf("logfile: reopen %s after rotation: %w", f.path, err))
	}
	f.limit = f.sizeLimit
	var purgeErr error
	if f.maxFiles > 0 {
		purgeErr = f.purge()
	}
	return errors.Join(closeErr, purgeErr)
}
