package subject

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrInvalidSubject is returned when inserting a subject that is not Valid.
var ErrInvalidSubject = errors.New("subject: invalid subject")

// DefaultCacheSize bounds the number of match results a Sublist keeps.
const DefaultCacheSize = 1024

// Result is the set of subscriptions matching one literal subject. Plain
// holds every non-queue subscription; Queues holds one slice per queue group
// (groups of the same name under different patterns are merged), from which
// the caller delivers to one member. A Result is immutable once returned:
// callers may keep and share it without locks.
type Result[T comparable] struct {
	Plain  []T
	Queues [][]T
	names  []string // queue group name of each Queues entry, for merging
}

// Empty reports whether nothing matched.
func (r *Result[T]) Empty() bool { return len(r.Plain) == 0 && len(r.Queues) == 0 }

// Fanout is the number of deliveries one message makes: one per plain
// subscription and one per queue group.
func (r *Result[T]) Fanout() int { return len(r.Plain) + len(r.Queues) }

type level[T comparable] struct {
	nodes map[string]*node[T]
	pwc   *node[T]
	fwc   *node[T]
}

type node[T comparable] struct {
	next   *level[T]
	plain  map[T]struct{}
	queues map[string]map[T]struct{}
}

func (n *node[T]) empty() bool {
	return len(n.plain) == 0 && len(n.queues) == 0 && (n.next == nil || n.next.empty())
}

func (l *level[T]) empty() bool {
	return len(l.nodes) == 0 && l.pwc == nil && l.fwc == nil
}

// Sublist is a trie of subscriptions keyed by subject tokens, with a bounded
// cache of match results. It is safe for concurrent use. Matching a cached
// subject takes only a read lock; Insert and Remove drop the cached results
// they affect, so a cached result is never stale.
type Sublist[T comparable] struct {
	mu        sync.RWMutex
	root      *level[T]
	cache     map[string]*Result[T]
	cacheSize int
	seen      *admission // made once the cache first fills
	count     int

	genID   atomic.Uint64 // bumped by every Insert and Remove
	inserts atomic.Uint64
	removes atomic.Uint64
	matches atomic.Uint64
	hits    atomic.Uint64
}

// NewSublist returns an empty Sublist with a match cache of DefaultCacheSize.
func NewSublist[T comparable]() *Sublist[T] {
	return NewSublistCache[T](DefaultCacheSize)
}

// NewSublistCache returns an empty Sublist whose match cache keeps at most
// size results; size 0 disables the cache.
func NewSublistCache[T comparable](size int) *Sublist[T] {
	return &Sublist[T]{
		root:      &level[T]{nodes: map[string]*node[T]{}},
		cache:     map[string]*Result[T]{},
		cacheSize: size,
	}
}

// GenID changes whenever the set of subscriptions changes. Callers keeping
// their own copies of match results use it to know when to drop them.
func (s *Sublist[T]) GenID() uint64 { return s.genID.Load() }

// Count returns the number of subscriptions held.
func (s *Sublist[T]) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.count
}

// Insert adds v under subject subj, in queue group queue if queue is not
// empty. Inserting the same v twice under one subject and queue is a no-op.
func (s *Sublist[T]) Insert(subj, queue string, v T) error {
	if !Valid(subj) {
		return ErrInvalidSubject
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.root
	var n *node[T]
	for rest := subj; ; {
		tok, more := nextToken(&rest)
		n = l.child(tok, true)
		if !more {
			break
		}
		if n.next == nil {
			n.next = &level[T]{nodes: map[string]*node[T]{}}
		}
		l = n.next
	}
	if queue == "" {
		if n.plain == nil {
			n.plain = map[T]struct{}{}
		}
		if _, dup := n.plain[v]; dup {
			return nil
		}
		n.plain[v] = struct{}{}
	} else {
		if n.queues == nil {
			n.queues = map[string]map[T]struct{}{}
		}
		g := n.queues[queue]
		if g == nil {
			g = map[T]struct{}{}
			n.queues[queue] = g
		}
		if _, dup := g[v]; dup {
			return nil
		}
		g[v] = struct{}{}
	}
	s.count++
	s.inserts.Add(1)
	s.invalidate(subj)
	return nil
}

// Remove deletes v from subject subj and queue group queue. It reports
// whether v was present.
func (s *Sublist[T]) Remove(subj, queue string, v T) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.remove(s.root, subj, queue, v) {
		return false
	}
	s.count--
	s.removes.Add(1)
	s.invalidate(subj)
	return true
}

// remove walks down to subj's node, deletes v and prunes emptied nodes on
// the way back up.
func (s *Sublist[T]) remove(l *level[T], rest, queue string, v T) bool {
	tok, more := nextToken(&rest)
	n := l.child(tok, false)
	if n == nil {
		return false
	}
	var ok bool
	switch {
	case more:
		if n.next == nil {
			return false
		}
		ok = s.remove(n.next, rest, queue, v)
		if ok && n.next.empty() {
			n.next = nil
		}
	case queue == "":
		if _, ok = n.plain[v]; ok {
			delete(n.plain, v)
		}
	default:
		g := n.queues[queue]
		if _, ok = g[v]; ok {
			delete(g, v)
			if len(g) == 0 {
				delete(n.queues, queue)
			}
		}
	}
	if ok && n.empty() {
		l.drop(tok)
	}
	return ok
}

// invalidate drops cached results that subscription subject subj could
// change. A literal subject affects only its own entry; a wildcard one needs a
// scan of the (bounded) cache. Lock held.
func (s *Sublist[T]) invalidate(subj string) {
	s.genID.Add(1)
	if len(s.cache) == 0 {
		return
	}
	if !HasWildcard(subj) {
		delete(s.cache, subj)
		return
	}
	for k := range s.cache {
		if Matches(subj, k) {
			delete(s.cache, k)
		}
	}
}

func (l *level[T]) child(tok string, create bool) *node[T] {
	var p **node[T]
	switch tok {
	case "*":
		p = &l.pwc
	case ">":
		p = &l.fwc
	default:
		n := l.nodes[tok]
		if n == nil && create {
			n = &node[T]{}
			l.nodes[tok] = n
		}
		return n
	}
	if *p == nil && create {
		*p = &node[T]{}
	}
	return *p
}

func (l *level[T]) drop(tok string) {
	switch tok {
	case "*":
		l.pwc = nil
	case ">":
		l.fwc = nil
	default:
		delete(l.nodes, tok)
	}
}

// nextToken splits the first token off *rest and reports whether more
// tokens follow.
func nextToken(rest *string) (string, bool) {
	s := *rest
	i := strings.IndexByte(s, sep)
	if i < 0 {
		*rest = ""
		return s, false
	}
	*rest = s[i+1:]
	return s[:i], true
}

// Match returns the subscriptions matching the literal subject subj. Subjects
// with empty tokens or whitespace match nothing.
func (s *Sublist[T]) Match(subj string) *Result[T] {
	s.matches.Add(1)
	s.mu.RLock()
	r, ok := s.cache[subj]
	s.mu.RUnlock()
	if ok {
		s.hits.Add(1)
		return r
	}
	r = &Result[T]{}
	if !validPublish(subj) {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Another goroutine may have filled the entry while we waited.
	if c, ok := s.cache[subj]; ok {
		return c
	}
	matchLevel(s.root, subj, r)
	r.names = nil
	if s.cacheSize > 0 && s.admitLocked(subj) {
		if len(s.cache) >= s.cacheSize {
			s.shrinkCache()
		}
		s.cache[strings.Clone(subj)] = r
	}
	return r
}

// shrinkCache evicts about a quarter of the cache in map order, which Go
// randomizes, so eviction is cheap and unbiased. Lock held.
func (s *Sublist[T]) shrinkCache() {
	drop := len(s.cache)/4 + 1
	for k := range s.cache {
		if drop == 0 {
			return
		}
		delete(s.cache, k)
		drop--
	}
}

// validPublish rejects subjects that cannot match anything: empty tokens or
// whitespace. Wildcard tokens are allowed and match as nats-server does.
func validPublish(s string) bool {
	if s == "" || s[0] == sep || s[len(s)-1] == sep {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) || (c == sep && s[i+1] == sep) {
			return false
		}
	}
	return true
}

func matchLevel[T comparable](l *level[T], subj string, r *Result[T]) {
	for l != nil {
		tok, more := nextToken(&subj)
		if l.fwc != nil {
			r.add(l.fwc)
		}
		if l.pwc != nil {
			if more {
				matchLevel(l.pwc.next, subj, r)
			} else {
				r.add(l.pwc)
			}
		}
		n := l.nodes[tok]
		if n == nil {
			return
		}
		if !more {
			r.add(n)
			return
		}
		l = n.next
	}
}

func (r *Result[T]) add(n *node[T]) {
	for v := range n.plain {
		r.Plain = append(r.Plain, v)
	}
	for name, g := range n.queues {
		i := 0
		for i < len(r.names) && r.names[i] != name {
			i++
		}
		if i == len(r.names) {
			r.names = append(r.names, name)
			r.Queues = append(r.Queues, make([]T, 0, len(g)))
		}
		for v := range g {
			r.Queues[i] = append(r.Queues[i], v)
		}
	}
}

// Stats is a snapshot of a Sublist's counters, as /subsz reports them.
type Stats struct {
	Subscriptions int
	Cached        int
	Inserts       uint64
	Removes       uint64
	Matches       uint64
	CacheHitRate  float64
	MaxFanout     int
	AvgFanout     float64
}

// Stats returns the current counters.
func (s *Sublist[T]) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := Stats{
		Subscriptions: s.count,
		Cached:        len(s.cache),
		Inserts:       s.inserts.Load(),
		Removes:       s.removes.Load(),
		Matches:       s.matches.Load(),
	}
	if st.Matches > 0 {
		st.CacheHitRate = float64(s.hits.Load()) / float64(st.Matches)
	}
	total := 0
	for _, r := range s.cache {
		f := r.Fanout()
		total += f
		st.MaxFanout = max(st.MaxFanout, f)
	}
	if len(s.cache) > 0 {
		st.AvgFanout = float64(total) / float64(len(s.cache))
	}
	return st
}
