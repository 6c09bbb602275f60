package filestore

import (
	"errors"
	"fmt"
	"sort"
	"syscall"

	"github.com/starling-mq/starling/internal/store"
)

// Group commit. Append only buffers. Durable registers a waiter and wakes
// the syncer (the store's sync lane on the worker pool), which writes the buffer out and issues one
// fdatasync covering everything appended so far, then calls every waiter
// up to the synced sequence, in sequence order. While one fdatasync runs,
// new appends and waiters pile up for the next one, so N concurrent
// publishers cost far fewer than N syncs.

// Durable implements store.Store. fn runs at once (on the caller's
// goroutine) when seq is already durable, otherwise on the syncer's; never
// with a store lock held, so it may call back into the store.
func (s *Store) Durable(seq uint64, fn func(error)) {
	s.mu.Lock()
	if seq <= s.ackedLocked() {
		s.mu.Unlock()
		fn(nil)
		return
	}
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		fn(err)
		return
	}
	// Waiters arrive almost always in sequence order; keep them sorted.
	i := len(s.waiters)
	if i > 0 && s.waiters[i-1].seq > seq {
		i = sort.Search(len(s.waiters), func(j int) bool { return s.waiters[j].seq > seq })
	}
	s.waiters = append(s.waiters, waiter{})
	copy(s.waiters[i+1:], s.waiters[i:])
	s.waiters[i] = waiter{seq: seq, fn: fn}
	s.mu.Unlock()
	s.wake()
}

func (s *Store) wake() { s.schedule(workSync) }

// ackedLocked is the highest sequence Durable may acknowledge: synced with
// sync always, written to the OS with an interval; and in both cases named
// by a high-water slot (see highwater.go), so an acknowledged sequence is
// never handed out again, whatever happens to the log's tail.
func (s *Store) ackedLocked() uint64 {
	if s.cfg.SyncInterval > 0 {
		return min(max(s.written, s.synced), s.marked)
	}
	return min(s.synced, s.marked)
}

// Sync implements store.Store.
func (s *Store) Sync() error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return store.ErrClosed
	}
	s.syncMu.Lock()
	ws, err := s.commit(true)
	s.syncMu.Unlock()
	fire(ws)
	return err
}

// fire calls waiters, outside every lock.
func fire(ws []waiter) {
	for _, w := range ws {
		w.fn(w.err)
	}
}

// commit writes the buffer to the OS and, with doSync, syncs every file
// written since the last sync (and the directory if a segment was
// created). It returns the waiters it resolved, to be called by the caller
// once syncMu is released. syncMu must be held.
func (s *Store) commit(doSync bool) ([]waiter, error) {
	s.mu.Lock()
	if s.segs == nil { // closed: the files are gone
		s.mu.Unlock()
		return nil, store.ErrClosed
	}
	if err := s.err; err != nil {
		ws := s.failWaitersLocked(err)
		s.mu.Unlock()
		return ws, err
	}
	if err := s.flushLocked(); err != nil {
		s.failLocked(err)
		ws := s.failWaitersLocked(s.err)
		s.mu.Unlock()
		return ws, s.err
	}
	if !doSync || (!s.unsynced && len(s.dirty) == 0 && !s.dirSync) {
		if doSync {
			s.synced = s.last // nothing unsynced: everything is
		}
		m := s.markLocked()
		s.mu.Unlock()
		// A write-out without a sync moves the high-water slot only when
		// the store acknowledges written data (a sync interval): the slot
		// of a store that acknowledges synced data must never name more
		// than was synced.
		return s.settle(m, doSync || s.cfg.SyncInterval > 0)
	}
	target := s.last
	m := s.markLocked()
	files := append(s.dirty, s.active.f.acquire())
	s.dirty = nil
	dirSync := s.dirSync
	s.dirSync, s.unsynced = false, false
	s.mu.Unlock()

	var err error
	for _, f := range files {
		if err == nil {
			err = f.sync()
		}
		if rerr := f.release(); err == nil {
			err = rerr
		}
	}
	if err == nil && dirSync {
		err = s.fs.SyncDir(s.dir)
	}
	s.syncs.Add(1)

	s.mu.Lock()
	if err != nil {
		// Never acknowledge after a failed sync: the kernel may have
		// dropped the dirty pages, so a retry could "succeed" without the
		// data (the fsyncgate lesson).
		s.failLocked(err)
		ws := s.failWaitersLocked(s.err)
		s.mu.Unlock()
		return ws, s.err
	}
	s.synced = max(s.synced, target)
	s.mu.Unlock()
	return s.settle(m, true)
}

// markLocked is the high-water slot describing the store now: the caller
// is about to make everything up to s.last acknowledgeable.
func (s *Store) markLocked() mark {
	return mark{
		last:     s.last,
		lastTime: s.lastTime,
		first:    s.firstLocked(),
		floor:    s.floor,
		active:   s.active.id,
		boot:     s.cfg.BootID,
	}
}

// settle records m in the high-water file (when write), then returns the
// waiters now acknowledged. The slot is written without a sync unless m.last passes
// the reservation, which is then moved reserveAhead past it and synced
// first. syncMu must be held.
func (s *Store) settle(m mark, write bool) ([]waiter, error) {
	var err error
	if w := s.marks; w != nil && write { // nil while recovering: nothing waits then
		m.reserved = w.cur.reserved
		renew := m.last > m.reserved
		if renew {
			m.reserved = m.last + reserveAhead
		}
		if !w.same(m) {
			err = w.write(m, renew)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unholdLocked()
	if err != nil {
		s.failLocked(fmt.Errorf("filestore: high-water file: %w", err))
		return s.failWaitersLocked(s.err), s.err
	}
	if s.marks != nil && write {
		s.marked = max(s.marked, m.last)
	}
	return s.takeWaitersLocked(), nil
}

// takeWaitersLocked removes and returns the waiters that are now durable.
func (s *Store) takeWaitersLocked() []waiter {
	acked := s.ackedLocked()
	n := sort.Search(len(s.waiters), func(i int) bool { return s.waiters[i].seq > acked })
	if n == 0 {
		return nil
	}
	ws := append([]waiter(nil), s.waiters[:n]...)
	s.waiters = append(s.waiters[:0], s.waiters[n:]...)
	return ws
}

// failWaitersLocked removes every waiter not yet durable and returns them
// bound to err.
func (s *Store) failWaitersLocked(err error) []waiter {
	ws := s.takeWaitersLocked()
	for _, w := range s.waiters {
		w.err = err
		ws = append(ws, w)
	}
	s.waiters = nil
	return ws
}

func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
