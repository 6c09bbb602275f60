package filestore

import (
	"container/list"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/starling-mq/starling/internal/vfs"
)

// Open files are a bounded resource shared by every store of a server: a
// store does not keep its files open, it names them (rfile) and borrows an
// open handle from one Handles cache for each read, write, sync or
// truncate. Handles nobody is using are kept open in LRU order up to the
// cache's bound and closed beyond it, so the descriptors a server holds do
// not grow with its streams or segments.
//
// A handle is "pinned" while an operation runs on it and "held" while its
// store has records buffered for it (so the write that follows an accepted
// append cannot fail for lack of a descriptor); neither can be closed
// then. Closing a handle with writes not yet synced syncs it first: on
// Linux an fsync reports a write-back error only to descriptors open when
// it happened, so syncing later through a new descriptor could miss the
// failure and acknowledge lost data. A failure there is kept by the file
// and returned by its next sync, which fails the store as any sync
// failure does.
//
// Lock order: a store's locks, then Handles.mu. No file I/O runs under
// Handles.mu; closing (and its sync) happens after the lock is released,
// with the file marked busy so nobody reopens it before the outcome of
// that sync is known.

// Handle cache bounds.
const (
	// DefaultMaxOpenFiles is the bound when neither the caller nor the
	// descriptor limit says otherwise.
	DefaultMaxOpenFiles = 256
	// MinMaxOpenFiles is the smallest bound accepted: a store may need a
	// few handles at once (active segment, a rewrite's source and target,
	// the high-water file).
	MinMaxOpenFiles = 16
)

// ErrTooManyOpenFiles wraps a failure to open a store file because the
// process is out of descriptors: an error for the one operation, not for
// the store.
var ErrTooManyOpenFiles = errors.New("filestore: too many open files")

// errDetached is returned for a file whose path no longer names its
// content (its segment was replaced or removed): the caller looks again.
var errDetached = errors.New("filestore: file detached")

// Handles is a bounded cache of open files, safe for concurrent use.
type Handles struct {
	max int

	mu   sync.Mutex
	open int        // open (or opening) handles, in use or idle
	idle *list.List // of *rfile, open and neither pinned nor held; front = most recent

	opens     atomic.Uint64
	evictions atomic.Uint64
}

// NewHandles returns a cache keeping at most max files open while idle.
// Files in use are never closed, so the count can exceed max by the
// number of operations running at once and stores with buffered writes.
func NewHandles(max int) (*Handles, error) {
	if max < MinMaxOpenFiles {
		return nil, fmt.Errorf("filestore: max open files %d is below the minimum %d", max, MinMaxOpenFiles)
	}
	return &Handles{max: max, idle: list.New()}, nil
}

// HandleStats is a snapshot of a cache for monitoring.
type HandleStats struct {
	Max       int
	Open      int
	Opens     uint64 // files opened, including reopens
	Evictions uint64 // idle handles closed to stay within Max
}

// Stats returns the cache's counters.
func (h *Handles) Stats() HandleStats {
	h.mu.Lock()
	n := h.open
	h.mu.Unlock()
	return HandleStats{Max: h.max, Open: n, Opens: h.opens.Load(), Evictions: h.evictions.Load()}
}

// rfile is a store file known by name, opened on demand through the
// store's Handles. It is shared by the store, in-flight reads and the
// syncer, and forgotten when the last holder releases it, so compaction
// can replace a segment while a read of the old file is still running.
type rfile struct {
	h    *Handles
	fs   vfs.FS
	refs atomic.Int32
	// noSyncOnClose marks a file whose unsynced writes may stay in the
	// page cache (the high-water file: see highwater.go).
	noSyncOnClose bool
	// syncMu serialises syncs: a sync that finds nothing unsynced while
	// another one's fsync is still running must wait for its outcome.
	syncMu sync.Mutex

	// Guarded by h.mu.
	path  string        // "" once detached
	f     vfs.File      // nil when closed
	pins  int           // operations running and holds
	el    *list.Element // in h.idle
	busy  chan struct{} // closed when an open or close in progress ends
	dirty bool          // written (or found unsynced) since the last sync
	err   error         // a sync failure at close, reported by sync
	gone  bool          // released by every holder
}

// newRfile names the file at path, not yet open.
func newRfile(h *Handles, fsys vfs.FS, path string) *rfile {
	r := &rfile{h: h, fs: fsys, path: path}
	r.refs.Store(1)
	return r
}

// createRfile creates (or truncates) the file at path with mode 0600 and
// returns it held: the caller unholds it (or keeps it as its active file).
func createRfile(h *Handles, fsys vfs.FS, path string) (*rfile, error) {
	r := newRfile(h, fsys, path)
	if _, err := r.pinWith(os.O_RDWR | os.O_CREATE | os.O_TRUNC); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rfile) acquire() *rfile {
	r.refs.Add(1)
	return r
}

// release drops a reference; the last one closes the handle (without a
// sync: a store syncs what it needs before letting go).
func (r *rfile) release() error {
	if r.refs.Add(-1) != 0 {
		return nil
	}
	h := r.h
	h.mu.Lock()
	r.waitNotBusyLocked()
	r.gone = true
	if r.f == nil || r.pins > 0 {
		h.mu.Unlock()
		return nil // closed already, or by the last unpin
	}
	f := r.takeLocked()
	h.mu.Unlock()
	return f.Close()
}

// waitNotBusyLocked waits, releasing h.mu meanwhile, until no open of r
// is in progress.
func (r *rfile) waitNotBusyLocked() {
	for r.busy != nil {
		ch := r.busy
		r.h.mu.Unlock()
		<-ch
		r.h.mu.Lock()
	}
}

// takeLocked removes r's handle from the cache and returns it to close.
func (r *rfile) takeLocked() vfs.File {
	if r.el != nil {
		r.h.idle.Remove(r.el)
		r.el = nil
	}
	f := r.f
	r.f = nil
	r.h.open--
	return f
}

// markDirty records that the file may hold writes not yet synced (found
// at recovery), so the next sync syncs it.
func (r *rfile) markDirty() {
	r.h.mu.Lock()
	r.dirty = true
	r.h.mu.Unlock()
}

// detach records that r's path now names another file (or none), so r is
// never reopened by it.
func (r *rfile) detach() {
	r.h.mu.Lock()
	r.path = ""
	r.h.mu.Unlock()
}

// rename records that r's file moved to path.
func (r *rfile) rename(path string) {
	r.h.mu.Lock()
	r.path = path
	r.h.mu.Unlock()
}

// hold opens the file if needed and keeps it open until unhold.
func (r *rfile) hold() error {
	_, err := r.pinWith(os.O_RDWR)
	return err
}

func (r *rfile) unhold() { r.unpin() }

func (r *rfile) pin() (vfs.File, error) { return r.pinWith(os.O_RDWR) }

// pinWith returns the open handle, opening it with flag if needed.
func (r *rfile) pinWith(flag int) (vfs.File, error) {
	h := r.h
	h.mu.Lock()
	r.waitNotBusyLocked()
	if r.f != nil {
		if r.el != nil {
			h.idle.Remove(r.el)
			r.el = nil
		}
		r.pins++
		h.mu.Unlock()
		return r.f, nil
	}
	if r.path == "" || r.gone {
		h.mu.Unlock()
		return nil, errDetached
	}
	path := r.path
	busy := make(chan struct{})
	r.busy = busy
	h.open++
	victims := h.evictLocked(h.max - 1)
	h.mu.Unlock()
	h.closeAll(victims)

	f, err := r.fs.OpenFile(path, flag, 0o600)
	if isOutOfFiles(err) {
		// Others may have filled the table meanwhile: free what is idle
		// and try once more.
		h.mu.Lock()
		victims = h.evictLocked(h.max / 2)
		h.mu.Unlock()
		if len(victims) > 0 {
			h.closeAll(victims)
			f, err = r.fs.OpenFile(path, flag, 0o600)
		}
	}
	h.mu.Lock()
	r.busy = nil
	close(busy)
	if err != nil {
		h.open--
		h.mu.Unlock()
		if isOutOfFiles(err) {
			return nil, fmt.Errorf("%w: %w", ErrTooManyOpenFiles, err)
		}
		return nil, err
	}
	h.opens.Add(1)
	r.f = f
	r.pins++
	h.mu.Unlock()
	return f, nil
}

// unpin ends an operation (or a hold).
func (r *rfile) unpin() {
	h := r.h
	h.mu.Lock()
	r.pins--
	if r.pins > 0 {
		h.mu.Unlock()
		return
	}
	if r.gone {
		f := r.takeLocked()
		h.mu.Unlock()
		f.Close()
		return
	}
	r.el = h.idle.PushFront(r)
	victims := h.evictLocked(h.max)
	h.mu.Unlock()
	h.closeAll(victims)
}

// evictLocked takes idle handles, least recent first, until at most keep
// are open (or none is idle), marking each busy; closeAll closes them.
func (h *Handles) evictLocked(keep int) []*victim {
	var vs []*victim
	for h.open > keep && h.idle.Len() > 0 {
		r := h.idle.Remove(h.idle.Back()).(*rfile)
		r.el = nil
		v := &victim{r: r, f: r.f, sync: r.dirty && !r.noSyncOnClose, busy: make(chan struct{})}
		r.dirty = r.dirty && r.noSyncOnClose
		r.busy = v.busy
		vs = append(vs, v)
		h.open-- // counted out now: the slot is being freed
	}
	return vs
}

type victim struct {
	r    *rfile
	f    vfs.File
	sync bool
	busy chan struct{}
}

// closeAll syncs (when it has unsynced writes) and closes evicted handles.
func (h *Handles) closeAll(vs []*victim) {
	for _, v := range vs {
		var err error
		if v.sync {
			err = v.f.Sync()
		}
		cerr := v.f.Close()
		h.evictions.Add(1)
		h.mu.Lock()
		if err != nil && v.r.err == nil {
			v.r.err = err
		} else if cerr != nil && v.sync && v.r.err == nil {
			v.r.err = cerr
		}
		v.r.f = nil
		v.r.busy = nil
		close(v.busy)
		h.mu.Unlock()
	}
}

// sync makes the file's writes durable: syncs it if anything is unsynced,
// and reports a failure met when its handle was closed.
func (r *rfile) sync() error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	if done, err := r.syncDone(); done {
		return err
	}
	f, err := r.pin()
	if err != nil {
		return err
	}
	defer r.unpin()
	// Pinned, the handle cannot be closed before its unsynced writes are:
	// clear dirty only now, and writes finishing later set it again.
	if done, err := r.syncDone(); done {
		return err
	}
	r.h.mu.Lock()
	r.dirty = false
	r.h.mu.Unlock()
	if err := f.Sync(); err != nil {
		r.h.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.h.mu.Unlock()
		return err
	}
	return nil
}

// syncDone reports whether sync has nothing to do (and its outcome).
func (r *rfile) syncDone() (bool, error) {
	h := r.h
	h.mu.Lock()
	defer h.mu.Unlock()
	r.waitNotBusyLocked()
	if r.err != nil {
		return true, r.err
	}
	return !r.dirty, nil
}

// ReadAt reads through a pinned handle.
func (r *rfile) ReadAt(b []byte, off int64) (int, error) {
	f, err := r.pin()
	if err != nil {
		return 0, err
	}
	defer r.unpin()
	return f.ReadAt(b, off)
}

// WriteAt writes through a pinned handle and marks the file unsynced.
func (r *rfile) WriteAt(b []byte, off int64) (int, error) {
	f, err := r.pin()
	if err != nil {
		return 0, err
	}
	defer r.unpin()
	n, err := f.WriteAt(b, off)
	r.markDirty()
	return n, err
}

// preallocate reserves the file's blocks up to size without changing its
// size (vfs.Preallocate: a hint, it never fails).
func (r *rfile) preallocate(size int64) {
	f, err := r.pin()
	if err != nil {
		return
	}
	defer r.unpin()
	vfs.Preallocate(f, size)
}

// truncate cuts the file to size.
func (r *rfile) truncate(size int64) error {
	f, err := r.pin()
	if err != nil {
		return err
	}
	defer r.unpin()
	err = f.Truncate(size)
	r.markDirty()
	return err
}

// size returns the file's size.
func (r *rfile) size() (int64, error) {
	f, err := r.pin()
	if err != nil {
		return 0, err
	}
	defer r.unpin()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func isOutOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
