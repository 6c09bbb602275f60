package filestore

import (
	"slices"
)

// Maintenance runs on its own lane of the worker pool (workers.go), apart
// from syncing, so a segment rewrite never delays a group commit. A sealed segment with no live messages is removed; one
// mostly dead is rewritten with only its live records and the delete
// records still needed, to "<name>.tmp", synced, and renamed over the
// original (then the directory is synced). Readers holding the old file
// keep reading it until they let go.
//
// A delete record is needed while the record it deletes is still present
// in another segment; once that record is gone from disk the delete has
// nothing to hide. Needed deletes of a segment being removed are carried
// forward into the active segment (and synced) first.

// drainMaint works through the maintenance queue.
func (s *Store) drainMaint() {
	for {
		select {
		case <-s.quit:
			return
		default:
		}
		s.mu.Lock()
		if s.closed || s.err != nil || len(s.maintQ) == 0 {
			s.mu.Unlock()
			return
		}
		g := s.maintQ[0]
		s.maintQ = s.maintQ[1:]
		g.queued = false
		s.mu.Unlock()
		if err := s.rewrite(g); err != nil {
			s.log.Warn("filestore: segment maintenance failed", "segment", g.id, "err", err)
		}
	}
}

// waitMaintenance returns once the maintenance queued so far is done (for
// tests: a deterministic point to check on-disk effects).
func (s *Store) waitMaintenance() {
	done := make(chan struct{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.maintDone = append(s.maintDone, done)
	s.mu.Unlock()
	s.schedule(workMaint)
	select {
	case <-done:
	case <-s.quit:
	}
}

// kept is a live record copied by a rewrite.
type kept struct {
	seq    uint64
	off    uint32 // in the old file
	newOff uint32 // in the new file
	ok     bool   // copied (false: it failed verification)
}

// rewrite removes or compacts the sealed segment g.
func (s *Store) rewrite(g *segment) error {
	s.mu.Lock()
	if g.removed || !g.sealed || g.compacting {
		s.mu.Unlock()
		return nil
	}
	if !s.indexLocked(g) {
		s.mu.Unlock()
		return errIndexRead
	}
	var live []kept
	for i := range g.n() {
		if e := g.at(i); e.live() {
			live = append(live, kept{seq: g.seqAt(i), off: e.off})
		}
	}
	g.compacting, g.erased = true, nil
	top := g.top
	f := g.f.acquire()
	delOffs := slices.Clone(g.delOffs)
	s.mu.Unlock()
	defer f.release()

	dels, err := s.readDeletes(f, delOffs)
	if err == nil {
		s.mu.Lock()
		dels, err = s.neededLocked(g, dels)
		s.mu.Unlock()
	}
	var tmp *rewritten
	if err == nil && len(live) > 0 {
		tmp, err = s.copyLive(g, f, live, dels, top)
	}
	if err != nil {
		s.mu.Lock()
		g.compacting = false
		s.mu.Unlock()
		return err // not requeued: the next delete in g will try again
	}
	if tmp == nil {
		return s.dropSegment(g, dels)
	}
	return s.swapSegment(g, tmp, live)
}

// readDeletes returns the packed ranges of the delete records at offs.
func (s *Store) readDeletes(f *rfile, offs []uint32) ([]byte, error) {
	var dels []byte
	for _, off := range offs {
		b, err := s.readRecord(f, int64(off))
		if err != nil {
			if isCorruption(err) {
				continue // recovery already reported it; nothing to carry
			}
			return nil, err
		}
		r, _, err := decodeRecord(b)
		if err != nil || r.typ != recDelete {
			continue
		}
		dels = append(dels, r.dels...)
	}
	return dels, nil
}

// neededLocked keeps the ranges of dels whose records are still present
// in a segment other than g, at or above the floor.
func (s *Store) neededLocked(g *segment, dels []byte) ([]byte, error) {
	var out []byte
	r := record{dels: dels}
	ok := true
	r.delRanges(func(first uint64, count uint32) {
		ok = ok && s.eachEntryLocked(max(first, s.floor), first+uint64(count), func(o *segment, seq uint64, e *entry) {
			if o != g && e.present() {
				out = addRange(out, seq)
			}
		})
	})
	if !ok {
		return nil, errIndexRead
	}
	return out, nil
}

// eachEntryLocked calls fn for every index entry with a sequence in
// [from, to), segment by segment: the cost follows the entries that exist,
// not the width of the range (a purge can name millions of sequences that
// are long gone). It reports false if a segment's index could not be read.
func (s *Store) eachEntryLocked(from, to uint64, fn func(g *segment, seq uint64, e *entry)) bool {
	for i := s.segFor(from); i < len(s.segs); i++ {
		g := s.segs[i]
		if g.empty() {
			continue
		}
		if g.firstSeq() >= to {
			return true
		}
		if !s.indexLocked(g) {
			return false
		}
		for j := g.search(from); j < g.n(); j++ {
			seq := g.seqAt(j)
			if seq >= to {
				return true
			}
			fn(g, seq, g.at(j))
		}
	}
	return true
}

// rewritten is a synced temporary file holding a segment's new contents.
type rewritten struct {
	f       *rfile
	size    int64
	delOffs []uint32
	maxTomb uint64
}

// copyLive writes g's live records and the needed deletes to a new,
// synced temporary file, between two meta records that keep what the
// dropped records proved: the leading one of g (if it has one), naming the
// last sequence before g, and one naming top, the last sequence handed out
// while g was active, so recovery can tell a rewritten segment from a
// truncated one.
func (s *Store) copyLive(g *segment, f *rfile, live []kept, dels []byte, top uint64) (*rewritten, error) {
	path := s.segPath(g.id) + ".tmp"
	nf, err := createRfile(s.cfg.Handles, s.fs, path)
	if err != nil {
		return nil, err
	}
	nf.unhold()
	tmp := &rewritten{f: nf}
	fail := func(err error) (*rewritten, error) {
		tmp.f.release()
		s.fs.Remove(path)
		return nil, err
	}
	var out []byte
	if b, err := readDirect(f, 0); err == nil {
		if r, _, err := decodeRecord(b); err == nil && r.typ == recMeta {
			out = append(out, b...)
		}
	}
	var pos int64
	flush := func() error {
		_, err := nf.WriteAt(out, pos)
		pos += int64(len(out))
		out = out[:0]
		return err
	}
	for i := range live {
		b, err := readDirect(f, int64(live[i].off))
		if err == nil {
			_, _, err = decodeRecord(b)
		}
		if err != nil {
			if !isCorruption(err) {
				return fail(err)
			}
			continue // reported when swapping, if it is still live then
		}
		live[i].newOff, live[i].ok = uint32(pos+int64(len(out))), true
		out = append(out, b...)
		if len(out) >= 1<<20 {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
	for len(dels) > 0 {
		r := record{typ: recDelete, dels: dels[:min(len(dels), maxDelBatch*delEntry)]}
		dels = dels[len(r.dels):]
		tmp.delOffs = append(tmp.delOffs, uint32(pos+int64(len(out))))
		out = appendRecord(out, &r)
		r.delRanges(func(first uint64, count uint32) {
			tmp.maxTomb = max(tmp.maxTomb, first+uint64(count)-1)
		})
	}
	out = appendRecord(out, &record{typ: recMeta, last: top})
	if err := flush(); err != nil {
		return fail(err)
	}
	if err := nf.sync(); err != nil {
		return fail(err)
	}
	tmp.size = pos
	return tmp, nil
}

// readDirect reads a whole record without the cache: a rewrite reads each
// record once and should not evict what readers use.
func readDirect(f *rfile, off int64) ([]byte, error) {
	head := make([]byte, lenSize)
	if _, err := f.ReadAt(head, off); err != nil {
		return nil, err
	}
	n, err := recordLen(head)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// dropSegment removes g, which holds no live message, after carrying its
// needed deletes forward.
func (s *Store) dropSegment(g *segment, dels []byte) error {
	s.syncMu.Lock()
	s.mu.Lock()
	g.compacting = false
	if g.removed || g.msgs > 0 || s.closed || s.err != nil {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return nil
	}
	if err := s.appendDeletesLocked(dels); err != nil {
		s.mu.Unlock()
		s.syncMu.Unlock()
		return err
	}
	s.detachLocked(g)
	s.mu.Unlock()
	if len(dels) == 0 {
		err := s.removeFiles([]*segment{g})
		s.syncMu.Unlock()
		return err
	}
	return s.removeAfterSync([]*segment{g})
}

func (s *Store) detachLocked(g *segment) {
	g.removed = true
	if i := slices.Index(s.segs, g); i >= 0 {
		s.segs = slices.Delete(s.segs, i, i+1)
	}
}

// swapSegment puts the rewritten file in place of g's.
func (s *Store) swapSegment(g *segment, tmp *rewritten, live []kept) error {
	path := s.segPath(g.id)
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	g.compacting = false
	if g.removed || s.closed || s.err != nil || !s.indexLocked(g) {
		s.mu.Unlock()
		tmp.f.release()
		return s.fs.Remove(path + ".tmp")
	}
	// Rebuild the index from the copies, taking each entry's current state:
	// messages deleted during the copy are dead in the new file too (their
	// delete records are in later segments).
	n := &segment{}
	for _, k := range live {
		e := g.find(k.seq)
		if !k.ok {
			if e != nil && e.live() {
				s.log.Error("filestore: corrupt message found while compacting, not served", "seq", k.seq, "segment", g.id)
				s.lostBytes += uint64(e.size)
				s.removeLocked(g, k.seq, e)
				s.addLostLocked(k.seq)
			}
			continue
		}
		ne := *e
		ne.off = k.newOff
		n.add(k.seq, ne)
		if !ne.live() {
			n.dead++
		}
	}
	redo := slices.Clone(g.erased)
	g.erased = nil
	var err error
	for _, seq := range redo {
		if e := n.find(seq); err == nil && e != nil && e.present() {
			err = eraseAt(tmp.f, int64(e.off))
		}
	}
	if err == nil && len(redo) > 0 {
		err = tmp.f.sync()
	}
	if err == nil {
		// Held across the rename, so it is never reopened by a name that
		// is changing.
		if err = tmp.f.hold(); err == nil {
			if err = s.fs.Rename(path+".tmp", path); err == nil {
				tmp.f.rename(path)
			}
			tmp.f.unhold()
		}
	}
	if err != nil {
		s.mu.Unlock()
		tmp.f.release()
		s.fs.Remove(path + ".tmp")
		return err
	}
	old := g.f
	old.detach()
	g.f = tmp.f
	g.base, g.dense, g.sparse = n.base, n.dense, n.sparse
	g.dead = n.dead
	g.size, g.delOffs, g.maxTomb = tmp.size, tmp.delOffs, tmp.maxTomb
	g.compactIndex()
	s.checkMaintLocked(g) // deletes that came in during the copy may call for another pass
	s.cache.drop(old, 0, -1)
	s.mu.Unlock()
	old.release()
	s.compacts.Add(1)
	if err := s.fs.SyncDir(s.dir); err != nil {
		s.mu.Lock()
		s.failLocked(err)
		s.mu.Unlock()
		return err
	}
	return nil
}
