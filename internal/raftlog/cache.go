package raftlog

import (
	"sort"

	pb "go.etcd.io/raft/v3/raftpb"
)

// cacheKey names an entry by where its bytes are: a location is written
// once, so a cached entry can never be a stale version of its index (a
// replaced or removed entry simply stops being asked for and ages out).
type cacheKey struct {
	seg uint64
	off int64
}

func (k cacheKey) less(o cacheKey) bool {
	return k.seg < o.seg || (k.seg == o.seg && k.off < o.off)
}

// entryOverhead is what an entry costs in the cache beyond its encoded
// size (the slot, the Entry struct).
const entryOverhead = 96

type cached struct {
	k    cacheKey
	e    *pb.Entry
	cost int
}

// entryCache holds the most recently saved entries, up to max bytes, first
// in first out: raft reads an entry back soon after it is saved (to send it
// to followers, to apply it once committed), and those reads then cost no
// file read and no decoding. A nil cache holds nothing. Guarded by Log.mu.
//
// Entries are saved at growing locations, so the cache is a queue sorted
// by location: a lookup is a binary search, and raft's reads, which walk
// a group's entries in order, mostly find the next one a few slots after
// the last one found (the hint). A map was the first version; its hashing
// and probing showed up in profiles of the replicated publish path.
type entryCache struct {
	max  int
	size int
	q    []cached // q[head:] is live, sorted by key
	head int
	hint int // where the last lookup found its entry
}

// hintReach is how far past the hint a lookup looks before searching.
const hintReach = 8

func newEntryCache(max int) *entryCache {
	if max <= 0 {
		return nil
	}
	return &entryCache{max: max}
}

// add caches e (saved at k, encoded size size), evicting the oldest. A
// location at or before the newest cached one is not added (it would break
// the order; saves never go back).
func (c *entryCache) add(k cacheKey, e *pb.Entry, size uint32) {
	cost := int(size) + entryOverhead
	if c == nil || cost > c.max {
		return
	}
	if n := len(c.q); n > c.head && !c.q[n-1].k.less(k) {
		return
	}
	c.q = append(c.q, cached{k, e, cost})
	c.size += cost
	for c.size > c.max {
		c.size -= c.q[c.head].cost
		c.q[c.head] = cached{}
		c.head++
	}
	if c.head > 64 && c.head > len(c.q)/2 {
		n := copy(c.q, c.q[c.head:])
		clear(c.q[n:])
		c.q = c.q[:n]
		c.hint -= c.head
		c.head = 0
	}
}

func (c *entryCache) get(k cacheKey) *pb.Entry {
	if c == nil {
		return nil
	}
	live := c.q[c.head:]
	if len(live) == 0 {
		return nil
	}
	start := c.hint - c.head
	if start < 0 {
		start = 0
	}
	for i := start; i < len(live) && i < start+hintReach; i++ {
		if live[i].k == k {
			c.hint = c.head + i
			return live[i].e
		}
		if k.less(live[i].k) {
			break
		}
	}
	i := sort.Search(len(live), func(i int) bool { return !live[i].k.less(k) })
	if i == len(live) || live[i].k != k {
		return nil
	}
	c.hint = c.head + i
	return live[i].e
}

// len is how many entries the cache holds.
func (c *entryCache) len() int { return len(c.q) - c.head }
