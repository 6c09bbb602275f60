package jscluster

import (
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/stream"
)

// A conditional publish (a Nats-Expected-* header: what KV Create and
// Update send) is decided by the leader against its pipeline, which
// holds proposals in flight. Refusing it because of a write in flight is
// not linearizable if that write is then dropped (the leader cut off by
// a partition): no write happened in between, and the refused one should
// have passed. So such a refusal waits: the message joins a queue, and
// one goroutine per group lets the proposals it rested on settle
// (applied or dropped, stream.Settle) and decides it again, up to
// settleRounds times and within settleFor; later publishes queue behind
// it, so the stream still takes each connection's publishes in order.
// The queue is empty almost always: publishes then go straight to Raft,
// as before.
//
// A refusal is also given only under the leader's lease: a member that
// cannot hear a quorum may hold stale applied state (a newer leader may
// have committed writes it has not seen), and answers "not available"
// instead, which the publisher may retry.

const (
	// settleRounds bounds how often one message is decided again.
	settleRounds = 3
	// settleFor bounds how long a message waits in the queue for the
	// proposals its refusal rested on, longer than a leader cut off from
	// its quorum takes to step down.
	settleFor = 4 * time.Second
	// maxWaiting bounds the queue; a publish beyond it is answered "not
	// available" at once (the publisher retries).
	maxWaiting = 4096
)

// waiter is a publish queued behind a refusal that may not be final.
type waiter struct {
	subject  string
	hdr      []byte
	data     []byte
	done     func(*stream.Answer, error)
	inFlight uint64 // proposals to settle before deciding again (0: none)
	rounds   int
	deadline time.Time
}

// waitLocked queues a publish (copying its slices, which may alias a read
// buffer) and starts the pump; false when the queue is full. g.order is
// held.
func (g *StreamGroup) waitLocked(subject string, hdr, data []byte, done func(*stream.Answer, error), inFlight uint64) bool {
	if len(g.waiting) >= maxWaiting {
		return false
	}
	buf := make([]byte, len(hdr)+len(data))
	copy(buf, hdr)
	copy(buf[len(hdr):], data)
	g.waiting = append(g.waiting, waiter{subject: subject, hdr: buf[:len(hdr):len(hdr)], data: buf[len(hdr):],
		done: done, inFlight: inFlight, deadline: time.Now().Add(settleFor)})
	if !g.pumping {
		g.pumping = true
		go g.pump()
	}
	return true
}

// pump decides the queued publishes in order, letting each refusal's
// proposals in flight settle first, and ends when the queue is empty.
func (g *StreamGroup) pump() {
	for {
		g.order.Lock()
		if len(g.waiting) == 0 {
			g.pumping = false
			g.waiting = nil // a burst's backing array is not kept
			g.order.Unlock()
			return
		}
		w := g.waiting[0]
		g.order.Unlock()
		if w.inFlight > 0 {
			if d := time.Until(w.deadline); d > 0 {
				g.s.Settle("", w.inFlight, d)
			}
		}
		g.order.Lock()
		ans, err := g.submitLocked(w.subject, w.hdr, w.data, w.done)
		if g.waitAgain(ans, w) {
			g.waiting[0].inFlight, g.waiting[0].rounds = ans.InFlight, w.rounds+1
			g.order.Unlock()
			continue
		}
		g.waiting[0] = waiter{}
		g.waiting = g.waiting[1:]
		g.order.Unlock()
		g.finish(ans, err, w.done)
	}
}

// waitAgain says whether w, just decided as ans, is to wait once more.
func (g *StreamGroup) waitAgain(ans *stream.Answer, w waiter) bool {
	return ans != nil && ans.Expect && ans.InFlight > 0 && w.rounds+1 < settleRounds && time.Now().Before(w.deadline)
}

// finish tells a publisher its answer: a refusal of an expectation only
// under the leader's lease (see above).
func (g *StreamGroup) finish(ans *stream.Answer, err error, done func(*stream.Answer, error)) {
	switch {
	case err != nil:
		// Never queued: the pipeline holds an entry Raft never got.
		g.s.ResetProposals()
		done(nil, err)
	case ans == nil:
	case ans.Expect && !g.LeaseValid():
		done(&stream.Answer{Err: jsapi.NewError(jsapi.ErrClusterNotAvail)}, nil)
	default:
		done(ans, nil)
	}
}
