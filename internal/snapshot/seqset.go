package snapshot

import "fmt"

// SeqSet is a set of sequence numbers held as bitmaps of 2048 sequences
// (pages), the granularity nats-server's own delete maps use: dense
// deletes (a compacted key-value history) cost a bit each, sparse ones a
// page each. The number of pages is capped.
type SeqSet struct {
	pages    map[uint64]*[pageWords]uint64
	maxPages int
	n        uint64
}

const (
	pageWords = 32
	pageSeqs  = pageWords * 64
)

// ErrTooManyDeleted is returned when a set would pass its page cap.
var ErrTooManyDeleted = fmt.Errorf("%w: too many deleted sequences to track", ErrCorrupt)

// NewSeqSet returns an empty set of at most maxPages pages.
func NewSeqSet(maxPages int) *SeqSet {
	return &SeqSet{pages: map[uint64]*[pageWords]uint64{}, maxPages: maxPages}
}

// Add inserts seq.
func (s *SeqSet) Add(seq uint64) error {
	base := seq / pageSeqs
	p := s.pages[base]
	if p == nil {
		if len(s.pages) >= s.maxPages {
			return ErrTooManyDeleted
		}
		p = new([pageWords]uint64)
		s.pages[base] = p
	}
	off := seq % pageSeqs
	mask := uint64(1) << (off % 64)
	if p[off/64]&mask == 0 {
		p[off/64] |= mask
		s.n++
	}
	return nil
}

// Has reports whether seq is in the set.
func (s *SeqSet) Has(seq uint64) bool {
	p := s.pages[seq/pageSeqs]
	if p == nil {
		return false
	}
	off := seq % pageSeqs
	return p[off/64]&(uint64(1)<<(off%64)) != 0
}

// Len is the number of sequences in the set.
func (s *SeqSet) Len() uint64 { return s.n }
