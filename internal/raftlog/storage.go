package raftlog

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Storage is one group's view of the log: raft.Storage with raft's
// semantics and error values. A group the log does not hold reads as a new,
// empty log. Every method of a damaged group returns ErrDamaged, of a
// closed log ErrClosed.
type Storage struct {
	l  *Log
	id uint64
}

var _ raft.Storage = (*Storage)(nil)

// Storage returns the view of group id.
func (l *Log) Storage(id uint64) *Storage { return &Storage{l: l, id: id} }

// Damaged says whether the group's records failed their checks: raft must
// not run on it; the group is to be rebuilt (removed, then caught up from
// the other replicas).
func (s *Storage) Damaged() bool {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	return s.l.isDamaged(s.l.groups[s.id])
}

// lock takes the log's lock and returns the group (an empty one for an
// unknown id), or ErrClosed or ErrDamaged with the lock released.
func (s *Storage) lock() (*group, error) {
	s.l.mu.Lock()
	if s.l.closed {
		s.l.mu.Unlock()
		return nil, ErrClosed
	}
	g := s.l.groups[s.id]
	if s.l.isDamaged(g) {
		s.l.mu.Unlock()
		return nil, fmt.Errorf("group %d: %w", s.id, ErrDamaged)
	}
	if g == nil {
		g = &group{}
	}
	return g, nil
}

// InitialState implements raft.Storage.
func (s *Storage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	g, err := s.lock()
	if err != nil {
		return nil, nil, err
	}
	defer s.l.mu.Unlock()
	var hs *pb.HardState
	if g.hasHS {
		hs = &pb.HardState{Term: new(g.hs.term), Vote: new(g.hs.vote), Commit: new(g.hs.commit)}
	}
	cs := &pb.ConfState{}
	if err := proto.Unmarshal(g.snap.conf, cs); err != nil {
		return nil, nil, err
	}
	return hs, cs, nil
}

// Entries implements raft.Storage: entries [lo, hi) up to maxSize bytes
// (raft's measure: the encoded size), at least one. Entries are read from
// the segment files. hi past the last index is ErrUnavailable (raft's
// MemoryStorage panics).
func (s *Storage) Entries(lo, hi, maxSize uint64) ([]*pb.Entry, error) {
	g, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer s.l.mu.Unlock()
	switch {
	case lo <= g.offset.index:
		return nil, raft.ErrCompacted
	case hi > g.last()+1 || len(g.ents) == 0 || lo > hi:
		return nil, raft.ErrUnavailable
	}
	locs := g.ents[lo-g.offset.index-1 : hi-g.offset.index-1]
	if len(locs) > 0 {
		size := uint64(locs[0].size)
		n := 1
		for ; n < len(locs); n++ {
			size += uint64(locs[n].size)
			if size > maxSize {
				break
			}
		}
		locs = locs[:n]
	}
	ents, err := s.l.readEntries(lo, locs)
	if errors.Is(err, errEntry) {
		s.l.opts.Logger.Error("raftlog: group damaged", "group", s.id, "err", err)
		g.damaged = true
		return nil, fmt.Errorf("group %d: %w: %w", s.id, ErrDamaged, err)
	}
	if err != nil {
		return nil, fmt.Errorf("group %d: %w", s.id, err)
	}
	return ents, nil
}

// Term implements raft.Storage.
func (s *Storage) Term(i uint64) (uint64, error) {
	g, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer s.l.mu.Unlock()
	switch {
	case i < g.offset.index:
		return 0, raft.ErrCompacted
	case i == g.offset.index:
		return g.offset.term, nil
	case i > g.last():
		return 0, raft.ErrUnavailable
	}
	return g.ents[i-g.offset.index-1].term, nil
}

// LastIndex implements raft.Storage.
func (s *Storage) LastIndex() (uint64, error) {
	g, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer s.l.mu.Unlock()
	return g.last(), nil
}

// FirstIndex implements raft.Storage.
func (s *Storage) FirstIndex() (uint64, error) {
	g, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer s.l.mu.Unlock()
	return g.offset.index + 1, nil
}

// Snapshot implements raft.Storage: the latest snapshot, a copy.
func (s *Storage) Snapshot() (*pb.Snapshot, error) {
	g, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer s.l.mu.Unlock()
	if !g.hasSnap {
		return pb.EnsureSnapshot(nil), nil
	}
	return snapToPB(g.snap)
}

// errEntry says a stored entry does not read back as written.
var errEntry = errors.New("raftlog: stored entry fails its check")

// readEntries returns the entries at locs (index lo on): from the cache,
// or read from the files, entries that sit next to each other in a file in
// one read. mu held.
func (l *Log) readEntries(lo uint64, locs []entLoc) ([]*pb.Entry, error) {
	out := make([]*pb.Entry, 0, len(locs))
	var buf []byte
	for i := 0; i < len(locs); {
		if e := l.cache.get(cacheKey{locs[i].seg, locs[i].off}); e != nil {
			out = append(out, e)
			i++
			continue
		}
		j := i + 1
		end := locs[i].off + int64(locs[i].size)
		for j < len(locs) && locs[j].seg == locs[i].seg && locs[j].off == end+entryHead &&
			l.cache.get(cacheKey{locs[j].seg, locs[j].off}) == nil {
			end = locs[j].off + int64(locs[j].size)
			j++
		}
		seg := l.segs[locs[i].seg]
		if seg == nil || seg.f == nil {
			return nil, fmt.Errorf("%w: segment %d gone", errEntry, locs[i].seg)
		}
		n := int(end - locs[i].off)
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := seg.f.ReadAt(buf, locs[i].off); err != nil {
			return nil, err
		}
		for k := i; k < j; k++ {
			at := int(locs[k].off - locs[i].off)
			enc := buf[at : at+int(locs[k].size)]
			if crc(enc) != locs[k].crc {
				return nil, fmt.Errorf("%w: index %d checksum", errEntry, lo+uint64(k))
			}
			e := &pb.Entry{}
			if err := proto.Unmarshal(enc, e); err != nil {
				return nil, fmt.Errorf("%w: index %d: %w", errEntry, lo+uint64(k), err)
			}
			if e.GetIndex() != lo+uint64(k) || e.GetTerm() != locs[k].term {
				return nil, fmt.Errorf("%w: index %d holds %d/%d", errEntry, lo+uint64(k), e.GetIndex(), e.GetTerm())
			}
			out = append(out, e)
		}
		i = j
	}
	return out, nil
}
