package raftlog

import (
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/starling-mq/starling/internal/vfs"
)

// recover rebuilds every group by replaying the segments in order. While
// it runs l.segs is empty, so the live counts are not kept; finishReplay
// computes them once at the end.
func (l *Log) recover() error {
	dirents, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, e := range dirents {
		name := e.Name()
		if len(name) != 20 || !strings.HasSuffix(name, ".log") {
			continue
		}
		seq, err := strconv.ParseUint(name[:16], 16, 64)
		if err != nil || seq == 0 {
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	segs := make([]*segment, 0, len(seqs))
	defer func() {
		// On error, close what was opened; on success they are l's.
		if len(l.segs) == 0 {
			for _, s := range segs {
				_ = s.f.Close()
			}
		}
	}()
	var rp replayer
	for i, seq := range seqs {
		last := i == len(seqs)-1
		path := l.segPath(seq)
		data, err := vfs.ReadFile(l.fs, path)
		if err != nil {
			return err
		}
		valid := rp.segment(l, seq, data, last)
		s := &segment{seq: seq, size: int64(valid)}
		if valid < len(data) && last {
			l.opts.Logger.Warn("raftlog: torn tail truncated", "segment", segName(seq), "at", valid, "size", len(data))
			f, err := l.fs.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			s.f = f
			segs = append(segs, s)
			if err := f.Truncate(int64(valid)); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
			continue
		}
		s.size = int64(len(data))
		if s.f, err = l.fs.Open(path); err != nil {
			return err
		}
		segs = append(segs, s)
	}
	l.finishReplay(segs)
	return nil
}

// replayer carries what a replay needs from record to record.
type replayer struct {
	refs []entryRef
	// lostUpTo is set when records of unknown groups were lost in that
	// segment (0: none): the next complete checkpoint settles it.
	lostUpTo uint64
}

// lose records that records of unknown groups in segment seq are lost. In
// the last segment nothing comes after to say what they were, so every
// group is refused. Otherwise the next segment's checkpoint re-establishes
// every group's state; what it cannot vouch for is entries, so only groups
// holding entries in a segment up to seq are damaged (see settle).
func (rp *replayer) lose(l *Log, seq uint64, off int, last bool, why string) {
	if last {
		l.damageLog(seq, off, why)
		return
	}
	l.opts.Logger.Error("raftlog: records lost", "segment", segName(seq), "offset", off, "why", why)
	rp.lostUpTo = seq
}

// settle runs after a complete checkpoint: a group with an entry in a
// segment where records were lost may have lost the record that replaced
// it, so its log cannot be trusted.
func (rp *replayer) settle(l *Log) {
	if rp.lostUpTo == 0 {
		return
	}
	for id, g := range l.groups {
		for _, e := range g.ents {
			if e.seg != 0 && e.seg <= rp.lostUpTo {
				l.damageGroup(id, e.seg, 0, "entries in a segment with lost records")
				break
			}
		}
	}
	rp.lostUpTo = 0
}

// segment replays one segment's records and returns how many bytes of it
// are good: less than len(data) only for a torn tail of the last segment.
func (rp *replayer) segment(l *Log, seq uint64, data []byte, last bool) int {
	defer func() {
		if rp.lostUpTo != 0 && rp.lostUpTo < seq {
			// This segment had no complete checkpoint to settle it.
			l.damageLog(seq, 0, "records lost before a segment without a checkpoint")
			rp.lostUpTo = 0
		}
	}()
	off := 0
	ckLeft := -1 // state records still expected in the opening checkpoint
	var inCk map[uint64]bool
	for {
		rec, n, st := nextRecord(data[off:], l.opts.MaxRecordSize)
		switch st {
		case scanEnd:
			return off
		case scanTorn:
			if last {
				return off // a write cut by the crash: it was never acknowledged
			}
			// Segments before the last were synced whole at rotation.
			rp.lose(l, seq, off, last, "segment ends inside a record")
			return len(data)
		case scanBadHeader:
			// Neither length nor group can be trusted: the rest of the
			// segment is unreadable.
			rp.lose(l, seq, off, last, "record header checksum")
			return len(data)
		case scanBadBody:
			if rec.kind == kindSegment || off == 0 {
				rp.lose(l, seq, off, last, "segment header checksum")
			} else {
				l.damageGroup(rec.group, seq, off, "record checksum")
			}
			off += n
			continue
		}
		switch {
		case off == 0:
			h, err := decodeSegHeader(rec.body)
			if rec.kind != kindSegment || err != nil || h.seq != seq {
				rp.lose(l, seq, off, last, "segment header")
			} else {
				if h.flags&segLogDamaged != 0 {
					l.logDamaged = true
				}
				ckLeft, inCk = int(h.ngroups), make(map[uint64]bool, h.ngroups)
			}
		case rec.kind == kindSegment:
			rp.lose(l, seq, off, last, "segment header inside a segment")
		case rec.kind == kindState:
			if ckLeft <= 0 || inCk[rec.group] || !rp.state(l, rec) {
				l.damageGroup(rec.group, seq, off, "bad checkpoint record")
			}
			if ckLeft > 0 {
				inCk[rec.group] = true
				ckLeft--
			}
		default:
			if !rp.apply(l, seq, int64(off), rec) {
				l.damageGroup(rec.group, seq, off, "malformed record")
			}
		}
		if ckLeft == 0 {
			// A complete checkpoint names every group there was: the
			// others were removed in segments since deleted.
			for id := range l.groups {
				if !inCk[id] {
					delete(l.groups, id)
				}
			}
			ckLeft = -1
			rp.settle(l)
		}
		off += n
	}
}

func (l *Log) damageLog(seq uint64, off int, why string) {
	l.opts.Logger.Error("raftlog: log damaged, every group refused", "segment", segName(seq), "offset", off, "why", why)
	l.logDamaged = true
}

func (l *Log) damageGroup(id, seq uint64, off int, why string) {
	l.opts.Logger.Error("raftlog: group damaged", "group", id, "segment", segName(seq), "offset", off, "why", why)
	l.groupFor(id).damaged = true
}

func (l *Log) groupFor(id uint64) *group {
	g := l.groups[id]
	if g == nil {
		g = &group{}
		l.groups[id] = g
	}
	return g
}

// apply replays one record; false means its body is malformed.
func (rp *replayer) apply(l *Log, seq uint64, off int64, rec record) bool {
	switch rec.kind {
	case kindEntries:
		first, refs, err := decodeEntries(rec.body, rp.refs)
		if err != nil {
			return false
		}
		rp.refs = refs
		locs := make([]entLoc, len(refs))
		for i, r := range refs {
			locs[i] = entLoc{term: r.term, seg: seq, off: off + headSize + int64(r.off), size: uint32(r.size), crc: r.crc}
		}
		l.appendLocs(l.groupFor(rec.group), first, locs)
	case kindHardState:
		hs, rest, err := decodeHardState(rec.body)
		if err != nil || len(rest) != 0 {
			return false
		}
		g := l.groupFor(rec.group)
		g.hs, g.hasHS = hs, true
	case kindSnapshot:
		mode, s, err := decodeSnapRecord(rec.body)
		if err != nil {
			return false
		}
		s = snapState{index: s.index, term: s.term, conf: slices.Clone(s.conf), data: slices.Clone(s.data)}
		g := l.groupFor(rec.group)
		if mode == snapApply {
			l.applySnap(g, s)
		} else {
			g.snap, g.hasSnap = s, true
		}
	case kindCompact:
		m, err := decodeMark(rec.body)
		if err != nil {
			return false
		}
		l.compactTo(l.groupFor(rec.group), m)
	case kindRemove:
		if len(rec.body) != 0 {
			return false
		}
		delete(l.groups, rec.group)
	default:
		return false
	}
	return true
}

// state replays a checkpoint record: the group becomes exactly what it
// was when the segment began, its entries kept where replay put them.
func (rp *replayer) state(l *Log, rec record) bool {
	st, err := decodeGroupState(rec.body)
	if err != nil {
		return false
	}
	g := l.groupFor(rec.group)
	g.hs, g.hasHS = st.hs, st.flags&stateHS != 0
	g.hasSnap = st.hasSnap
	g.snap = snapState{}
	if st.hasSnap {
		g.snap = snapState{index: st.snap.index, term: st.snap.term, conf: slices.Clone(st.snap.conf), data: slices.Clone(st.snap.data)}
	}
	g.damaged = g.damaged || st.flags&stateDamaged != 0
	if st.offset.index < g.offset.index {
		// Replay ran ahead of the checkpoint: only records of an older
		// incarnation of the group can do that. Start over; what the
		// checkpoint says is held must come from later records.
		g.ents = nil
	}
	l.compactTo(g, st.offset)
	g.offset = st.offset
	if g.last() > st.last {
		l.truncateFrom(g, st.last+1)
	}
	for g.last() < st.last {
		g.ents = append(g.ents, entLoc{})
	}
	return true
}

// finishReplay marks groups with entries no record held, installs the
// segments and counts their live entries.
func (l *Log) finishReplay(segs []*segment) {
	for id, g := range l.groups {
		if g.damaged {
			continue
		}
		for i, e := range g.ents {
			if e.seg == 0 {
				l.opts.Logger.Error("raftlog: group damaged: entry missing", "group", id, "index", g.offset.index+1+uint64(i))
				g.damaged = true
				break
			}
		}
	}
	for _, s := range segs {
		l.segs[s.seq] = s
		l.order = append(l.order, s.seq)
	}
	for _, g := range l.groups {
		l.addLive(g.ents)
	}
}
