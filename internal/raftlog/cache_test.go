package raftlog

import "testing"

// TestEntryCache: bounded in bytes, oldest out first, a nil cache holds
// nothing.
func TestEntryCache(t *testing.T) {
	c := newEntryCache(3 * (100 + entryOverhead))
	for i := range 10 {
		c.add(cacheKey{1, int64(i)}, ent(uint64(i+1), 1, "x"), 100)
		if c.size > c.max {
			t.Fatalf("size %d over %d", c.size, c.max)
		}
	}
	for i := range 10 {
		got := c.get(cacheKey{1, int64(i)}) != nil
		if want := i >= 7; got != want {
			t.Fatalf("entry %d cached %v, want %v", i, got, want)
		}
	}
	c.add(cacheKey{2, 0}, ent(1, 1, "big"), uint32(c.max))
	if c.get(cacheKey{2, 0}) != nil {
		t.Fatal("an entry larger than the cache was kept")
	}
	if len(c.q)-c.head != len(c.m) {
		t.Fatalf("queue %d, map %d", len(c.q)-c.head, len(c.m))
	}
	var none *entryCache = newEntryCache(-1)
	none.add(cacheKey{1, 1}, ent(1, 1, "x"), 1)
	if none.get(cacheKey{1, 1}) != nil {
		t.Fatal("disabled cache holds an entry")
	}
}
