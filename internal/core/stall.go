package core

import "time"

// Back-pressure. A publisher delivering to a receiver whose queue is past
// 3/4 of max_pending waits, in its own read loop and holding no lock, until
// the receiver drains below that mark. It reads nothing from its socket
// meanwhile, so TCP flow control slows it to the receiver's pace. It waits
// as long as the receiver makes progress (the peer takes bytes), bounded
// by the write deadline; a receiver that takes nothing for stallStuck is
// stuck: the waiting producers go on, nobody waits for it again until it
// moves, and it is cut at max_pending or by the write deadline.
//
// nats-server also waits at 3/4 of max_pending, but for at most 10 ms per
// read; a fast publisher then outruns a receiver that reads steadily but
// slower, which is cut off although it was reading.

// stallTick is how often a waiting producer checks the receiver's progress.
const stallTick = 10 * time.Millisecond

// stallStuck is how long a receiver may take nothing before producers stop
// waiting for it (at most the write deadline). It bounds how long a client
// that stopped reading slows the publishers that share its subjects.
const stallStuck = time.Second

// mayStall reports whether producer c may wait for receiver rc. Only a
// read loop waits: a client's, or a route's delivering its peer's
// messages (it then reads nothing from the route, and TCP slows the
// sending server, whose publishers wait in turn on the route's queue). In-
// process publishers (JetStream API replies, acks, deliveries of a
// consumer) must never block on a client, and a client never waits for
// its own queue.
func (c *client) mayStall(rc *transport) bool {
	return rc != &c.transport && (c.netConn != nil || c.fromRoute != nil) && !c.gone()
}

// gone reports whether the producer's connection is closing: the client,
// or the route whose messages it delivers.
func (c *client) gone() bool {
	return c.closing.Load() || (c.fromRoute != nil && c.fromRoute.closing.Load())
}

// stallFor waits until rc's queue drops below the stall mark (stall is
// closed: it reports true), rc or c closes, rc takes nothing for
// stallStuck, or the write deadline passes. No lock is held.
func (c *client) stallFor(rc *transport, stall chan struct{}) bool {
	// What this read batch queued for other receivers goes out now,
	// not after the wait.
	c.flushes.signalAll()
	deadline := c.srv.getOpts().WriteDeadline
	stuckAfter := min(stallStuck, deadline)
	start := time.Now()
	moved := start
	seen := rc.out.delivered()
	t := time.NewTimer(stallTick)
	defer t.Stop()
	for {
		select {
		case <-stall:
			return !rc.closing.Load() && !c.gone()
		case <-t.C:
		}
		if rc.closing.Load() || c.gone() {
			return false
		}
		now := time.Now()
		if d := rc.out.delivered(); d != seen {
			seen, moved = d, now
		} else if now.Sub(moved) >= stuckAfter {
			rc.out.markStuck(stall)
			rc.log.Debug("receiver takes nothing: producers no longer wait for it", "pending_limit", rc.srv.getOpts().MaxPending)
			return false
		}
		if now.Sub(start) >= deadline {
			return false
		}
		t.Reset(stallTick)
	}
}
