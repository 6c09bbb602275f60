package raftnet

import "time"

// backoff computes the wait before a peer's next dial: doubling from min
// up to max after each failure, with "full jitter" (a uniform draw from
// the lower half up to the whole wait) so servers that lost the same peer
// at the same moment do not dial it in step.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// next returns the wait before the next attempt; rnd is a uniform draw in
// [0, 1), injected so tests are deterministic.
func (b *backoff) next(rnd float64) time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + time.Duration(rnd*float64(b.cur-half))
}

// reset is called after a connection succeeds.
func (b *backoff) reset() { b.cur = 0 }
