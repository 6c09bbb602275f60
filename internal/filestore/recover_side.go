package filestore

import (
	"fmt"
	"slices"
	"strings"
)

// Recovery against the side files (highwater.go, segmap.go). The log
// proves what it holds; the side files say what it should hold:
//
//   - A segment id that should exist but has no file is a lost segment. The
//     sequences it held lie between the last sequence before it and the
//     first sequence known after it (the next record, or the leading meta
//     record of the next segment, which names the last sequence before
//     it); those are reported lost, except the ones a surviving delete
//     record, the floor or the first live sequence of the high-water file
//     shows were gone already.
//   - A segment cut short is found by the next segment's leading meta
//     record. Cut at or below the high-water mark, the sequences cut are
//     reported lost; above a mark written in this boot, the cut is the
//     torn end of a crashed group commit and the log is truncated there
//     (tornCut).
//   - A log that ends before the high-water mark lost its tail: the
//     sequences after its end up to the mark were acknowledged and are
//     reported lost, and the store continues after the mark.
//   - When the machine rebooted since the mark was written, the mark may
//     be older than the log; if the tail shows damage (or acknowledgements
//     did not wait for fsync), the store continues after the synced
//     reservation instead, so no sequence that may have been acknowledged
//     is handed out again.

// readSideFiles reads the high-water file and the segment map and works out
// which segment ids are missing. It returns the map for openSideFiles.
func (s *Store) readSideFiles(rc *recovery, ids []uint64) (segMap, bool) {
	hw, ok, err := readMark(s.fs, s.dir)
	switch {
	case err != nil:
		s.log.Warn("filestore: high-water file unreadable; a lost tail cannot be detected this time", "err", err)
	case !ok && len(ids) > 0:
		s.log.Warn("filestore: no high-water file (deleted, or written by an older version); a lost tail cannot be detected this time")
	}
	rc.hw, rc.hwOK = hw, ok
	if ok {
		// A purge whose meta record went with a lost segment still holds.
		s.floor = max(s.floor, hw.floor)
	}
	sm, smOK, err := readSegMap(s.fs, s.dir)
	switch {
	case err != nil:
		s.log.Warn("filestore: segment map unreadable; lost segments cannot be detected this time", "err", err)
	case !smOK && len(ids) > 0:
		s.log.Warn("filestore: no segment map (deleted, or written by an older version); lost segments cannot be detected this time")
	}
	var active uint64
	if ok {
		active = hw.active
	}
	rc.missing = missingSegments(ids, sm, smOK, active)
	return sm, smOK
}

// checkMissing notes the segments missing between ids prev and next
// (exclusive): their sequences start after the last one read so far.
func (s *Store) checkMissing(rc *recovery, prev, next uint64) {
	var gone []span
	for _, r := range rc.missing {
		if r.hi > prev && r.lo < next {
			gone = append(gone, span{max(r.lo, prev+1), min(r.hi, next-1)})
		}
	}
	if len(gone) == 0 {
		return
	}
	s.log.Error("filestore: segment files missing; the messages they held are lost", "segments", s.fmtSegs(gone), "after_seq", s.last)
	rc.openGap(s.last)
}

// checkLeadingMeta compares the meta record a segment starts with (written
// when it was created, naming the last sequence handed out before it) with
// the sequences read so far. When the segment before it is its direct
// predecessor, that one held every sequence up to the meta's (rewrites keep
// its last sequence in a meta record), so any shortfall was cut from it.
// It reports true when the cut is the torn end of the log instead (see
// tornCut): the caller then drops everything from the cut on.
func (s *Store) checkLeadingMeta(rc *recovery, id uint64, r *record) bool {
	// Below the floor (the meta's own, for a compaction past the end that
	// started this segment) sequences are gone on purpose.
	lo := max(s.last+1, s.floor, r.seq)
	if rc.prevID == 0 || id != rc.prevID+1 || r.last < lo || rc.gapOpen {
		return false
	}
	if rc.tornCut(lo, s.cfg.BootID) {
		s.log.Warn("filestore: segment file ends early, above the last acknowledged sequence: torn writes of a crash; the log is truncated at the cut",
			"segment", fmt.Sprintf("%016x.seg", rc.prevID), "last_seq_in_it", s.last, "last_seq_written", r.last, "acknowledged_seq", rc.hw.last)
		return true
	}
	// A rewrite of the predecessor records the full range it had, after
	// which the cut reads as deleted (like a corrupt record once its
	// segment is rewritten).
	prev := s.segs[len(s.segs)-2]
	prev.top = max(prev.top, r.last)
	s.log.Error("filestore: segment file ends early; the messages cut from it are lost",
		"segment", fmt.Sprintf("%016x.seg", rc.prevID), "last_seq_in_it", s.last, "last_seq_written", r.last)
	rc.gaps = rc.gaps.add(lo, r.last)
	return false
}

// tornCut reports whether a segment cut short before sequence lo is the
// torn end of the log: a crash during a group commit that had written the
// end of one segment and the head of the next, neither synced. It is when
// no sequence from lo on was acknowledged, which the high-water mark says:
// an acknowledgement waits for the sync of every segment written before
// it, so the cut segment would have been whole. The mark must have been
// written in this boot of the machine: only then is it exact. After a
// reboot it may be older than the log, and a cut above it (a truncated
// file, say) could hold acknowledged messages that the later segments
// still have whole: such a cut is reported lost as any other, erring
// towards a spurious report rather than dropping whole records. The cut
// segment must have been scanned, so that where its whole records end is
// known.
func (rc *recovery) tornCut(lo uint64, boot string) bool {
	return rc.hwOK && rc.hw.boot != "" && rc.hw.boot == boot && lo > rc.hw.last && rc.scanned == rc.prevID
}

// cutTornEnd truncates the log at a torn cut found at the head of g (of
// size bytes): the segment before it keeps its whole records, and g and
// every later segment are emptied, as unacknowledged writes after the cut.
func (s *Store) cutTornEnd(rc *recovery, g *segment, size int64) error {
	prev := s.segs[len(s.segs)-2]
	if rc.scanTail >= 0 {
		// The partial record it ends with is a torn write, not damage.
		rc.pending = rc.pending[:rc.scanTail]
	}
	if rc.scanEnd < prev.size {
		if err := prev.f.truncate(rc.scanEnd); err != nil {
			return fmt.Errorf("filestore: truncating torn tail: %w", err)
		}
		prev.size = rc.scanEnd
	}
	rc.tornFound = true
	rc.needMeta = true // the active segment then starts by naming the last sequence
	return s.emptyTornSegment(rc, g, size)
}

// emptyTornSegment truncates g, which lies after the torn end of the log,
// to nothing. The file stays: the segment map lists it.
func (s *Store) emptyTornSegment(rc *recovery, g *segment, size int64) error {
	if size > 0 {
		s.log.Warn("filestore: segment after the torn end of the log emptied", "segment", fmt.Sprintf("%016x.seg", g.id), "bytes", size)
		if err := g.f.truncate(0); err != nil {
			return fmt.Errorf("filestore: truncating torn tail: %w", err)
		}
	}
	g.size, g.top = 0, s.last
	rc.prevID = g.id
	return nil
}

// openGap starts a lost range after last whose end is not known yet.
func (rc *recovery) openGap(last uint64) {
	if !rc.gapOpen {
		rc.gaps = rc.gaps.add(last+1, openEnd)
		rc.gapOpen = true
	}
}

// resolveGap ends the open lost range at seq: the next sequence known to
// exist is seq+1.
func (rc *recovery) resolveGap(seq uint64) {
	if !rc.gapOpen {
		return
	}
	rc.gapOpen = false
	if seq < openEnd {
		rc.gaps = rc.gaps.remove(seq+1, openEnd)
	}
}

// settleTail compares the end of the log with the high-water mark.
func (s *Store) settleTail(rc *recovery) {
	if !rc.hwOK || rc.hw.last <= s.last {
		rc.resolveGap(s.last)
		return
	}
	if s.cfg.Replica {
		s.log.Info("filestore: the log ends before the last applied sequence; the Raft log refills the rest",
			"log_last_seq", s.last, "applied_seq", rc.hw.last)
		rc.resolveGap(s.last)
		rc.needMeta = true
		return
	}
	s.log.Error("filestore: the log ends before the last acknowledged sequence; the messages after its end are lost",
		"log_last_seq", s.last, "acknowledged_seq", rc.hw.last)
	rc.tailLost = true
	rc.openGap(s.last)
	rc.resolveGap(rc.hw.last)
	s.last = rc.hw.last
	if rc.hw.lastTime != 0 {
		s.lastTime = rc.hw.lastTime
	}
	rc.needMeta = true
}

// settleGaps keeps the lost ranges that held live messages, reports them,
// and moves past the reservation when the log's end cannot be trusted.
func (s *Store) settleGaps(rc *recovery) {
	lower := s.floor
	if rc.hwOK {
		lower = max(lower, rc.hw.first)
	}
	if lower > 1 {
		rc.gaps = rc.gaps.remove(1, lower-1)
	}
	s.missing = rc.gaps
	s.lostView = nil
	if n := s.missing.count(); n > 0 {
		s.log.Error("filestore: messages lost with missing log data", "count", n, "seqs", fmtSpans(s.missing))
	}
	sameBoot := rc.hwOK && rc.hw.boot != "" && rc.hw.boot == s.cfg.BootID
	damaged := len(rc.missing) > 0 || rc.tailLost || rc.badTail
	if rc.hwOK && !sameBoot && !s.cfg.Replica && rc.hw.reserved > s.last && (damaged || s.cfg.SyncInterval > 0) {
		s.log.Warn("filestore: the machine restarted since the last high-water mark and the log may lack acknowledged messages; skipping every sequence that may have been acknowledged",
			"skipped_from", s.last+1, "skipped_to", rc.hw.reserved)
		s.last = rc.hw.reserved
		rc.needMeta = true
	}
}

// openSideFiles brings the segment map up to date and opens the
// high-water file with a slot for the recovered state, both synced: from
// here on the log is what they describe.
func (s *Store) openSideFiles(rc *recovery, old segMap, oldOK bool) error {
	ids := make([]uint64, len(s.segs))
	for i, g := range s.segs {
		ids[i] = g.id
	}
	cur := segMap{next: s.nextID, ids: toRanges(ids)}
	if !oldOK || old.next != cur.next || !slices.Equal(old.ids, cur.ids) {
		if err := writeSegMap(s.fs, s.dir, &cur); err != nil {
			return err
		}
	}
	m := s.markLocked()
	m.reserved = m.last // the log holds everything: nothing above was acknowledged
	w, err := openMarkWriter(s.cfg.Handles, s.fs, s.dir, rc.hw.gen, m)
	if err != nil {
		return err
	}
	s.marks, s.marked = w, m.last
	return nil
}

// writeSegMap records the segments present now, before a file is
// removed. syncMu must be held, and mu not.
func (s *Store) writeSegMap() error {
	s.mu.Lock()
	ids := make([]uint64, 0, len(s.segs))
	for _, g := range s.segs {
		ids = append(ids, g.id)
	}
	m := segMap{next: s.nextID, ids: toRanges(ids)}
	s.mu.Unlock()
	return writeSegMap(s.fs, s.dir, &m)
}

// fmtSegs names segment id ranges as their files.
func (s *Store) fmtSegs(rs []span) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%016x.seg", r.lo)
		if r.hi > r.lo {
			fmt.Fprintf(&b, " to %016x.seg", r.hi)
		}
	}
	return b.String()
}

// fmtSpans writes sequence ranges for the log, the first 32 of them.
func fmtSpans(rs spans) string {
	var b strings.Builder
	for i, r := range rs {
		if i == 32 {
			fmt.Fprintf(&b, " and %d more ranges", len(rs)-i)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		if r.hi > r.lo {
			fmt.Fprintf(&b, "%d-%d", r.lo, r.hi)
		} else {
			fmt.Fprintf(&b, "%d", r.lo)
		}
	}
	return b.String()
}
