package jetstream

import "sync"

// inQueue is one inbound worker's queue: a ring that grows with what is
// queued, up to max items, and gives its memory back once drained after a
// burst. A channel of the same bound would hold all of it from the start
// (four queues of 16,384 messages: 5 MB of a server doing nothing).
type inQueue struct {
	mu    sync.Mutex
	buf   []inboundMsg // ring; grows to max
	head  int
	n     int
	max   int
	wake  chan struct{} // cap 1: the worker has something to do
	space chan struct{} // closed when a full queue takes one out; nil if nobody waits
}

// inQueueMin is the ring's first size, and the size it is kept at.
const inQueueMin = 64

func newInQueue(max int) *inQueue {
	return &inQueue{max: max, wake: make(chan struct{}, 1)}
}

// tryPush queues it, or, when the queue is full, returns a channel that is
// closed once there is room.
func (q *inQueue) tryPush(it inboundMsg) (bool, <-chan struct{}) {
	q.mu.Lock()
	if q.n >= q.max {
		if q.space == nil {
			q.space = make(chan struct{})
		}
		sp := q.space
		q.mu.Unlock()
		return false, sp
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = it
	q.n++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true, nil
}

func (q *inQueue) grow() {
	size := min(max(2*len(q.buf), inQueueMin), q.max)
	buf := make([]inboundMsg, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

// pop takes the oldest item.
func (q *inQueue) pop() (inboundMsg, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return inboundMsg{}, false
	}
	it := q.buf[q.head]
	q.buf[q.head] = inboundMsg{} // let the payload go
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
	if q.n == 0 && len(q.buf) > inQueueMin {
		q.buf, q.head = nil, 0 // a burst is over: give its memory back
	}
	return it, true
}

// queued is the number of queued items.
func (q *inQueue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}
