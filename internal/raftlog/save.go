package raftlog

import (
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Update is what one group's Ready asks to persist.
type Update struct {
	Group uint64
	// HardState is saved when not empty and different from the saved one.
	HardState *pb.HardState
	// Entries are appended; the first may be at or below the last index,
	// replacing the conflicting suffix. Indexes must be consecutive.
	Entries []*pb.Entry
	// Snapshot, when not empty, is applied as raft's
	// MemoryStorage.ApplySnapshot: the log restarts after it. It is saved
	// before Entries.
	Snapshot *pb.Snapshot
}

// pending is one update, checked and encoded, waiting for its bytes to be
// durable before the in-memory views change.
type pending struct {
	id      uint64
	snap    *snapState
	first   uint64
	locs    []entLoc
	ents    []*pb.Entry // the saved entries, for the cache: locs[i] is ents[i]
	hs      *hardState
	compact *mark // CreateSnapshot/Compact only
}

var marshal = proto.MarshalOptions{Deterministic: true}

// Save keeps the entries it is given, as MemoryStorage.Append does (raft
// does not change an entry once it is in a Ready), and may hand them back
// from Entries.
//
// Save writes the batch in order, syncs once if anything in it needs a
// sync (entries, a snapshot, a new term or vote: raft's MustSync), then
// updates the groups' views. When it returns nil the batch is durable; on
// a write or sync error the log refuses every later write.
func (l *Log) Save(batch []Update) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.check(); err != nil {
		return err
	}
	if l.active().size >= l.opts.SegmentSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	act := l.active()
	buf := l.buf[:0]
	pends := make([]pending, 0, len(batch))
	mustSync := false
	seen := make(map[uint64]struct{}, len(batch))
	for i := range batch {
		u := &batch[i]
		if _, dup := seen[u.Group]; dup {
			return ErrDuplicate
		}
		seen[u.Group] = struct{}{}
		var (
			p    pending
			sync bool
			err  error
		)
		buf, p, sync, err = l.encodeUpdate(buf, act, u)
		if err != nil {
			return err
		}
		mustSync = mustSync || sync
		pends = append(pends, p)
	}
	l.buf = buf
	if cap(buf) > maxKeptBuf {
		l.buf = nil // one huge batch does not pin its buffer for ever
	}
	return l.commit(buf, pends, mustSync)
}

// maxKeptBuf is the largest encoding buffer kept between batches.
const maxKeptBuf = 4 << 20

// commit writes buf at the end of the active segment, syncs when asked,
// and applies pends.
func (l *Log) commit(buf []byte, pends []pending, sync bool) error {
	if len(buf) == 0 {
		return nil
	}
	act := l.active()
	if _, err := act.f.WriteAt(buf, act.size); err != nil {
		return l.fail(err)
	}
	if sync {
		if err := act.f.Sync(); err != nil {
			return l.fail(err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	act.size += int64(len(buf))
	for _, p := range pends {
		l.applyPending(p)
	}
	if sync {
		l.collectLocked()
	}
	return nil
}

func (l *Log) applyPending(p pending) {
	if p.snap == nil && p.compact == nil && len(p.locs) == 0 && p.hs == nil {
		return // an empty update does not create a group
	}
	g := l.groups[p.id]
	if g == nil {
		g = &group{}
		l.groups[p.id] = g
	}
	if p.snap != nil {
		l.applySnap(g, *p.snap)
	}
	if p.compact != nil {
		l.compactTo(g, *p.compact)
	}
	if len(p.locs) > 0 {
		l.appendLocs(g, p.first, p.locs)
		for i, e := range p.ents {
			l.cache.add(cacheKey{p.locs[i].seg, p.locs[i].off}, e, p.locs[i].size)
		}
	}
	if p.hs != nil {
		g.hs, g.hasHS = *p.hs, true
	}
}

// encodeUpdate checks u against its group and appends its records to buf.
// Entry offsets are computed for the active segment's current end.
func (l *Log) encodeUpdate(buf []byte, act *segment, u *Update) ([]byte, pending, bool, error) {
	p := pending{id: u.Group}
	g := l.groups[u.Group] // read without mu: only writers change it
	l.mu.Lock()
	damaged := l.isDamaged(g)
	l.mu.Unlock()
	if damaged {
		return buf, p, false, fmt.Errorf("group %d: %w", u.Group, ErrDamaged)
	}
	var cur group
	if g != nil {
		cur = group{hs: g.hs, hasHS: g.hasHS, snap: g.snap, hasSnap: g.hasSnap, offset: g.offset, ents: g.ents}
	}
	sync := false
	if !raft.IsEmptySnap(u.Snapshot) {
		s, err := l.snapFrom(u.Snapshot, cur.snap)
		if err != nil {
			return buf, p, false, fmt.Errorf("group %d: %w", u.Group, err)
		}
		start := 0
		buf, start = beginRecord(buf, kindSnapshot, u.Group)
		buf = finishRecord(appendSnapRecord(buf, snapApply, s), start)
		p.snap, sync = &s, true
		cur.offset, cur.ents = mark{s.index, s.term}, nil
	}
	if len(u.Entries) > 0 {
		var err error
		buf, err = l.encodeEntries(buf, act, u, &cur, &p)
		if err != nil {
			return buf, p, false, fmt.Errorf("group %d: %w", u.Group, err)
		}
		sync = true
	}
	if hs := u.HardState; !raft.IsEmptyHardState(hs) {
		h := hardState{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}
		if !cur.hasHS || h != cur.hs {
			start := 0
			buf, start = beginRecord(buf, kindHardState, u.Group)
			buf = finishRecord(appendHardState(buf, h), start)
			p.hs = &h
			sync = sync || h.term != cur.hs.term || h.vote != cur.hs.vote
		}
	}
	return buf, p, sync, nil
}

// snapFrom checks and converts a snapshot to be applied over cur.
func (l *Log) snapFrom(s *pb.Snapshot, cur snapState) (snapState, error) {
	md := s.GetMetadata()
	if cur.index != 0 && cur.index >= md.GetIndex() {
		return snapState{}, raft.ErrSnapOutOfDate
	}
	conf, err := marshal.Marshal(pb.EnsureConfState(md.GetConfState()))
	if err != nil {
		return snapState{}, err
	}
	st := snapState{index: md.GetIndex(), term: md.GetTerm(), conf: conf, data: slices.Clone(s.GetData())}
	if len(conf)+len(st.data)+minRecord+128 > l.opts.MaxRecordSize {
		return snapState{}, ErrTooLarge
	}
	return st, nil
}

// encodeEntries appends u's entries as one or more entries records and
// fills p's locations. cur is the group as it will be when the entries
// are applied.
func (l *Log) encodeEntries(buf []byte, act *segment, u *Update, cur *group, p *pending) ([]byte, error) {
	ents := u.Entries
	first := ents[0].GetIndex()
	for i, e := range ents {
		if e.GetIndex() != first+uint64(i) {
			return buf, fmt.Errorf("%w: index %d at position %d after %d", ErrGap, e.GetIndex(), i, first)
		}
	}
	if first > cur.last()+1 {
		return buf, fmt.Errorf("%w: append at %d, last index %d", ErrGap, first, cur.last())
	}
	if last := first + uint64(len(ents)) - 1; last <= cur.offset.index {
		return buf, nil // all compacted, as MemoryStorage.Append
	}
	if first <= cur.offset.index {
		ents = ents[cur.offset.index+1-first:]
		first = cur.offset.index + 1
	}
	p.first = first
	p.ents = ents
	p.locs = make([]entLoc, 0, len(ents))
	for i := 0; i < len(ents); {
		var start int
		buf, start = beginRecord(buf, kindEntries, u.Group)
		buf = le.AppendUint64(buf, first+uint64(i))
		countAt := len(buf)
		buf = le.AppendUint32(buf, 0)
		n := 0
		for ; i < len(ents); i++ {
			if n > 0 && (len(buf)-start >= entriesRecordTarget ||
				len(buf)-start+entryHead+proto.Size(ents[i])+crcSize > l.opts.MaxRecordSize) {
				break
			}
			at := len(buf)
			buf = le.AppendUint64(buf, ents[i].GetTerm())
			buf = append(buf, make([]byte, 8)...)
			var err error
			buf, err = marshal.MarshalAppend(buf, ents[i])
			if err != nil {
				return buf, err
			}
			enc := buf[at+entryHead:]
			if len(buf)-start+crcSize > l.opts.MaxRecordSize {
				return buf, ErrTooLarge
			}
			c := crc(enc)
			le.PutUint32(buf[at+8:], uint32(len(enc)))
			le.PutUint32(buf[at+12:], c)
			p.locs = append(p.locs, entLoc{term: ents[i].GetTerm(), seg: act.seq, off: act.size + int64(at+entryHead), size: uint32(len(enc)), crc: c})
			n++
		}
		le.PutUint32(buf[countAt:], uint32(n))
		buf = finishRecord(buf, start)
	}
	return buf, nil
}

// Compact drops the group's entries up to and including index, as raft's
// MemoryStorage.Compact; the term of index stays known. Call it once the
// state machine has the entries durably (or in a snapshot). The mark is
// not synced here: the next syncing Save covers it, and no segment is
// deleted before that.
func (l *Log) Compact(id, index uint64) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.check(); err != nil {
		return err
	}
	l.mu.Lock()
	g := l.groups[id]
	var err error
	var m mark
	switch {
	case l.isDamaged(g):
		err = ErrDamaged
	case g == nil || index <= g.offset.index:
		err = raft.ErrCompacted
	case index > g.last():
		err = raft.ErrUnavailable
	default:
		m = mark{index, g.ents[index-g.offset.index-1].term}
	}
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("group %d: compact to %d: %w", id, index, err)
	}
	buf, start := beginRecord(l.buf[:0], kindCompact, id)
	buf = finishRecord(appendMark(buf, m), start)
	l.buf = buf
	return l.commit(buf, []pending{{id: id, compact: &m}}, false)
}

// CreateSnapshot records the state machine's snapshot at index (term taken
// from the log), as raft's MemoryStorage.CreateSnapshot: entries stay until
// Compact. cs nil keeps the previous configuration. Not synced, as Compact.
func (l *Log) CreateSnapshot(id, index uint64, cs *pb.ConfState, data []byte) (*pb.Snapshot, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.check(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	g := l.groups[id]
	var err error
	var s snapState
	switch {
	case l.isDamaged(g):
		err = ErrDamaged
	case g == nil || index <= g.snap.index:
		err = raft.ErrSnapOutOfDate
	case index > g.last():
		err = raft.ErrUnavailable
	case index < g.offset.index:
		err = raft.ErrCompacted
	default:
		s = snapState{index: index, term: g.offset.term, conf: g.snap.conf, data: slices.Clone(data)}
		if index > g.offset.index {
			s.term = g.ents[index-g.offset.index-1].term
		}
	}
	l.mu.Unlock()
	if err == nil && cs != nil {
		s.conf, err = marshal.Marshal(cs)
	}
	if err == nil && len(s.conf)+len(s.data)+minRecord+128 > l.opts.MaxRecordSize {
		err = ErrTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("group %d: snapshot at %d: %w", id, index, err)
	}
	buf, start := beginRecord(l.buf[:0], kindSnapshot, id)
	buf = finishRecord(appendSnapRecord(buf, snapCreate, s), start)
	l.buf = buf
	if err := l.commit(buf, []pending{{id: id, snap: nil}}, false); err != nil {
		return nil, err
	}
	l.mu.Lock()
	g.snap, g.hasSnap = s, true
	l.mu.Unlock()
	return snapToPB(s)
}

// RemoveGroup forgets a group: its entries die and its state goes. It is
// synced, so a removed group does not come back after a crash.
func (l *Log) RemoveGroup(id uint64) error {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	if err := l.check(); err != nil {
		return err
	}
	if l.groups[id] == nil {
		return nil
	}
	buf, start := beginRecord(l.buf[:0], kindRemove, id)
	buf = finishRecord(buf, start)
	l.buf = buf
	if err := l.commit(buf, nil, true); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if g := l.groups[id]; g != nil {
		l.dropLive(g.ents)
		delete(l.groups, id)
	}
	l.collectLocked()
	return nil
}

func snapToPB(s snapState) (*pb.Snapshot, error) {
	cs := &pb.ConfState{}
	if err := proto.Unmarshal(s.conf, cs); err != nil {
		return nil, err
	}
	return &pb.Snapshot{
		Data:     slices.Clone(s.data),
		Metadata: &pb.SnapshotMetadata{ConfState: cs, Index: new(s.index), Term: new(s.term)},
	}, nil
}
