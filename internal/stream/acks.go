package stream

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Batcher is a Publisher that can defer the delivery work of several
// messages to one Flush; core.InternalClient is one. Acks for one group
// commit then reach each publisher in a single write.
type Batcher interface {
	Publisher
	PublishDeferred(subject, reply string, hdr, data []byte) (bool, error)
	Flush()
}

// ackReq is one publish waiting for its message to become durable.
type ackReq struct {
	s      *Stream
	reply  string
	seq    uint64
	inline atomic.Bool // set while Durable may call back on the caller's goroutine
}

// done is the store's durability callback.
func (a *ackReq) done(err error) {
	s := a.s
	var body []byte
	if err != nil {
		body = s.errorBody(storeFailed(err))
	} else {
		body = make([]byte, 0, len(s.ackPrefix)+24)
		body = strconv.AppendUint(append(body, s.ackPrefix...), a.seq, 10)
		body = append(body, '}')
	}
	if a.inline.Load() {
		// A memory store, or already synced: answer right here.
		s.send(a.reply, body)
		return
	}
	s.acks.push(a.reply, body)
}

// ackQueue carries acks from the store's syncer to a goroutine that sends
// them in bursts, so the syncer goes straight back to syncing and each
// burst is flushed once. The goroutine runs only while acks are queued: an
// idle stream costs none (10,000 streams are 10,000 idle queues, not
// 10,000 goroutines). Its length is bounded by the publishes in flight:
// the store's own buffer bounds them on a single server, the leader's
// tail of proposals (maxProposals) on a replicated stream, whose answers
// come here from the Raft loop (Respond).
type ackQueue struct {
	s       *Stream
	mu      sync.Mutex
	pending []pendingAck
	spare   []pendingAck
	running bool // a drain goroutine owns sending
	stopped bool // acks go out on the caller's goroutine
	wg      sync.WaitGroup
}

type pendingAck struct {
	reply string
	body  []byte
}

func newAckQueue(s *Stream) *ackQueue {
	return &ackQueue{s: s}
}

func (q *ackQueue) push(reply string, body []byte) {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		q.s.send(reply, body)
		return
	}
	q.pending = append(q.pending, pendingAck{reply, body})
	if !q.running {
		q.running = true
		q.wg.Add(1)
		go q.drain()
	}
	q.mu.Unlock()
}

// drain sends bursts until the queue is empty, then exits. Only one runs
// at a time, so acks keep their order.
func (q *ackQueue) drain() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		batch := q.pending
		q.pending, q.spare = q.spare[:0], nil
		q.mu.Unlock()
		q.s.sendBatch(batch)
		clear(batch)
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
	}
}

// stop waits for queued acks to be sent; later acks are sent by whoever
// produces them.
func (q *ackQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.wg.Wait()
}

func (s *Stream) sendBatch(batch []pendingAck) {
	if len(batch) == 0 {
		return
	}
	b, ok := s.out.(Batcher)
	if !ok {
		for _, a := range batch {
			s.send(a.reply, a.body)
		}
		return
	}
	for _, a := range batch {
		if _, err := b.PublishDeferred(a.reply, "", nil, a.body); err != nil {
			s.log.Debug("ack not sent", "err", err)
		}
	}
	b.Flush()
}

func (s *Stream) errorBody(e *jsapi.ApiError) []byte {
	return pubAckError(s.Name(), e)
}
