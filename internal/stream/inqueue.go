package stream

import (
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Messages published in-process (a consumer delivering into a stream that
// captures its deliver subject, a republish, an advisory) reach a stream
// on the publisher's goroutine, which holds its in-process client's lock
// and may be a consumer's delivery turn. Storing there would chain the
// publisher to this stream's store, its acks, and whatever those acks
// reach, which is how a delivery into another stream once stopped every
// ack of the server. So such messages are copied into a bounded queue
// and stored by a goroutine of the stream's own, which runs only while
// the queue is not empty. The queue is also where a replicated stream's
// proposals will wait for their quorum.
//
// A full queue drops the message, as nats-server does: a publisher that
// asked for an ack gets 429 "too many requests" (10167).

const (
	inQueueMsgs  = 10_000    // nats-server's default for a stream's queue
	inQueueBytes = 128 << 20 // likewise
)

type inMsg struct {
	subject, reply string
	hdr, data      []byte
}

func (m *inMsg) size() int { return len(m.subject) + len(m.reply) + len(m.hdr) + len(m.data) }

// inQueue holds in-process publishes waiting to be stored.
type inQueue struct {
	mu      sync.Mutex
	pending []inMsg
	bytes   int
	running bool // a drain goroutine owns storing
	stopped bool
	wg      sync.WaitGroup
	dropped atomic.Uint64
}

// IngestQueued stores an in-process publish on the stream's own
// goroutine. The slices are copied: they may alias the publisher's buffer.
func (s *Stream) IngestQueued(subject, reply string, hdr, data []byte) {
	q := &s.inq
	m := inMsg{subject: subject, reply: reply}
	if len(hdr) > 0 {
		m.hdr = append([]byte(nil), hdr...)
	}
	m.data = append([]byte(nil), data...)
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return // closed: nothing stores any more
	}
	if len(q.pending) >= inQueueMsgs || q.bytes+m.size() > inQueueBytes {
		q.mu.Unlock()
		q.dropped.Add(1)
		s.log.Warn("stream ingest queue full: message dropped", "stream", s.Name(), "subject", subject)
		if reply != "" {
			if _, err := s.out.Publish(reply, "", tooManyRequestsHeader, s.errorBody(jsapi.NewError(jsapi.ErrStreamTooManyRequests))); err != nil {
				s.log.Debug("ack not sent", "err", err)
			}
		}
		return
	}
	q.pending = append(q.pending, m)
	q.bytes += m.size()
	if !q.running {
		q.running = true
		q.wg.Add(1)
		go s.drainIn()
	}
	q.mu.Unlock()
}

var tooManyRequestsHeader = []byte("NATS/1.0 429 Too Many Requests\r\n\r\n")

// drainIn stores queued messages in order until the queue is empty.
func (s *Stream) drainIn() {
	q := &s.inq
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 || q.stopped {
			q.running = false
			q.pending, q.bytes = nil, 0
			q.mu.Unlock()
			return
		}
		batch := q.pending
		q.pending, q.bytes = nil, 0
		q.mu.Unlock()
		for i := range batch {
			m := &batch[i]
			s.Ingest(m.subject, m.reply, m.hdr, m.data)
		}
	}
}

// stopIn ends queued ingestion: what is queued and not yet taken is
// dropped (its publishers get no ack, as for a message the stream never
// saw), and a drain in progress finishes its batch first.
func (s *Stream) stopIn() {
	q := &s.inq
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.wg.Wait()
}

// IngestDropped counts in-process publishes dropped by a full queue.
func (s *Stream) IngestDropped() uint64 { return s.inq.dropped.Load() }
