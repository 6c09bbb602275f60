package raftlog

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/starling-mq/starling/internal/vfs"
)

func (l *Log) segPath(seq uint64) string { return filepath.Join(l.dir, segName(seq)) }

// rotate starts a new segment: the active one is synced first (so no
// segment but the last ever has an unsynced tail, and a torn record can
// only be at the very end of the log), the new file's directory entry is
// made durable, and the new segment opens with a checkpoint of every
// group. The checkpoint is synced with the batch that follows (or by Open).
// writeMu held.
func (l *Log) rotate() error {
	seq := uint64(1)
	if len(l.order) > 0 {
		act := l.active()
		if err := act.f.Sync(); err != nil {
			return l.fail(err)
		}
		seq = act.seq + 1
	}
	f, err := l.fs.OpenFile(l.segPath(seq), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return l.fail(err)
	}
	// The segment's blocks are reserved up front (its size unchanged), so
	// the sync of every batch appended to it journals less metadata.
	vfs.Preallocate(f, l.opts.SegmentSize)
	if err := l.fs.SyncDir(l.dir); err != nil {
		_ = f.Close()
		return l.fail(err)
	}
	l.mu.Lock()
	buf := l.checkpoint(l.buf[:0], seq)
	l.mu.Unlock()
	l.buf = buf
	if _, err := f.WriteAt(buf, 0); err != nil {
		_ = f.Close()
		return l.fail(err)
	}
	l.mu.Lock()
	l.segs[seq] = &segment{seq: seq, f: f, size: int64(len(buf))}
	l.order = append(l.order, seq)
	l.mu.Unlock()
	return nil
}

// checkpoint encodes a segment header and one state record per group, in
// group order so a log's bytes are a function of its history. Writing the
// state forward at every rotation (rather than keeping the records where
// they were written) is what lets a segment go as soon as its entries are
// dead: a group that is idle for a long time costs one small record per
// segment, never a pinned old segment. mu held.
func (l *Log) checkpoint(dst []byte, seq uint64) []byte {
	ids := make([]uint64, 0, len(l.groups))
	for id := range l.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := segHeader{seq: seq, ngroups: uint32(len(ids))}
	if l.logDamaged {
		h.flags |= segLogDamaged
	}
	dst, start := beginRecord(dst, kindSegment, 0)
	dst = finishRecord(appendSegHeader(dst, h), start)
	for _, id := range ids {
		g := l.groups[id]
		st := groupState{hs: g.hs, offset: g.offset, last: g.last(), snap: g.snap}
		if g.hasHS {
			st.flags |= stateHS
		}
		if g.hasSnap {
			st.flags |= stateSnap
		}
		if g.damaged {
			st.flags |= stateDamaged
		}
		dst, start = beginRecord(dst, kindState, id)
		dst = finishRecord(appendGroupState(dst, st), start)
	}
	return dst
}
