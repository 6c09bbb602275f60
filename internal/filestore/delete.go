package filestore

import (
	"slices"

	"github.com/starling-mq/starling/internal/store"
)

// Deletes never rewrite the log in place (except erase). A deleted
// message's sequence goes into a delete record appended to the active
// segment, and its index entry is marked dead; a segment with no live
// messages left is removed, and one mostly dead is rewritten by the
// maintenance goroutine (maintain.go). Purging everything or compacting
// past a point writes one meta record instead of a delete per message.
//
// Delete records become durable with the next sync, in log order with the
// appends around them: an acknowledged append also makes every earlier
// delete durable. Purge and Compact sync before returning (always, since
// they may remove files whose contents the meta record replaces).

// removeLocked takes a live message out of the indexes.
func (s *Store) removeLocked(g *segment, seq uint64, e *entry) {
	sid := e.sid
	if g.sealed {
		if !g.isLive(seq) {
			return // e is a stale copy (see lazy.go): already removed
		}
		g.kill(seq, sid)
	}
	e.sid |= deadBit
	g.msgs--
	g.bytes -= uint64(e.size)
	g.dead++
	s.msgs--
	s.bytes -= uint64(e.size)
	s.subj.remove(sid, seq)
	if seq == s.first {
		s.firstStale = true
	}
	s.checkMaintLocked(g)
}

// checkMaintLocked queues a sealed segment for maintenance when it has no
// live messages (remove it) or more dead than live ones taking more than
// half its bytes (rewrite it).
func (s *Store) checkMaintLocked(g *segment) {
	if !g.sealed || g.queued || g.compacting || g.removed {
		return
	}
	if g.msgs > 0 && (g.dead < g.msgs || g.bytes*2 >= uint64(g.size)) {
		return
	}
	g.queued = true
	s.maintQ = append(s.maintQ, g)
	s.schedule(workMaint) // runs once Open is done, when recovering
}

// appendDeletesLocked writes delete records for packed ranges, in batches
// that keep each record small.
func (s *Store) appendDeletesLocked(dels []byte) error {
	for len(dels) > 0 {
		r := record{typ: recDelete, dels: dels[:min(len(dels), maxDelBatch*delEntry)]}
		dels = dels[len(r.dels):]
		if err := s.roomLocked(r.size(), 0); err != nil {
			s.failLocked(err)
			return err
		}
		s.appendRecordLocked(&r)
		r.delRanges(func(first uint64, count uint32) {
			s.active.maxTomb = max(s.active.maxTomb, first+uint64(count)-1)
		})
	}
	return s.maybeFlushLocked()
}

// addRange adds seq to packed ranges, extending the last range when seq
// follows it.
func addRange(dels []byte, seq uint64) []byte {
	if n := len(dels); n >= delEntry {
		r := record{dels: dels[n-delEntry:]}
		var first uint64
		var count uint32
		r.delRanges(func(f uint64, c uint32) { first, count = f, c })
		if first+uint64(count) == seq && count < ^uint32(0) {
			return packRange(dels[:n-delEntry], first, count+1)
		}
	}
	return packRange(dels, seq, 1)
}

// Delete implements store.Store. With erase, the delete record is synced
// first and then the message's header and payload are overwritten on disk
// and synced, so a crash in the middle reads as deleted, never as lost.
func (s *Store) Delete(seq uint64, erase bool) (bool, error) {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return false, err
	}
	i := s.segFor(seq)
	if seq == 0 || i == len(s.segs) {
		s.mu.Unlock()
		return false, nil
	}
	g := s.segs[i]
	if !s.liveLocked(g, seq) {
		s.mu.Unlock()
		return false, nil
	}
	if !s.indexLocked(g) {
		s.mu.Unlock()
		return false, errIndexRead
	}
	e := g.find(seq)
	if e == nil || !e.live() {
		s.mu.Unlock()
		return false, nil
	}
	if err := s.holdLocked(); err != nil {
		s.mu.Unlock()
		return false, err
	}
	s.removeLocked(g, seq, e)
	err := s.appendDeletesLocked(packRange(nil, seq, 1))
	s.mu.Unlock()
	if err != nil || !erase {
		return true, err
	}
	if err := s.Sync(); err != nil {
		return true, err
	}
	return true, s.erase(g, seq)
}

// erase overwrites a deleted message's record in place and syncs it.
func (s *Store) erase(g *segment, seq uint64) error {
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	if g.removed || !s.indexLocked(g) {
		s.mu.Unlock()
		return nil
	}
	e := g.find(seq)
	if e == nil || !e.present() {
		s.mu.Unlock()
		return nil // the record is already gone from disk
	}
	if g.compacting {
		g.erased = append(g.erased, seq) // the rewrite copied it: redo there
	}
	off := int64(e.off)
	if g == s.active && off >= s.flushed {
		b := s.buf[off-s.flushed:]
		n, _ := recordLen(b)
		err := eraseRecord(b[:n])
		s.mu.Unlock()
		if err != nil {
			return err
		}
		return s.Sync()
	}
	f := g.f.acquire()
	defer f.release()
	err := eraseAt(f, off)
	s.cache.drop(f, off, maxRecord)
	s.mu.Unlock()
	if err == nil {
		err = f.sync()
	}
	if err != nil {
		s.mu.Lock()
		s.failLocked(err)
		s.mu.Unlock()
	}
	return err
}

// eraseAt erases the message record at off in f. A record that does not
// verify is left alone: it is not served anyway.
func eraseAt(f *rfile, off int64) error {
	head := make([]byte, lenSize)
	if _, err := f.ReadAt(head, off); err != nil {
		return err
	}
	n, err := recordLen(head)
	if err != nil {
		return nil
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	if eraseRecord(b) != nil {
		return nil
	}
	_, err = f.WriteAt(b, off)
	return err
}

// Purge implements store.Store. Like nats-server, a purge of all subjects
// with only Seq set is Compact(Seq).
func (s *Store) Purge(req store.PurgeRequest) (uint64, error) {
	all := req.Subject == "" || req.Subject == ">"
	if all && req.Keep == 0 {
		if req.Seq == 0 {
			return s.purgeAll(0)
		}
		if req.Seq == 1 {
			return 0, nil // nothing is below 1
		}
		return s.Compact(req.Seq)
	}
	s.syncMu.Lock()
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return 0, err
	}
	m := s.subj.matcher(req.Subject)
	limit := ^uint64(0)
	if req.Keep > 0 {
		var total uint64
		s.eachSubjectLocked(m, func(_ uint32, in *subjInfo) { total += in.msgs })
		limit = total - min(total, req.Keep)
	}
	var n uint64
	var dels []byte
	for from := uint64(1); n < limit; n++ {
		seq, g, e := s.nextLocked(m, from)
		if g == nil || (req.Seq > 0 && seq >= req.Seq) {
			break
		}
		s.removeLocked(g, seq, e)
		dels = addRange(dels, seq)
		from = seq + 1
	}
	err := s.appendDeletesLocked(dels)
	s.mu.Unlock()
	var ws []waiter
	if err == nil && n > 0 {
		ws, err = s.commit(true)
	}
	s.syncMu.Unlock()
	fire(ws)
	return n, err
}

// purgeAll removes every message and makes floor (if above) the next
// sequence.
func (s *Store) purgeAll(floor uint64) (uint64, error) {
	s.syncMu.Lock()
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return 0, err
	}
	if s.msgs == 0 && floor <= s.last+1 && s.firstLocked() == s.last+1 {
		s.mu.Unlock() // already empty, first = last+1: nothing would change
		s.syncMu.Unlock()
		return 0, nil
	}
	n := s.msgs
	g, err := s.newSegmentLocked()
	if err != nil {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return 0, err
	}
	s.takeHoldLocked(g.f)
	old := s.segs
	for _, o := range old {
		o.removed = true
	}
	// Buffered records of the old active segment are purged with it.
	s.buf = s.buf[:0]
	s.segs, s.active, s.flushed, s.unsynced = []*segment{g}, g, 0, false
	if floor > 0 {
		s.last = max(s.last, floor-1)
	}
	s.floor = max(s.floor, s.last+1)
	s.msgs, s.bytes, s.firstStale = 0, 0, false
	s.subj = newSubjects()
	s.maintQ = nil
	s.idxLRU = nil
	s.dropLostLocked()
	s.writeMetaLocked()
	s.mu.Unlock()
	return n, s.removeAfterSync(old)
}

// removeAfterSync syncs the log (so the records that replace the old
// segments are durable) and then deletes the old segments' files. syncMu
// must be held; it is released.
func (s *Store) removeAfterSync(old []*segment) error {
	ws, err := s.commit(true)
	if err == nil {
		err = s.removeFiles(old)
	}
	s.syncMu.Unlock()
	fire(ws)
	return err
}

// removeFiles deletes detached segments' files and syncs the directory.
func (s *Store) removeFiles(old []*segment) error {
	if len(old) == 0 {
		return nil
	}
	// The map goes first: a segment it lists must never be missing for a
	// reason it does not know.
	mapErr := s.writeSegMap()
	err := mapErr
	for _, g := range old {
		if mapErr == nil {
			if e := s.fs.Remove(s.segPath(g.id)); e != nil && err == nil {
				err = e
			}
		}
		s.cache.drop(g.f, 0, -1)
		g.f.detach()
		g.f.release()
	}
	if err == nil {
		err = s.fs.SyncDir(s.dir)
	}
	if err != nil {
		s.mu.Lock()
		s.failLocked(err)
		s.mu.Unlock()
	}
	return err
}

// dropLostLocked forgets lost messages below the floor: they are purged.
func (s *Store) dropLostLocked() {
	i, _ := slices.BinarySearch(s.lost, s.floor)
	if i > 0 {
		s.lost = append(s.lost[:0], s.lost[i:]...)
		if len(s.lost) == 0 {
			s.lostBytes = 0
		}
		s.lostView = nil
	}
	if len(s.missing) > 0 && s.floor > 1 && s.missing[0].lo < s.floor {
		s.missing = s.missing.remove(1, s.floor-1)
		s.lostView = nil
	}
}

// Compact implements store.Store.
func (s *Store) Compact(seq uint64) (uint64, error) {
	if seq == 0 {
		return 0, nil
	}
	s.mu.Lock()
	if err := s.usableLocked(); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	beyond := seq > s.last
	s.mu.Unlock()
	if beyond {
		return s.purgeAll(seq)
	}

	s.syncMu.Lock()
	s.mu.Lock()
	if seq > s.last { // raced with another purge: start over
		s.mu.Unlock()
		s.syncMu.Unlock()
		return s.Compact(seq)
	}
	var n uint64
	if seq > s.firstLocked() {
		for from := s.first; ; n++ {
			q, g, e := s.nextLocked(allMatcher, from)
			if g == nil || q >= seq {
				break
			}
			s.removeLocked(g, q, e)
			from = q + 1
		}
	}
	if seq <= s.floor {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return n, nil
	}
	s.floor = seq
	s.dropLostLocked()
	if err := s.roomLocked(metaRecordSize, 0); err != nil {
		s.failLocked(err)
		s.mu.Unlock()
		s.syncMu.Unlock()
		return n, err
	}
	s.writeMetaLocked()
	// Whole segments below the floor go now; the meta record makes their
	// removal safe even if their delete records were not written yet.
	var old []*segment
	for len(s.segs) > 1 && s.segHi(0) < seq && s.segs[0].maxTomb < seq {
		old = append(old, s.segs[0])
		s.segs[0].removed = true
		s.segs = s.segs[1:]
	}
	s.mu.Unlock()
	return n, s.removeAfterSync(old)
}
