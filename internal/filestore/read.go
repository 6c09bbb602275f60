package filestore

import (
	"errors"
	"io"
	"slices"

	"github.com/klauspost/compress/s2"

	"github.com/starling-mq/starling/internal/store"
)

// Reads find a message in the index under the lock, take a reference to
// its segment file and read it with the lock released, through the block
// cache. Messages still in the write buffer are decoded under the lock.

// loc is a located message, ready to be read.
type loc struct {
	ok   bool
	seq  uint64
	g    *segment
	f    *rfile // held; released by readLoc
	off  int64
	name string
	msg  *store.Msg // set when the record was still in the write buffer
	err  error
}

var allMatcher = &matcher{all: true}

// locateLocked finds the live message seq.
func (s *Store) locateLocked(seq uint64) loc {
	i := s.segFor(seq)
	if seq == 0 || i == len(s.segs) {
		return loc{}
	}
	g := s.segs[i]
	if !s.liveLocked(g, seq) || !s.indexLocked(g) {
		return loc{}
	}
	e := g.find(seq)
	if e == nil || !e.live() {
		return loc{}
	}
	return s.locLocked(g, seq, e)
}

func (s *Store) locLocked(g *segment, seq uint64, e *entry) loc {
	l := loc{ok: true, seq: seq, g: g, off: int64(e.off), name: s.subj.info[e.sid].name}
	if g == s.active && l.off >= s.flushed {
		b := s.buf[l.off-s.flushed:]
		n, err := recordLen(b)
		if err == nil {
			l.msg, err = buildMsg(b[:n], seq, l.name)
		}
		l.err = err // our own buffer: cannot be corrupt, but never serve it if it were
		return l
	}
	l.f = g.f.acquire()
	return l
}

// readLoc reads a located message from disk and verifies it.
func (s *Store) readLoc(l *loc) (*store.Msg, error) {
	if l.f == nil {
		return l.msg, l.err
	}
	defer l.f.release()
	b, err := s.readRecord(l.f, l.off)
	if errors.Is(err, errDetached) {
		return nil, errMoved // replaced or removed since it was located
	}
	if err == nil {
		var m *store.Msg
		if m, err = buildMsg(b, l.seq, l.name); err == nil {
			return m, nil
		}
	}
	if !isCorruption(err) {
		return nil, err
	}
	return nil, s.markCorrupt(l, err)
}

func isCorruption(err error) bool {
	return errors.Is(err, errShort) || errors.Is(err, errLength) || errors.Is(err, errMagic) ||
		errors.Is(err, errChecksum) || errors.Is(err, errFormat) || errors.Is(err, io.ErrUnexpectedEOF)
}

// readRecord returns the bytes of the record at off. They may be cached
// memory and must not be modified.
func (s *Store) readRecord(f *rfile, off int64) ([]byte, error) {
	head, err := s.cache.readAt(&s.cstats, f, off, lenSize)
	if err != nil {
		return nil, err
	}
	n, err := recordLen(head)
	if err != nil {
		return nil, err
	}
	return s.cache.readAt(&s.cstats, f, off, n)
}

// buildMsg decodes a message record into a Msg whose header and payload
// share one new allocation.
func buildMsg(b []byte, seq uint64, name string) (*store.Msg, error) {
	r, _, err := decodeRecord(b)
	if err != nil {
		return nil, err
	}
	if r.typ != recMsg || r.seq != seq || r.flags&flagErased != 0 || string(r.subj) != name {
		return nil, errFormat
	}
	dl := len(r.data)
	if r.flags&flagS2 != 0 {
		if dl, err = s2.DecodedLen(r.data); err != nil || dl > maxRecord {
			return nil, errFormat
		}
	}
	hl := len(r.hdr)
	buf := make([]byte, hl+dl)
	copy(buf, r.hdr)
	if r.flags&flagS2 != 0 {
		if _, err := s2.Decode(buf[hl:], r.data); err != nil {
			return nil, errFormat
		}
	} else {
		copy(buf[hl:], r.data)
	}
	m := &store.Msg{Seq: seq, Time: r.ts, Subject: name, Data: buf[hl:], TTL: r.ttl}
	if hl > 0 {
		m.Header = buf[:hl:hl]
	}
	return m, nil
}

// errMoved means the record moved (its segment was rewritten) while it was
// being read: read it again.
var errMoved = errors.New("filestore: record moved")

// markCorrupt handles a record that failed verification on read. If it is
// still the live record the index points at, it is lost: taken out of the
// index and reported. If it was deleted or moved meanwhile, the failure was
// a race with erase or compaction, not corruption.
func (s *Store) markCorrupt(l *loc, cause error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.g.removed || l.g.f != l.f {
		return errMoved
	}
	if !s.liveLocked(l.g, l.seq) || !s.indexLocked(l.g) {
		return store.ErrNotFound
	}
	e := l.g.find(l.seq)
	if e == nil || !e.live() {
		return store.ErrNotFound
	}
	if int64(e.off) != l.off {
		return errMoved
	}
	s.log.Error("filestore: corrupt message, not served", "seq", l.seq, "segment", l.g.id, "offset", l.off, "err", cause)
	s.lostBytes += uint64(e.size)
	s.removeLocked(l.g, l.seq, e)
	s.addLostLocked(l.seq)
	return store.ErrCorrupt
}

func (s *Store) addLostLocked(seq uint64) {
	i, found := slices.BinarySearch(s.lost, seq)
	if !found {
		s.lost = slices.Insert(s.lost, i, seq)
		s.lostView = nil
	}
}

func (s *Store) isLostLocked(seq uint64) bool {
	_, found := slices.BinarySearch(s.lost, seq)
	return found
}

// Load implements store.Store. A message found corrupt returns
// store.ErrCorrupt, now and after a restart, and is counted in Lost.
func (s *Store) Load(seq uint64) (*store.Msg, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, store.ErrClosed
		}
		l := s.locateLocked(seq)
		lost := !l.ok && s.isLostLocked(seq)
		s.mu.Unlock()
		switch {
		case lost:
			return nil, store.ErrCorrupt
		case !l.ok:
			return nil, store.ErrNotFound
		}
		m, err := s.readLoc(&l)
		if err != errMoved {
			return m, err
		}
	}
}

// loadMatch loads the message find picks, skipping messages that turn out
// corrupt or vanish while being read.
func (s *Store) loadMatch(filter string, find func(m *matcher, from uint64) (uint64, *segment, *entry), from uint64, next func(seq uint64) (uint64, bool)) (*store.Msg, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, store.ErrClosed
		}
		seq, g, e := find(s.subj.matcher(filter), from)
		var l loc
		if g != nil {
			l = s.locLocked(g, seq, e)
		}
		s.mu.Unlock()
		if g == nil {
			return nil, store.ErrNotFound
		}
		m, err := s.readLoc(&l)
		switch {
		case err == errMoved:
			continue
		case errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrNotFound):
			var ok bool
			if from, ok = next(seq); !ok {
				return nil, store.ErrNotFound
			}
			continue
		}
		return m, err
	}
}

// LoadNext implements store.Store.
func (s *Store) LoadNext(filter string, start uint64) (*store.Msg, error) {
	return s.loadMatch(filter, s.nextLocked, max(start, 1), func(seq uint64) (uint64, bool) { return seq + 1, true })
}

// LoadLast implements store.Store.
func (s *Store) LoadLast(filter string) (*store.Msg, error) {
	return s.LoadPrev(filter, ^uint64(0))
}

// LoadPrev implements store.Store.
func (s *Store) LoadPrev(filter string, start uint64) (*store.Msg, error) {
	return s.loadMatch(filter, s.prevLocked, start, func(seq uint64) (uint64, bool) { return seq - 1, seq > 1 })
}

// nextLocked returns the first live message at or after start that m
// matches. A literal subject starts at its first message; segments whose
// subject summary rules the filter out are skipped without a look.
func (s *Store) nextLocked(m *matcher, start uint64) (uint64, *segment, *entry) {
	if m.none {
		return 0, nil, nil
	}
	if m.literal && !m.raw {
		if start > s.subjLastLocked(m.sid) {
			return 0, nil, nil
		}
		start = max(start, s.subjFirstLocked(m.sid))
	}
	for i := s.segFor(start); i < len(s.segs); i++ {
		g := s.segs[i]
		if g.empty() || !g.mayHold(m) || !s.indexLocked(g) {
			continue
		}
		for j := g.search(start); j < g.n(); j++ {
			if e := g.at(j); e.live() && m.match(e.sid) {
				return g.seqAt(j), g, e
			}
		}
	}
	return 0, nil, nil
}

// prevLocked returns the last live message at or before start that m
// matches.
func (s *Store) prevLocked(m *matcher, start uint64) (uint64, *segment, *entry) {
	if m.none || start == 0 || len(s.segs) == 0 {
		return 0, nil, nil
	}
	if m.literal && !m.raw {
		if start < s.subjFirstLocked(m.sid) {
			return 0, nil, nil
		}
		start = min(start, s.subjLastLocked(m.sid))
	}
	start = min(start, s.last)
	for i := min(s.segFor(start), len(s.segs)-1); i >= 0; i-- {
		g := s.segs[i]
		if g.empty() || !g.mayHold(m) || !s.indexLocked(g) {
			continue
		}
		for j := g.search(start+1) - 1; j >= 0; j-- {
			if e := g.at(j); e.live() && m.match(e.sid) {
				return g.seqAt(j), g, e
			}
		}
	}
	return 0, nil, nil
}

// subjFirstLocked and subjLastLocked return a subject's first and last
// sequence, recomputing them if the message they named was deleted.
func (s *Store) subjFirstLocked(sid uint32) uint64 {
	in := &s.subj.info[sid]
	if in.firstStale {
		in.first, _, _ = s.nextLocked(sidMatcher(sid), in.first)
		in.firstStale = false
	}
	return in.first
}

func (s *Store) subjLastLocked(sid uint32) uint64 {
	in := &s.subj.info[sid]
	if in.lastStale {
		in.last, _, _ = s.prevLocked(sidMatcher(sid), in.last)
		in.lastStale = false
	}
	return in.last
}

// NumPending implements store.Store.
func (s *Store) NumPending(start uint64, filter string, lastPerSubject bool) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.subj.matcher(filter)
	if m.none || s.msgs == 0 {
		return 0
	}
	start = max(start, 1)
	if lastPerSubject {
		var n uint64
		s.eachSubjectLocked(m, func(sid uint32, in *subjInfo) {
			if s.subjLastLocked(sid) >= start {
				n++
			}
		})
		return n
	}
	if m.literal {
		switch {
		case start <= s.subjFirstLocked(m.sid):
			return s.subj.info[m.sid].msgs
		case start > s.subjLastLocked(m.sid):
			return 0
		}
	} else if start <= s.firstLocked() {
		if m.all {
			return s.msgs
		}
		var n uint64
		s.eachSubjectLocked(m, func(_ uint32, in *subjInfo) { n += in.msgs })
		return n
	}
	var n uint64
	for i := s.segFor(start); i < len(s.segs); i++ {
		g := s.segs[i]
		if g.empty() || !g.mayHold(m) {
			continue
		}
		if m.all && g.firstSeq() >= start {
			n += uint64(g.msgs) // whole segment: its count is kept
			continue
		}
		if m.all && g.sealed {
			n += g.countLive(start)
			continue
		}
		if !s.indexLocked(g) {
			continue
		}
		for j := g.search(start); j < g.n(); j++ {
			if e := g.at(j); e.live() && m.match(e.sid) {
				n++
			}
		}
	}
	return n
}

// eachSubjectLocked calls fn for every subject with messages matching m.
func (s *Store) eachSubjectLocked(m *matcher, fn func(sid uint32, in *subjInfo)) {
	if m.literal {
		if !m.none {
			fn(m.sid, &s.subj.info[m.sid])
		}
		return
	}
	for i := range s.subj.info {
		in := &s.subj.info[i]
		if in.msgs > 0 && m.matchName(in.name) {
			fn(uint32(i), in)
		}
	}
}

// SubjectsState implements store.Store.
func (s *Store) SubjectsState(filter string) map[string]store.SubjectState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]store.SubjectState{}
	s.eachSubjectLocked(s.subj.matcher(filter), func(sid uint32, in *subjInfo) {
		out[in.name] = store.SubjectState{Msgs: in.msgs, First: s.subjFirstLocked(sid), Last: s.subjLastLocked(sid)}
	})
	return out
}

// Deleted implements store.Store.
func (s *Store) Deleted(limit int) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msgs == 0 {
		return nil
	}
	var out []uint64
	full := func() bool { return limit > 0 && len(out) >= limit }
	cur := s.firstLocked()
	for i := s.segFor(cur); i < len(s.segs) && !full(); i++ {
		g := s.segs[i]
		if g.sealed {
			for ; cur <= g.hi && !full(); cur++ {
				if !g.isLive(cur) {
					out = append(out, cur)
				}
			}
			continue
		}
		for j := g.search(cur); j < g.n() && !full(); j++ {
			if !g.at(j).live() {
				continue
			}
			for seq := g.seqAt(j); cur < seq && !full(); cur++ {
				out = append(out, cur)
			}
			cur = g.seqAt(j) + 1
		}
	}
	for ; cur <= s.last && !full(); cur++ {
		out = append(out, cur)
	}
	return out
}
