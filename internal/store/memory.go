package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Memory is a Store that keeps messages in RAM, for streams with memory
// storage. A message is durable as soon as Append returns (there is no
// better medium to reach), so Durable calls back at once and Sync does
// nothing. Memory is bounded only by the stream's limits.
//
// Layout: messages live in a map keyed by sequence, so deletes anywhere
// cost O(1) and long runs of deleted sequences cost nothing. Each subject
// keeps the ascending list of its live sequences, which answers
// first/last/count per subject, a literal LoadNext/LoadPrev/LoadLast and
// NumPending by binary search instead of a scan. Removing from a subject's
// list shifts whichever side of the hole is shorter, so removals at either
// end (limits, acks, KV history) are O(1) and only removals from the middle
// of one large subject pay a memmove.
//
// Queries that have no literal subject to look up walk sequences for at
// most as many steps as there are subjects and then ask every subject's
// list: the cost is bounded by about twice the number of subjects, however
// far apart the matching messages are.
//
// One RWMutex guards everything; no method calls out with it held.
type Memory struct {
	mu       sync.RWMutex
	msgs     map[uint64]*entry
	subjs    map[string]*subjSeqs
	first    uint64 // lowest live sequence; last+1 when empty; 0 before anything
	last     uint64 // highest sequence handed out, kept across deletes and purges
	lastTime time.Time
	bytes    uint64
	closed   bool
}

var _ Store = (*Memory)(nil)

// entry is one stored message; header and payload share one buffer. The
// map holds pointers: with 64-byte values in its slots, Load was a third
// slower and growth copied more (BenchmarkMemoryLoad, BenchmarkMemoryAppend).
type entry struct {
	subj    string // shared with the subject's index entry
	buf     []byte // header, then payload
	hdr     int    // header length
	ts, ttl int64
}

func (e *entry) size() uint64 { return MemMsgSize(e.subj, e.buf[:e.hdr], e.buf[e.hdr:]) }

// subjSeqs is one subject's live sequences, ascending.
type subjSeqs struct {
	name string
	seqs []uint64
}

// NewMemory returns an empty memory store.
func NewMemory() *Memory {
	return &Memory{msgs: map[uint64]*entry{}, subjs: map[string]*subjSeqs{}}
}

// filter is a parsed subject filter: parsing once keeps the per-message
// test a string comparison for the common literal case.
type filter struct {
	pat      string
	all, lit bool
}

func newFilter(pat string) filter {
	all := pat == "" || pat == ">"
	return filter{pat: pat, all: all, lit: !all && !subject.HasWildcard(pat)}
}

func (f filter) match(subj string) bool {
	switch {
	case f.all:
		return true
	case f.lit:
		return subj == f.pat
	default:
		return subject.Matches(f.pat, subj)
	}
}

// eachSubject calls fn for every subject matching f; a literal filter is
// one map lookup.
func (s *Memory) eachSubject(f filter, fn func(ss *subjSeqs)) {
	if f.lit {
		if ss := s.subjs[f.pat]; ss != nil {
			fn(ss)
		}
		return
	}
	for name, ss := range s.subjs {
		if f.match(name) {
			fn(ss)
		}
	}
}

// Append implements Store. The copy (callers reuse their buffers) and the
// allocations are made before taking the lock, which other appends and
// every reader wait on.
func (s *Memory) Append(subj string, hdr, data []byte, ts, ttl int64) (uint64, error) {
	e := newEntry(hdr, data, ts, ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	seq := s.last + 1
	s.addLocked(seq, subj, e)
	return seq, nil
}

// AppendAt implements Store. A gap needs nothing recorded: sequences with
// no entry in the map are the deleted ones.
func (s *Memory) AppendAt(seq uint64, subj string, hdr, data []byte, ts, ttl int64) error {
	e := newEntry(hdr, data, ts, ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if seq <= s.last {
		return fmt.Errorf("%w: %d, last %d", ErrSeqNotAfterLast, seq, s.last)
	}
	s.addLocked(seq, subj, e)
	return nil
}

// newEntry copies a message (callers reuse their buffers) before the lock
// is taken.
func newEntry(hdr, data []byte, ts, ttl int64) *entry {
	buf := make([]byte, len(hdr)+len(data))
	copy(buf, hdr)
	copy(buf[len(hdr):], data)
	return &entry{buf: buf, hdr: len(hdr), ts: ts, ttl: ttl}
}

// addLocked stores e under seq, which is above last.
func (s *Memory) addLocked(seq uint64, subj string, e *entry) {
	s.last = seq
	if len(s.msgs) == 0 {
		s.first = seq
	}
	ss := s.subjs[subj]
	if ss == nil {
		// Cloned once per subject: the caller's string may alias a
		// reused buffer, and every message of the subject shares this one.
		ss = &subjSeqs{name: strings.Clone(subj)}
		s.subjs[ss.name] = ss
	}
	ss.seqs = append(ss.seqs, seq)
	e.subj = ss.name
	s.msgs[seq] = e
	s.bytes += e.size()
	s.lastTime = time.Unix(0, e.ts).UTC()
}

// Skip implements Store. Like nats-server, a skip leaves LastTime alone:
// it is the time of the last message stored.
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

// Durable implements Store: everything appended is already as durable as
// memory gets. fn runs on the caller's goroutine without the lock held, so
// it may call back into the store.
func (s *Memory) Durable(_ uint64, fn func(error)) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		fn(ErrClosed)
		return
	}
	fn(nil)
}

// Sync implements Store; there is nothing to flush.
func (s *Memory) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// msgLocked returns a fresh Msg for the entry at seq: the caller may change
// the struct; the byte slices are shared and must not be changed.
func (s *Memory) msgLocked(seq uint64) *Msg {
	e := s.msgs[seq]
	m := &Msg{Seq: seq, Time: e.ts, Subject: e.subj, Data: e.buf[e.hdr:], TTL: e.ttl}
	if e.hdr > 0 {
		m.Header = e.buf[:e.hdr:e.hdr]
	}
	return m
}

// Load implements Store.
func (s *Memory) Load(seq uint64) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.msgs[seq]; !ok {
		return nil, ErrNotFound
	}
	return s.msgLocked(seq), nil
}

// LoadNext implements Store.
func (s *Memory) LoadNext(pat string, start uint64) (*Msg, error) {
	return s.load(func() (uint64, bool) { return s.nextLocked(newFilter(pat), start) })
}

// LoadPrev implements Store.
func (s *Memory) LoadPrev(pat string, start uint64) (*Msg, error) {
	return s.load(func() (uint64, bool) { return s.prevLocked(newFilter(pat), start) })
}

// LoadLast implements Store.
func (s *Memory) LoadLast(pat string) (*Msg, error) {
	return s.load(func() (uint64, bool) {
		f := newFilter(pat)
		if f.lit {
			if ss := s.subjs[f.pat]; ss != nil {
				return ss.seqs[len(ss.seqs)-1], true
			}
			return 0, false
		}
		return s.prevLocked(f, s.last)
	})
}

// load runs find under the read lock and returns the message it names.
func (s *Memory) load(find func() (uint64, bool)) (*Msg, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	seq, ok := find()
	if !ok {
		return nil, ErrNotFound
	}
	return s.msgLocked(seq), nil
}

// nextLocked finds the first live sequence >= start whose subject matches.
func (s *Memory) nextLocked(f filter, start uint64) (uint64, bool) {
	start = max(start, s.first)
	if len(s.msgs) == 0 || start > s.last {
		return 0, false
	}
	if !f.lit {
		// Walk a bounded stretch first: matches are usually close.
		seq := start
		for budget := len(s.subjs); budget > 0 && seq <= s.last; budget-- {
			if e, ok := s.msgs[seq]; ok && f.match(e.subj) {
				return seq, true
			}
			seq++
		}
		if seq > s.last {
			return 0, false
		}
		start = seq
	}
	var best uint64
	s.eachSubject(f, func(ss *subjSeqs) {
		i, _ := slices.BinarySearch(ss.seqs, start)
		if i < len(ss.seqs) && (best == 0 || ss.seqs[i] < best) {
			best = ss.seqs[i]
		}
	})
	return best, best != 0
}

// prevLocked finds the last live sequence <= start whose subject matches.
func (s *Memory) prevLocked(f filter, start uint64) (uint64, bool) {
	start = min(start, s.last)
	if len(s.msgs) == 0 || start < s.first {
		return 0, false
	}
	if !f.lit {
		seq := start
		for budget := len(s.subjs); budget > 0 && seq >= s.first; budget-- {
			if e, ok := s.msgs[seq]; ok && f.match(e.subj) {
				return seq, true
			}
			seq-- // cannot wrap: seq >= first >= 1 here
		}
		if seq < s.first {
			return 0, false
		}
		start = seq
	}
	var best uint64
	s.eachSubject(f, func(ss *subjSeqs) {
		i, found := slices.BinarySearch(ss.seqs, start)
		if found {
			i++
		}
		if i > 0 && ss.seqs[i-1] > best {
			best = ss.seqs[i-1]
		}
	})
	return best, best != 0
}

// Delete implements Store. Erase changes nothing more in memory: the
// message's buffer is dropped either way, and overwriting it would change
// bytes under a reader that loaded the message before the delete.
func (s *Memory) Delete(seq uint64, _ bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	if !s.removeLocked(seq) {
		return false, nil
	}
	s.fixFirstLocked()
	return true, nil
}

// removeLocked drops one message and its index entry. The caller fixes
// first afterwards, once per batch.
func (s *Memory) removeLocked(seq uint64) bool {
	e, ok := s.msgs[seq]
	if !ok {
		return false
	}
	delete(s.msgs, seq)
	s.bytes -= e.size()
	ss := s.subjs[e.subj]
	i, _ := slices.BinarySearch(ss.seqs, seq)
	if i < len(ss.seqs)/2 {
		copy(ss.seqs[1:i+1], ss.seqs[:i])
		ss.seqs = ss.seqs[1:]
	} else {
		ss.seqs = slices.Delete(ss.seqs, i, i+1)
	}
	s.shrinkLocked(ss)
	return true
}

// shrinkLocked forgets an emptied subject and gives back the array of one
// that lost most of its messages, so a drained subject does not pin the
// memory of its peak.
func (s *Memory) shrinkLocked(ss *subjSeqs) {
	switch n := len(ss.seqs); {
	case n == 0:
		delete(s.subjs, ss.name)
	case cap(ss.seqs) > 64 && n < cap(ss.seqs)/4:
		ss.seqs = slices.Clone(ss.seqs)
	}
}

// fixFirstLocked moves first to the lowest live sequence (or last+1 when
// empty) after removals. All live sequences are >= the old first, so the
// lowest of the subjects' firsts is the answer; a short walk finds it
// sooner when the next message is near.
func (s *Memory) fixFirstLocked() {
	if len(s.msgs) == 0 {
		s.first = s.last + 1
		return
	}
	seq := s.first
	for budget := len(s.subjs); budget > 0 && seq <= s.last; budget-- {
		if _, ok := s.msgs[seq]; ok {
			s.first = seq
			return
		}
		seq++
	}
	s.first = s.last
	for _, ss := range s.subjs {
		s.first = min(s.first, ss.seqs[0])
	}
}

// Purge implements Store with nats-server's rules: all subjects and no
// Keep is a Compact (to Seq, or past the last message); Seq 1 removes
// nothing. Seq and Keep together (refused by the API) remove matching
// messages below Seq but leave at least Keep matching ones.
func (s *Memory) Purge(req PurgeRequest) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	f := newFilter(req.Subject)
	switch {
	case req.Seq == 1:
		return 0, nil
	case f.all && req.Keep == 0 && req.Seq == 0:
		return s.compactLocked(s.last + 1), nil
	case f.all && req.Keep == 0:
		return s.compactLocked(req.Seq), nil
	}
	var total uint64
	var victims []uint64
	s.eachSubject(f, func(ss *subjSeqs) {
		total += uint64(len(ss.seqs))
		seqs := ss.seqs
		if req.Seq > 0 {
			i, _ := slices.BinarySearch(seqs, req.Seq)
			seqs = seqs[:i]
		}
		victims = append(victims, seqs...)
	})
	limit := total - min(total, req.Keep)
	if limit == 0 || len(victims) == 0 {
		return 0, nil
	}
	if !f.lit {
		slices.Sort(victims) // oldest first across subjects
	}
	victims = victims[:min(uint64(len(victims)), limit)]
	for _, seq := range victims {
		s.removeLocked(seq)
	}
	s.fixFirstLocked()
	return uint64(len(victims)), nil
}

// Compact implements Store. Compact(0) removes nothing: no sequence is
// below 0.
func (s *Memory) Compact(seq uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.compactLocked(seq), nil
}

func (s *Memory) compactLocked(seq uint64) uint64 {
	switch {
	case seq == 0:
		return 0
	case seq > s.last:
		// Past the end: everything goes, and the next Append gets seq.
		n := uint64(len(s.msgs))
		s.msgs, s.subjs, s.bytes = map[uint64]*entry{}, map[string]*subjSeqs{}, 0
		s.first, s.last = seq, seq-1
		return n
	case seq <= s.first:
		return 0
	}
	var n uint64
	if seq-s.first <= uint64(len(s.subjs)) {
		for q := s.first; q < seq; q++ {
			if s.removeLocked(q) {
				n++
			}
		}
	} else {
		// Cut each subject's prefix at once: cheaper than visiting every
		// sequence of a long range.
		for _, ss := range s.subjs {
			i, _ := slices.BinarySearch(ss.seqs, seq)
			for _, q := range ss.seqs[:i] {
				e := s.msgs[q]
				delete(s.msgs, q)
				s.bytes -= e.size()
			}
			n += uint64(i)
			ss.seqs = ss.seqs[i:]
			s.shrinkLocked(ss)
		}
	}
	s.first = seq
	s.fixFirstLocked()
	return n
}

// State implements Store. LastSeq and LastTime are high-water marks, as in
// nats-server: deleting or purging the last message keeps them.
func (s *Memory) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := State{
		Msgs:        uint64(len(s.msgs)),
		Bytes:       s.bytes,
		FirstSeq:    s.first,
		LastSeq:     s.last,
		LastTime:    s.lastTime,
		NumSubjects: len(s.subjs),
	}
	if e, ok := s.msgs[s.first]; ok {
		st.FirstTime = time.Unix(0, e.ts).UTC()
		st.NumDeleted = int(s.last - s.first + 1 - st.Msgs)
	}
	return st
}

// SubjectsState implements Store. It returns nil when nothing matches.
func (s *Memory) SubjectsState(pat string) map[string]SubjectState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out map[string]SubjectState
	s.eachSubject(newFilter(pat), func(ss *subjSeqs) {
		if out == nil {
			out = map[string]SubjectState{}
		}
		out[ss.name] = SubjectState{Msgs: uint64(len(ss.seqs)), First: ss.seqs[0], Last: ss.seqs[len(ss.seqs)-1]}
	})
	return out
}

// NumPending implements Store. With lastPerSubject it counts the subjects
// whose last message is at or after start.
func (s *Memory) NumPending(start uint64, pat string, lastPerSubject bool) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	start = max(start, s.first)
	if len(s.msgs) == 0 || start > s.last {
		return 0
	}
	f := newFilter(pat)
	if f.all && start == s.first {
		if lastPerSubject {
			return uint64(len(s.subjs))
		}
		return uint64(len(s.msgs))
	}
	if f.all && !lastPerSubject && s.last-start < uint64(len(s.subjs)) {
		// A short tail: counting it beats asking every subject.
		var n uint64
		for q := start; q <= s.last; q++ {
			if _, ok := s.msgs[q]; ok {
				n++
			}
		}
		return n
	}
	var n uint64
	s.eachSubject(f, func(ss *subjSeqs) {
		switch {
		case ss.seqs[len(ss.seqs)-1] < start:
		case lastPerSubject:
			n++
		default:
			i, _ := slices.BinarySearch(ss.seqs, start)
			n += uint64(len(ss.seqs) - i)
		}
	})
	return n
}

// Deleted implements Store. It walks the sequence range or, when that is
// much longer than the number of messages (a few old messages holding the
// range open), the sorted live sequences.
func (s *Memory) Deleted(limit int) []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.msgs) == 0 {
		return nil
	}
	var out []uint64
	full := func() bool { return limit > 0 && len(out) >= limit }
	if s.last-s.first < 4*uint64(len(s.msgs)) {
		for q := s.first; q <= s.last && !full(); q++ {
			if _, ok := s.msgs[q]; !ok {
				out = append(out, q)
			}
		}
		return out
	}
	live := make([]uint64, 0, len(s.msgs))
	for q := range s.msgs {
		live = append(live, q)
	}
	slices.Sort(live)
	live = append(live, s.last+1) // sentinel: the gap after the last live one
	prev := s.first - 1
	for _, q := range live {
		for gap := prev + 1; gap < q && !full(); gap++ {
			out = append(out, gap)
		}
		if full() {
			break
		}
		prev = q
	}
	return out
}

// Close implements Store. The messages are dropped: a memory store cannot
// be reopened, and holding them would only pin memory.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.closeLocked()
	return nil
}

// Destroy implements Store; destroying a closed store is not an error.
func (s *Memory) Destroy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
	return nil
}

func (s *Memory) closeLocked() {
	s.closed = true
	s.msgs, s.subjs, s.bytes = map[uint64]*entry{}, map[string]*subjSeqs{}, 0
	s.first = s.last + 1
}
