package raftlog

import pb "go.etcd.io/raft/v3/raftpb"

// cacheKey names an entry by where its bytes are: a location is written
// once, so a cached entry can never be a stale version of its index (a
// replaced or removed entry simply stops being asked for and ages out).
type cacheKey struct {
	seg uint64
	off int64
}

// entryOverhead is what an entry costs in the cache beyond its encoded
// size (the map slot, the queue slot, the Entry struct).
const entryOverhead = 96

type cached struct {
	e    *pb.Entry
	cost int
}

// entryCache holds the most recently saved entries, up to max bytes, first
// in first out: raft reads an entry back soon after it is saved (to send it
// to followers, to apply it once committed), and those reads then cost no
// file read and no decoding. A nil cache holds nothing. Guarded by Log.mu.
type entryCache struct {
	max  int
	size int
	m    map[cacheKey]cached
	q    []cacheKey // insertion order; q[head:] is live
	head int
}

func newEntryCache(max int) *entryCache {
	if max <= 0 {
		return nil
	}
	return &entryCache{max: max, m: map[cacheKey]cached{}}
}

// add caches e (saved at k, encoded size size), evicting the oldest.
func (c *entryCache) add(k cacheKey, e *pb.Entry, size uint32) {
	cost := int(size) + entryOverhead
	if c == nil || cost > c.max {
		return
	}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = cached{e, cost}
	c.q = append(c.q, k)
	c.size += cost
	for c.size > c.max {
		old := c.q[c.head]
		c.head++
		c.size -= c.m[old].cost
		delete(c.m, old)
	}
	if c.head > 64 && c.head > len(c.q)/2 {
		c.q = append(c.q[:0], c.q[c.head:]...)
		c.head = 0
	}
}

func (c *entryCache) get(k cacheKey) *pb.Entry {
	if c == nil {
		return nil
	}
	return c.m[k].e
}
