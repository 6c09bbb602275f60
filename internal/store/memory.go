package store

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Memory is a Store that keeps messages in RAM. A message is "durable" as
// soon as it is appended: Durable calls back at once. Its memory is bounded
// only by the stream's limits.
type Memory struct {
	mu     sync.RWMutex
	msgs   map[uint64]*Msg
	subjs  map[string][]uint64 // ascending live sequences per subject
	first  uint64              // first live sequence; last+1 when empty (0 before any)
	last   uint64
	lastTS int64
	bytes  uint64
	closed bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{msgs: map[uint64]*Msg{}, subjs: map[string][]uint64{}}
}

func matchAll(filter string) bool { return filter == "" || filter == ">" }

func (s *Memory) size(m *Msg) uint64 { return MemMsgSize(m.Subject, m.Header, m.Data) }

// Append implements Store.
func (s *Memory) Append(subj string, hdr, data []byte, ts, ttl int64) (uint64, error) {
	buf := make([]byte, len(hdr)+len(data))
	copy(buf, hdr)
	copy(buf[len(hdr):], data)
	m := &Msg{Time: ts, Subject: subj, TTL: ttl, Data: buf[len(hdr):]}
	if len(hdr) > 0 {
		m.Header = buf[:len(hdr):len(hdr)]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	s.last++
	m.Seq = s.last
	if len(s.msgs) == 0 {
		s.first = m.Seq
	}
	s.msgs[m.Seq] = m
	s.subjs[subj] = append(s.subjs[subj], m.Seq)
	s.bytes += s.size(m)
	s.lastTS = ts
	return m.Seq, nil
}

// Skip implements Store.
func (s *Memory) Skip() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	s.last++
	if len(s.msgs) == 0 {
		s.first = s.last + 1
	}
	return s.last, nil
}

// Durable implements Store: memory holds what it was given.
func (s *Memory) Durable(_ uint64, fn func(error)) { fn(nil) }

// Sync implements Store.
func (s *Memory) Sync() error { return nil }

// Load implements Store.
func (s *Memory) Load(seq uint64) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if m, ok := s.msgs[seq]; ok {
		return m, nil
	}
	return nil, ErrNotFound
}

// LoadNext implements Store.
func (s *Memory) LoadNext(filter string, start uint64) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	start = max(start, s.first)
	if start > s.last || len(s.msgs) == 0 {
		return nil, ErrNotFound
	}
	if !matchAll(filter) && (!subject.HasWildcard(filter) || len(s.subjs) < int(s.last-start+1)) {
		// Fewer subjects than sequences to walk: ask each subject.
		best := uint64(0)
		s.eachSubject(filter, func(seqs []uint64) {
			i, _ := slices.BinarySearch(seqs, start)
			if i < len(seqs) && (best == 0 || seqs[i] < best) {
				best = seqs[i]
			}
		})
		if best == 0 {
			return nil, ErrNotFound
		}
		return s.msgs[best], nil
	}
	for seq := start; seq <= s.last; seq++ {
		if m, ok := s.msgs[seq]; ok && (matchAll(filter) || subject.Matches(filter, m.Subject)) {
			return m, nil
		}
	}
	return nil, ErrNotFound
}

// eachSubject calls fn with the sequences of every subject matching filter.
func (s *Memory) eachSubject(filter string, fn func(seqs []uint64)) {
	if !matchAll(filter) && !subject.HasWildcard(filter) {
		if seqs := s.subjs[filter]; len(seqs) > 0 {
			fn(seqs)
		}
		return
	}
	for subj, seqs := range s.subjs {
		if len(seqs) > 0 && (matchAll(filter) || subject.Matches(filter, subj)) {
			fn(seqs)
		}
	}
}

// LoadLast implements Store.
func (s *Memory) LoadLast(filter string) (*Msg, error) {
	s.mu.RLock()
	last := s.last
	s.mu.RUnlock()
	return s.LoadPrev(filter, last)
}

// LoadPrev implements Store.
func (s *Memory) LoadPrev(filter string, start uint64) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	start = min(start, s.last)
	if len(s.msgs) == 0 || start < s.first {
		return nil, ErrNotFound
	}
	if !matchAll(filter) {
		best := uint64(0)
		s.eachSubject(filter, func(seqs []uint64) {
			i, found := slices.BinarySearch(seqs, start)
			if !found {
				i--
			}
			if i >= 0 && seqs[i] > best {
				best = seqs[i]
			}
		})
		if best == 0 {
			return nil, ErrNotFound
		}
		return s.msgs[best], nil
	}
	for seq := start; seq >= s.first && seq > 0; seq-- {
		if m, ok := s.msgs[seq]; ok {
			return m, nil
		}
	}
	return nil, ErrNotFound
}

// Delete implements Store. Erasing means nothing more in memory: the
// message is dropped either way.
func (s *Memory) Delete(seq uint64, _ bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	return s.removeLocked(seq), nil
}

func (s *Memory) removeLocked(seq uint64) bool {
	m, ok := s.msgs[seq]
	if !ok {
		return false
	}
	delete(s.msgs, seq)
	s.bytes -= s.size(m)
	seqs := s.subjs[m.Subject]
	if i, found := slices.BinarySearch(seqs, seq); found {
		if i == 0 {
			seqs = seqs[1:]
		} else {
			seqs = slices.Delete(seqs, i, i+1)
		}
	}
	if len(seqs) == 0 {
		delete(s.subjs, m.Subject)
	} else {
		s.subjs[m.Subject] = seqs
	}
	if len(s.msgs) == 0 {
		s.first = s.last + 1
	} else if seq == s.first {
		for s.first++; s.first <= s.last; s.first++ {
			if _, ok := s.msgs[s.first]; ok {
				break
			}
		}
	}
	return true
}

// Purge implements Store, with nats-server's rules: no filter and no
// sequence removes everything (or all but Keep); a sequence alone compacts.
func (s *Memory) Purge(req PurgeRequest) (uint64, error) {
	if req.Seq == 1 {
		return 0, nil
	}
	if matchAll(req.Subject) && req.Keep == 0 {
		if req.Seq > 1 {
			return s.Compact(req.Seq)
		}
		s.mu.RLock()
		next := s.last + 1
		s.mu.RUnlock()
		return s.Compact(next)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	var victims []uint64
	s.eachSubject(req.Subject, func(seqs []uint64) { victims = append(victims, seqs...) })
	slices.Sort(victims)
	if req.Seq > 1 {
		i, _ := slices.BinarySearch(victims, req.Seq)
		victims = victims[:i]
	}
	if req.Keep > 0 {
		if uint64(len(victims)) <= req.Keep {
			return 0, nil
		}
		victims = victims[:uint64(len(victims))-req.Keep]
	}
	var n uint64
	for _, seq := range victims {
		if s.removeLocked(seq) {
			n++
		}
	}
	return n, nil
}

// Compact implements Store.
func (s *Memory) Compact(seq uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if seq > s.last {
		n := uint64(len(s.msgs))
		s.msgs = map[uint64]*Msg{}
		s.subjs = map[string][]uint64{}
		s.bytes = 0
		s.first, s.last = seq, seq-1
		return n, nil
	}
	var n uint64
	if len(s.msgs) > 0 {
		// Walk whichever is smaller: the sequences below seq or the map.
		if uint64(len(s.msgs)) < seq-s.first {
			for q := range s.msgs {
				if q < seq && s.removeLocked(q) {
					n++
				}
			}
		} else {
			for q := s.first; q < seq; q++ {
				if s.removeLocked(q) {
					n++
				}
			}
		}
	}
	if len(s.msgs) == 0 {
		s.first = s.last + 1
	} else if s.first < seq {
		s.first = seq
		for ; s.first <= s.last; s.first++ {
			if _, ok := s.msgs[s.first]; ok {
				break
			}
		}
	}
	return n, nil
}

// State implements Store.
func (s *Memory) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := State{
		Msgs:        uint64(len(s.msgs)),
		Bytes:       s.bytes,
		FirstSeq:    s.first,
		LastSeq:     s.last,
		NumSubjects: len(s.subjs),
	}
	if m, ok := s.msgs[s.first]; ok {
		st.FirstTime = time.Unix(0, m.Time).UTC()
	}
	if s.last > 0 && s.lastTS != 0 {
		st.LastTime = time.Unix(0, s.lastTS).UTC()
	}
	if st.Msgs > 0 {
		st.NumDeleted = int(s.last-s.first+1) - len(s.msgs)
	}
	return st
}

// SubjectsState implements Store.
func (s *Memory) SubjectsState(filter string) map[string]SubjectState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]SubjectState{}
	for subj, seqs := range s.subjs {
		if len(seqs) > 0 && (matchAll(filter) || subject.Matches(filter, subj)) {
			out[subj] = SubjectState{Msgs: uint64(len(seqs)), First: seqs[0], Last: seqs[len(seqs)-1]}
		}
	}
	return out
}

// NumPending implements Store.
func (s *Memory) NumPending(start uint64, filter string, lastPerSubject bool) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if matchAll(filter) && !lastPerSubject && start <= s.first {
		return uint64(len(s.msgs))
	}
	var n uint64
	s.eachSubject(filter, func(seqs []uint64) {
		i, _ := slices.BinarySearch(seqs, start)
		switch {
		case i == len(seqs):
		case lastPerSubject:
			n++
		default:
			n += uint64(len(seqs) - i)
		}
	})
	return n
}

// Deleted implements Store.
func (s *Memory) Deleted(limit int) []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []uint64
	if len(s.msgs) == 0 {
		return nil
	}
	for seq := s.first; seq <= s.last; seq++ {
		if _, ok := s.msgs[seq]; !ok {
			out = append(out, seq)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Close implements Store.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Destroy implements Store.
func (s *Memory) Destroy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.msgs, s.subjs, s.bytes = map[uint64]*Msg{}, map[string][]uint64{}, 0
	return nil
}
