package filestore

import (
	"container/list"
	"io"
	"sync"
	"sync/atomic"
)

// blockSize is the read unit of the cache. Sequential readers (consumers
// replaying a stream) get many small records per read(2).
const blockSize = 32 << 10

type blockKey struct {
	f   *rfile
	blk int64
}

type block struct {
	key  blockKey
	data []byte
}

// BlockCache is an LRU of segment blocks bounded by bytes, shared by the
// stores of a server (Config.Cache) so that the memory read caches take
// is bounded however many streams there are. The log only
// grows, so bytes once read never change (erase invalidates what it
// overwrites); a block read short at the end of a file is cached with what
// it has and read again when a record needs more of it.
type BlockCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	lru   *list.List // front = most recent
	items map[blockKey]*list.Element
}

// NewBlockCache returns a cache of at most maxBytes; 0 caches nothing.
func NewBlockCache(maxBytes int64) *BlockCache {
	return &BlockCache{max: max(maxBytes, 0), lru: list.New(), items: map[blockKey]*list.Element{}}
}

// cacheStats counts one store's hits and misses in a shared cache.
type cacheStats struct {
	hits atomic.Uint64
	miss atomic.Uint64
}

func (c *BlockCache) get(k blockKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*block).data
	}
	return nil
}

func (c *BlockCache) put(k blockKey, data []byte) {
	if int64(cap(data)) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.evict(el) // a longer read of a block that was short
	}
	c.items[k] = c.lru.PushFront(&block{k, data})
	c.used += int64(cap(data)) // a short block still holds a whole buffer
	for c.used > c.max {
		c.evict(c.lru.Back())
	}
}

func (c *BlockCache) evict(el *list.Element) {
	b := c.lru.Remove(el).(*block)
	delete(c.items, b.key)
	c.used -= int64(cap(b.data))
}

// drop forgets the blocks of f overlapping [off, off+n); n < 0 means all.
func (c *BlockCache) drop(f *rfile, off, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n >= 0 && n/blockSize < int64(len(c.items)) {
		// A range: look its blocks up rather than walk a shared cache.
		for blk := off / blockSize; blk*blockSize < off+n; blk++ {
			if el, ok := c.items[blockKey{f, blk}]; ok {
				c.evict(el)
			}
		}
		return
	}
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		b := el.Value.(*block)
		if b.key.f == f && (n < 0 || (b.key.blk*blockSize < off+n && (b.key.blk+1)*blockSize > off)) {
			c.evict(el)
		}
		el = next
	}
}

// readAt returns n bytes of f at off. The result may be a cached block's
// memory and must not be modified.
func (c *BlockCache) readAt(st *cacheStats, f *rfile, off int64, n int) ([]byte, error) {
	blk := off / blockSize
	rel := int(off - blk*blockSize)
	if c.max > 0 && rel+n <= blockSize {
		k := blockKey{f, blk}
		if data := c.get(k); rel+n <= len(data) {
			st.hits.Add(1)
			return data[rel : rel+n], nil
		}
		st.miss.Add(1)
		data := make([]byte, blockSize)
		k2, err := f.ReadAt(data, blk*blockSize)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if k2 > 0 {
			c.put(k, data[:k2])
		}
		if k2 < rel+n {
			return nil, io.ErrUnexpectedEOF
		}
		return data[rel : rel+n], nil
	}
	// Large or block-straddling records bypass the cache.
	data := make([]byte, n)
	k2, err := f.ReadAt(data, off)
	if k2 == n {
		return data, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}
