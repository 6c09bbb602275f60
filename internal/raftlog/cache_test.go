package raftlog

import (
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"
)

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
	if c.len() != 3 {
		t.Fatalf("%d entries cached, want 3", c.len())
	}
	var none *entryCache = newEntryCache(-1)
	none.add(cacheKey{1, 1}, ent(1, 1, "x"), 1)
	if none.get(cacheKey{1, 1}) != nil {
		t.Fatal("disabled cache holds an entry")
	}
}

// TestEntryCacheLookups: entries of several groups interleave in the
// cache; lookups in order, out of order, for missing and for evicted
// locations all answer as a map would, across the queue's compaction.
func TestEntryCacheLookups(t *testing.T) {
	c := newEntryCache(200 * (10 + entryOverhead))
	want := map[cacheKey]*pb.Entry{}
	var keys []cacheKey
	for i := range 1000 {
		k := cacheKey{uint64(1 + i/300), int64(i%300) * 50}
		e := ent(uint64(i+1), 1, "x")
		c.add(k, e, 10)
		c.add(k, ent(9, 9, "again"), 10) // the same location again: ignored
		want[k] = e
		keys = append(keys, k)
		if c.len() > 200 {
			t.Fatalf("%d entries cached, bound 200", c.len())
		}
		if i%97 == 0 {
			// Walk what should still be cached: every other key (two
			// groups interleaved), then backwards, then a missing one.
			live := keys[max(0, len(keys)-200):]
			for j := 0; j < len(live); j += 2 {
				if got := c.get(live[j]); got != want[live[j]] {
					t.Fatalf("after %d adds: key %v: got %v", i+1, live[j], got)
				}
			}
			for j := len(live) - 1; j >= 0; j-- {
				if got := c.get(live[j]); got != want[live[j]] {
					t.Fatalf("after %d adds: key %v backwards: got %v", i+1, live[j], got)
				}
			}
			if c.get(cacheKey{live[0].seg, live[0].off + 1}) != nil {
				t.Fatal("a location never added was found")
			}
			if len(keys) > 200 && c.get(keys[len(keys)-201]) != nil {
				t.Fatal("an evicted entry was found")
			}
		}
	}
}
