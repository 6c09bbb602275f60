package filestore

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/s2"
)

// Recovery reads every segment in order and verifies every record's
// checksum while rebuilding the indexes.
//
//   - A damaged record followed by valid ones (anywhere in the log) is
//     skipped: the scanner looks for the next offset where a whole record
//     verifies. The sequence it held is reported lost: the one in its
//     header when the damage left the framing intact and that sequence
//     fits between its neighbours, otherwise every sequence missing
//     between the neighbours (bounded by how many records the damaged
//     bytes could have held). Load of a lost sequence returns
//     store.ErrCorrupt; the region stays on disk until its segment is
//     rewritten.
//   - A damaged or partial record at the very end of the log is a write
//     torn by a crash, which was never acknowledged: it is truncated away
//     and logged. The exception is a record whose length field matches
//     exactly the bytes left and whose header says message or skip (or
//     carries the next sequence): that is more likely a synced message
//     damaged later than a torn write, so the next sequence is reported
//     lost and a meta record appended after it keeps that sequence from
//     ever being reused. Erring this way costs a spurious loss report for
//     an unacknowledged message; the other way would reuse a sequence a
//     client may have seen.
//   - The end of a segment cut short above the high-water mark (written in
//     this boot), followed by the head of the next, is a torn write too
//     (recover_side.go): the
//     partial record it may end with is truncated with everything after.
//   - Delete records and the floor in meta records are applied as they are
//     met; a lost sequence that turns out deleted is not reported.
//
// A lost message stays reported (and Load keeps returning ErrCorrupt)
// across restarts for as long as its damaged bytes are on disk; once its
// segment is rewritten or removed, the sequence reads as deleted. A damaged
// delete record is a known limit: the messages it deleted come back (they
// are intact, just no longer hidden); an erased message does not, since its
// payload is gone from disk.

// recovery is the state of one Open's scan.
type recovery struct {
	lost     map[uint64]bool
	lostB    uint64
	pending  []damage
	needMeta bool

	// What the side files say (see recover_side.go).
	hw       mark
	hwOK     bool
	missing  []span // segment ids expected but absent
	gaps     spans  // sequences that were in missing segments or a lost tail
	gapOpen  bool   // the last gap's end is known at the next sequence seen
	badTail  bool   // the last record was damaged, not torn
	prevID   uint64 // the segment loaded last
	tailLost bool   // the log ended before the high-water mark

	// Where the segment scanned last (scanned; 0 before the first scan)
	// stops holding whole records, and the pending damage entry for the
	// bytes after that (-1 if none): what is left of it if its tail turns
	// out torn (see cutTornEnd).
	scanned   uint64
	scanEnd   int64
	scanTail  int
	tornFound bool // the log's torn end lies before its last segment
}

// damage is a corrupt region whose sequences are known once the next
// sequence-bearing record is read.
type damage struct {
	after  uint64 // last sequence before the region
	hdrSeq uint64 // sequence in the damaged header, if single
	single bool   // the region is exactly one record by its length field
	bytes  int64
}

func (s *Store) recover() error {
	ents, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("filestore: %w", err)
	}
	var ids []uint64
	tmpRemoved := false
	for _, de := range ents {
		name := de.Name()
		if strings.HasSuffix(name, ".seg.tmp") || name == segMapFile+".tmp" || name == checkpointFile+".tmp" {
			// A rewrite that did not finish: the original is intact.
			if err := s.fs.Remove(s.dir + string(os.PathSeparator) + name); err != nil {
				return fmt.Errorf("filestore: %w", err)
			}
			tmpRemoved = true
			continue
		}
		hex, ok := strings.CutSuffix(name, ".seg")
		if !ok {
			continue
		}
		id, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			s.log.Warn("filestore: ignoring unexpected file", "name", name)
			continue
		}
		ids = append(ids, id)
	}
	if tmpRemoved {
		if err := s.fs.SyncDir(s.dir); err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
	}
	slices.Sort(ids)
	rc := &recovery{lost: map[uint64]bool{}}
	sm, smOK := s.readSideFiles(rc, ids)
	rest := s.useCheckpoint(rc, ids)
	prev := rc.prevID
	for i, id := range rest {
		s.sealLastLocked()
		s.checkMissing(rc, prev, id)
		if err := s.loadSegment(rc, id, i == len(rest)-1); err != nil {
			return err
		}
		s.nextID = id + 1
		prev = id
	}
	s.checkMissing(rc, prev, openEnd)
	s.finishRecovery(rc)
	// Never hand out an id used before: the map and the high-water file
	// refer to ids, and a reused one would hide a missing segment.
	s.nextID = max(s.nextID, sm.next)
	if rc.hwOK {
		s.nextID = max(s.nextID, rc.hw.active+1)
	}

	if len(s.segs) == 0 || s.segs[len(s.segs)-1].sealed {
		// None, or the checkpoint's active segment is gone with every
		// newer one: start a new active segment.
		g, err := s.newSegmentLocked()
		if err != nil {
			return fmt.Errorf("filestore: %w", err)
		}
		s.takeHoldLocked(g.f)
		s.segs = append(s.segs, g)
		rc.needMeta = true
	}
	s.active = s.segs[len(s.segs)-1]
	s.flushed = s.active.size
	for _, g := range s.segs[:len(s.segs)-1] {
		if !g.sealed {
			g.seal()
			s.touchLocked(g)
		}
		s.checkMaintLocked(g)
	}
	if rc.needMeta {
		s.writeMetaLocked()
	}
	// What was read may be only in the page cache (the process died, the
	// machine did not): sync it all before acknowledging anything.
	for _, g := range s.segs {
		g.f.markDirty()
	}
	for _, g := range s.segs[:len(s.segs)-1] {
		s.dirty = append(s.dirty, g.f.acquire())
	}
	s.unsynced = true
	if _, err = s.commit(true); err != nil {
		return err
	}
	return s.openSideFiles(rc, sm, smOK)
}

// loadSegment scans one segment file into the indexes.
func (s *Store) loadSegment(rc *recovery, id uint64, last bool) error {
	f := s.segFile(id)
	size, err := f.size()
	if err != nil {
		f.release()
		return fmt.Errorf("filestore: %w", err)
	}
	g := &segment{id: id, f: f, loaded: true}
	s.segs = append(s.segs, g)
	if rc.tornFound {
		return s.emptyTornSegment(rc, g, size)
	}
	sc := &scanner{f: f, size: size}
	off := int64(0)
	tailAt, tailPending := int64(-1), -1
	for off < sc.size {
		b, err := sc.record(off)
		var r record
		if err == nil {
			r, _, err = decodeRecord(b)
		}
		if err == nil {
			if off == 0 && r.typ == recMeta && s.checkLeadingMeta(rc, id, &r) {
				return s.cutTornEnd(rc, g, size)
			}
			s.scanned.Add(1)
			s.applyRecord(rc, g, &r, off)
			off += int64(len(b))
			continue
		}
		if !isCorruption(err) {
			return fmt.Errorf("filestore: reading segment %d: %w", id, err)
		}
		next, err := sc.resync(off + 1)
		if err != nil {
			return fmt.Errorf("filestore: reading segment %d: %w", id, err)
		}
		head, _ := sc.bytes(off, frameHead+8)
		if next < 0 && last {
			return s.badTail(rc, g, sc, off, head)
		}
		end := next
		if next < 0 {
			end = sc.size
			tailAt, tailPending = off, len(rc.pending)
		}
		s.log.Error("filestore: corrupt record skipped", "segment", id, "offset", off, "bytes", end-off)
		d := damage{after: s.last, bytes: end - off}
		if n, err := recordLen(head); err == nil && off+int64(n) == end {
			d.hdrSeq, d.single = peekSeq(head)
		}
		rc.pending = append(rc.pending, d)
		off = end
	}
	g.size = off
	g.top = s.last
	rc.prevID = id
	rc.scanned, rc.scanEnd, rc.scanTail = id, off, -1
	if tailAt >= 0 {
		rc.scanEnd, rc.scanTail = tailAt, tailPending
	}
	return nil
}

// sealLastLocked seals the segment recovery read last before it reads the
// next one, so that only one segment's full index is built at a time.
func (s *Store) sealLastLocked() {
	if n := len(s.segs); n > 0 && !s.segs[n-1].sealed {
		g := s.segs[n-1]
		g.seal()
		s.touchLocked(g)
	}
}

// badTail handles damage at the end of the last segment (see above).
func (s *Store) badTail(rc *recovery, g *segment, sc *scanner, off int64, head []byte) error {
	n, err := recordLen(head)
	hdrSeq, ok := peekSeq(head)
	seqBearing := ok && (head[lenSize+1] == recMsg || head[lenSize+1] == recSkip || hdrSeq == s.last+1)
	if err == nil && off+int64(n) == sc.size && seqBearing {
		// Whole but damaged: bit rot in a message that may have been
		// acknowledged. Its sequence can only be the next one.
		seq := s.last + 1
		s.log.Error("filestore: last record corrupt, message lost", "segment", g.id, "offset", off, "seq", seq)
		rc.badTail = true
		rc.resolveGap(seq - 1)
		rc.resolve(s, seq)
		rc.lost[seq] = true
		rc.lostB += uint64(n)
		s.last = seq
		rc.needMeta = true
		g.size = sc.size
		return nil
	}
	s.log.Warn("filestore: torn write at end of log truncated", "segment", g.id, "offset", off, "bytes", sc.size-off)
	if err := g.f.truncate(off); err != nil {
		return fmt.Errorf("filestore: truncating torn tail: %w", err)
	}
	g.size = off
	return nil
}

// resolve settles pending damage now that seq is the next sequence after
// it.
func (rc *recovery) resolve(s *Store, seq uint64) {
	for _, d := range rc.pending {
		rc.lostB += uint64(d.bytes)
		if d.single && d.after < d.hdrSeq && d.hdrSeq < seq {
			rc.lost[d.hdrSeq] = true
			continue
		}
		most := uint64(d.bytes/minMsgRecord) + 1
		for q := d.after + 1; q < seq && q <= d.after+most; q++ {
			rc.lost[q] = true
		}
	}
	rc.pending = rc.pending[:0]
}

// applyRecord indexes one verified record read at off in g.
func (s *Store) applyRecord(rc *recovery, g *segment, r *record, off int64) {
	switch r.typ {
	case recMsg, recSkip:
		if r.seq <= s.last && s.last > 0 {
			s.log.Error("filestore: record out of sequence order ignored", "segment", g.id, "offset", off, "seq", r.seq, "last", s.last)
			return
		}
		rc.resolveGap(r.seq - 1)
		rc.resolve(s, r.seq)
		s.last = r.seq
		if r.typ == recSkip {
			return
		}
		s.lastTime = r.ts
		if r.flags&flagErased != 0 {
			g.add(r.seq, entry{off: uint32(off), sid: deadBit})
			g.dead++
			return
		}
		dl := len(r.data)
		if r.flags&flagS2 != 0 {
			dl, _ = s2.DecodedLen(r.data) // verified when read
		}
		acct := fileMsgSize(len(r.subj), len(r.hdr), dl)
		g.add(r.seq, entry{off: uint32(off), sid: s.subj.addBytes(r.subj, r.seq), size: uint32(acct)})
		g.msgs++
		g.bytes += acct
		s.msgs++
		s.bytes += acct
		if s.msgs == 1 {
			s.first = r.seq
		}
	case recDelete:
		g.delOffs = append(g.delOffs, uint32(off))
		r.delRanges(func(first uint64, count uint32) {
			end := first + uint64(count)
			g.maxTomb = max(g.maxTomb, end-1)
			if count > 0 {
				rc.gaps = rc.gaps.remove(first, end-1) // deleted, not lost
			}
			for seq := range rc.lost {
				if seq >= first && seq < end {
					delete(rc.lost, seq)
				}
			}
			s.eachEntryLocked(first, end, func(o *segment, seq uint64, e *entry) {
				if e.live() {
					s.removeLocked(o, seq, e)
				}
			})
		})
	case recMeta:
		s.floor = max(s.floor, r.seq)
		rc.resolveGap(max(r.last, s.last))
		if r.last >= s.last {
			s.last = r.last
			if r.ts != 0 {
				s.lastTime = r.ts
			}
		}
	}
}

// fileMsgSize is store.FileMsgSize from lengths.
func fileMsgSize(subj, hdr, data int) uint64 {
	if hdr == 0 {
		return uint64(30 + subj + data)
	}
	return uint64(34 + subj + hdr + data)
}

// finishRecovery applies the floor and settles what was lost.
func (s *Store) finishRecovery(rc *recovery) {
	// Damage after the last sequence-bearing record: what it held is
	// bounded by the last sequence a meta record vouches for, or is the
	// next sequence if its header says so.
	for _, d := range rc.pending {
		if d.single && d.hdrSeq == d.after+1 {
			s.last = max(s.last, d.hdrSeq)
		}
	}
	rc.resolve(s, s.last+1)
	s.settleTail(rc)
	for s.msgs > 0 {
		seq := s.firstLiveLocked(1)
		if seq == 0 || seq >= s.floor {
			break
		}
		q, g, e := s.nextLocked(allMatcher, seq)
		if g == nil || q != seq {
			s.log.Error("filestore: cannot read segment below the floor", "seq", seq)
			break
		}
		s.removeLocked(g, seq, e)
	}
	s.firstStale = s.msgs > 0
	for seq := range rc.lost {
		if seq >= s.floor {
			s.lost = append(s.lost, seq)
		}
	}
	slices.Sort(s.lost)
	s.lost = slices.Compact(s.lost)
	if len(s.lost) > 0 {
		s.lostBytes = rc.lostB
		s.log.Error("filestore: messages lost to corruption", "count", len(s.lost), "first", s.lost[0])
	}
	s.settleGaps(rc)
}

// scanner reads a segment file sequentially through a window, so recovery
// needs memory for one window (or one record, if larger), not one file.
type scanner struct {
	f interface {
		ReadAt([]byte, int64) (int, error)
	}
	size  int64
	buf   []byte
	start int64
}

const scanWindow = 1 << 20

// bytes returns up to n bytes at off (fewer only at the end of the file).
func (sc *scanner) bytes(off int64, n int) ([]byte, error) {
	n = int(min(int64(n), sc.size-off))
	if n <= 0 {
		return nil, nil
	}
	if off >= sc.start && off+int64(n) <= sc.start+int64(len(sc.buf)) {
		return sc.buf[off-sc.start:][:n], nil
	}
	want := int(min(int64(max(n, scanWindow)), sc.size-off))
	if cap(sc.buf) < want {
		sc.buf = make([]byte, want)
	}
	sc.buf = sc.buf[:want]
	k, err := sc.f.ReadAt(sc.buf, off)
	if k < want {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // the file shrank under us
		}
		sc.buf = sc.buf[:0]
		return nil, err
	}
	sc.start = off
	return sc.buf[:n], nil
}

// record returns the whole record at off, or errShort/errLength.
func (sc *scanner) record(off int64) ([]byte, error) {
	head, err := sc.bytes(off, lenSize)
	if err != nil {
		return nil, err
	}
	n, err := recordLen(head)
	if err != nil {
		return nil, err
	}
	if off+int64(n) > sc.size {
		return nil, errShort
	}
	return sc.bytes(off, n)
}

// resync returns the first offset at or after from where a whole valid
// record starts, or -1.
func (sc *scanner) resync(from int64) (int64, error) {
	for o := from; o+frameSize <= sc.size; o++ {
		head, err := sc.bytes(o, frameHead)
		if err != nil {
			return 0, err
		}
		if head[lenSize] != recMagic || head[lenSize+1] < recMsg || head[lenSize+1] > recMeta {
			continue
		}
		b, err := sc.record(o)
		if err != nil {
			if isCorruption(err) && err != io.ErrUnexpectedEOF {
				continue
			}
			return 0, err
		}
		if _, _, err := decodeRecord(b); err == nil {
			return o, nil
		}
	}
	return -1, nil
}

// useCheckpoint restores the indexes of the sealed segments from the
// checkpoint when it is valid (checkpoint.go) and returns the segment ids
// still to scan: all of them without one.
func (s *Store) useCheckpoint(rc *recovery, ids []uint64) []uint64 {
	c, err := s.readCheckpoint(ids)
	if err != nil {
		s.log.Warn("filestore: index checkpoint ignored; scanning the whole log", "err", err)
		return ids
	}
	if c == nil {
		return ids
	}
	floor := s.floor
	if err := s.installCheckpoint(rc, c); err != nil {
		s.log.Warn("filestore: index checkpoint ignored; scanning the whole log", "err", err)
		for _, g := range s.segs {
			g.f.release()
		}
		s.segs, s.msgs, s.bytes, s.subj = nil, 0, 0, newSubjects()
		s.floor, s.last, s.lastTime, s.nextID = floor, 0, 0, 1
		s.lost, s.lostBytes = nil, 0
		*rc = recovery{lost: rc.lost, hw: rc.hw, hwOK: rc.hwOK, missing: rc.missing}
		return ids
	}
	return ids[len(c.segs):]
}
