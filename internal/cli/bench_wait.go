package cli

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// How the bench knows it is finished, stuck, or broken.

// goal is a count the bench waits for: one publisher's messages, one plain
// subscriber's deliveries, or a queue group's deliveries together.
//
// A delivery is counted in two steps: add claims it (and drives progress),
// settle says the client has recorded it. done closes on the last settle,
// so when the waiter wakes every client's own count and timestamps are
// already final; closing on add would let the result be read while another
// queue member is still recording its last message.
type goal struct {
	want    int64
	n       atomic.Int64 // claimed
	settled atomic.Int64
	done    chan struct{} // closed once want deliveries are settled
}

func newGoal(want int) *goal {
	return &goal{want: int64(want), done: make(chan struct{})}
}

// add claims one delivery and returns its number. ok is false for
// deliveries past the goal (a stray publisher on the subject); the caller
// must not count those, so reported totals are exact.
func (g *goal) add() (v int64, ok bool) {
	v = g.n.Add(1)
	return v, v <= g.want
}

// settle follows each add that returned ok, once the client has recorded
// the delivery.
func (g *goal) settle() {
	if g.settled.Add(1) == g.want {
		close(g.done)
	}
}

// progress records a publisher's count so far without finishing.
func (g *goal) progress(n int) { g.n.Store(int64(n)) }

// finish marks a publisher done (after its flush). Call it once.
func (g *goal) finish() {
	g.n.Store(g.want)
	close(g.done)
}

// count is the progress so far, never above want.
func (g *goal) count() int64 { return min(g.n.Load(), g.want) }

// errSink keeps the first asynchronous error (a failed publish, a dropped
// message, a lost connection); later ones are consequences and dropped.
type errSink struct{ ch chan error }

func newErrSink() *errSink { return &errSink{ch: make(chan error, 1)} }

func (s *errSink) report(err error) {
	select {
	case s.ch <- err:
	default:
	}
}

// pending returns a reported error, if any, without waiting.
func (s *errSink) pending() error {
	select {
	case err := <-s.ch:
		return err
	default:
		return nil
	}
}

// waiter blocks until every goal is met, an error is reported, ctx ends,
// or nothing moves for stall. It also drives the progress line.
type waiter struct {
	goals  []*goal
	errs   *errSink
	stall  time.Duration
	prog   *progress
	status func() string // progress text; also the detail of failures
	// armed starts the stall clock at once. Without publishers of our own
	// (--pub 0) it starts only at the first message, since the bench
	// cannot know when an outside publisher will begin.
	armed bool
	tick  time.Duration // 0 means progressEvery; tests shorten it
}

// progressEvery is how often the waiter checks for a stall and redraws.
const progressEvery = 200 * time.Millisecond

func (w *waiter) wait(ctx context.Context) error {
	tick := w.tick
	if tick <= 0 {
		tick = progressEvery
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	last, lastMove := w.moved(), time.Now()
	// One pass per goal; each inner loop ends on that goal, an error, ctx,
	// or a stall, and the stall check bounds it in time.
	for _, g := range w.goals {
		for met := false; !met; {
			select {
			case <-g.done:
				met = true
			case err := <-w.errs.ch:
				return err
			case <-ctx.Done():
				return fmt.Errorf("interrupted: %s", w.status())
			case now := <-ticker.C:
				w.prog.draw(w.status())
				if cur := w.moved(); cur != last {
					last, lastMove = cur, now
					w.armed = true
				} else if w.armed && now.Sub(lastMove) >= w.stall {
					return fmt.Errorf("stalled: nothing moved for %v: %s", w.stall, w.status())
				}
			}
		}
	}
	return nil
}

// moved sums all counts: any change means the run is alive.
func (w *waiter) moved() int64 {
	var n int64
	for _, g := range w.goals {
		n += g.count()
	}
	return n
}
