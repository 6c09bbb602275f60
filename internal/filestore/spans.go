package filestore

import "math"

// spans is a set of sequences kept as sorted, disjoint, non-adjacent
// inclusive ranges: lost ranges can be long (a whole missing segment), and
// a range costs the same whatever its length.
type spans []span

// openEnd marks a range whose end is not known yet.
const openEnd = math.MaxUint64

// add inserts [lo, hi].
func (s spans) add(lo, hi uint64) spans {
	if lo > hi {
		return s
	}
	out := make(spans, 0, len(s)+1)
	i := 0
	for ; i < len(s) && s[i].hi != openEnd && s[i].hi+1 < lo; i++ {
		out = append(out, s[i]) // wholly before, not adjacent
	}
	for ; i < len(s) && (hi == openEnd || s[i].lo <= hi+1); i++ {
		lo, hi = min(lo, s[i].lo), max(hi, s[i].hi) // overlapping or adjacent
	}
	out = append(out, span{lo, hi})
	return append(out, s[i:]...)
}

// remove takes [lo, hi] out.
func (s spans) remove(lo, hi uint64) spans {
	if lo > hi {
		return s
	}
	var out spans
	for _, r := range s {
		if r.hi < lo || r.lo > hi {
			out = append(out, r)
			continue
		}
		if r.lo < lo {
			out = append(out, span{r.lo, lo - 1})
		}
		if r.hi > hi {
			out = append(out, span{hi + 1, r.hi})
		}
	}
	return out
}

// count returns how many sequences the set holds.
func (s spans) count() uint64 {
	var n uint64
	for _, r := range s {
		n += r.hi - r.lo + 1
	}
	return n
}

// contains reports whether seq is in the set.
func (s spans) contains(seq uint64) bool {
	for _, r := range s {
		if seq >= r.lo && seq <= r.hi {
			return true
		}
	}
	return false
}
