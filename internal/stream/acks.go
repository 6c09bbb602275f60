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

// ackQueue carries acks from the store's syncer to one goroutine that
// sends them in bursts, so the syncer goes straight back to syncing and
// each burst is flushed once. Its length is bounded by the publishes in
// flight, which the store's own buffer bounds.
type ackQueue struct {
	mu      sync.Mutex
	pending []pendingAck
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

type pendingAck struct {
	reply string
	body  []byte
}

func newAckQueue() *ackQueue {
	return &ackQueue{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

func (q *ackQueue) push(reply string, body []byte) {
	q.mu.Lock()
	q.pending = append(q.pending, pendingAck{reply, body})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run sends acks until stop; acks still queued then are sent first.
func (q *ackQueue) run(s *Stream) {
	defer close(q.done)
	var batch []pendingAck
	for {
		select {
		case <-q.wake:
		case <-q.quit:
			q.mu.Lock()
			batch, q.pending = q.pending, nil
			q.mu.Unlock()
			s.sendBatch(batch)
			return
		}
		q.mu.Lock()
		batch, q.pending = q.pending, batch[:0]
		q.mu.Unlock()
		s.sendBatch(batch)
		clear(batch)
	}
}

func (q *ackQueue) stop() {
	close(q.quit)
	<-q.done
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
