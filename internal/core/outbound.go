package core

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// chunkSize is the size of pooled outbound buffers. Large enough that a
// burst of small messages goes out in a few writev segments, small enough
// that an idle connection holds no memory: chunks go back to the pool as soon
// as they are written.
const chunkSize = 32 * 1024

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

func getChunk() []byte { return (*chunkPool.Get().(*[]byte))[:0] }

// putChunk returns a chunk to the pool. A chunk cut short by a partial
// write (a slice from its middle) is left to the garbage collector.
func putChunk(b []byte) {
	if cap(b) != chunkSize {
		return
	}
	b = b[:0]
	chunkPool.Put(&b)
}

// stallThreshold is the fraction of max pending past which producers are
// briefly held back, so that a fast publisher slows down instead of pushing
// a slower subscriber over the slow-consumer limit.
const stallNum, stallDen = 3, 4

// outbound is a connection's queue of bytes to write. Producers (the read
// loops of publishing connections, and the connection itself for PONG, +OK,
// -ERR) append under mu; one writer goroutine takes everything queued and
// writes it with a single writev, without holding mu during I/O.
type outbound struct {
	mu         sync.Mutex
	bufs       [][]byte // queued chunks; the last may still have room
	pending    int      // bytes queued and not yet written
	maxPending int
	closed     bool          // no more data is accepted
	dropped    bool          // queued data was thrown away (release)
	writing    bool          // a write (by the writer, or inline) owns the socket
	stall      chan struct{} // closed when pending drops below the stall threshold
	kick       chan struct{} // wakes the writer; capacity 1 so kicks coalesce

	// Inline writes: a producer finishing a batch may write a small queue
	// itself, without a socket wait, saving the writer's wake-up. Owned by
	// whoever set writing.
	raw        syscall.RawConn // nil when the connection has no file descriptor
	inlineFree [][]byte
	iov        []syscall.Iovec

	lastDrain int64 // unix nanos of the last write that made progress

	// Counted under mu, as the deliveries that produce them.
	outMsgs, outBytes int64
}

func (o *outbound) init(maxPending int) {
	o.maxPending = maxPending
	o.lastDrain = time.Now().UnixNano()
	o.kick = make(chan struct{}, 1)
}

// appendLocked copies p into the queue. Lock held.
func (o *outbound) appendLocked(p []byte) {
	o.pending += len(p)
	for len(p) > 0 {
		n := len(o.bufs)
		if n == 0 || len(o.bufs[n-1]) == cap(o.bufs[n-1]) {
			o.bufs = append(o.bufs, getChunk())
			n++
		}
		last := &o.bufs[n-1]
		k := copy((*last)[len(*last):cap(*last)], p)
		*last = (*last)[:len(*last)+k]
		p = p[k:]
	}
}

// tailRoom returns the last chunk if it has at least n free bytes, so small
// writes can be encoded in place. Lock held.
func (o *outbound) tailRoom(n int) *[]byte {
	if k := len(o.bufs); k > 0 {
		last := &o.bufs[k-1]
		if cap(*last)-len(*last) >= n {
			return last
		}
	}
	if n > chunkSize {
		return nil
	}
	o.bufs = append(o.bufs, getChunk())
	return &o.bufs[len(o.bufs)-1]
}

// stallProgress is how recently a receiver must have drained something for
// producers to wait for it. A receiver that writes nothing at all is stuck,
// not slow: waiting for it would only stall everyone else until it is cut
// off at max_pending.
const stallProgress = 100 * time.Millisecond

// overStall reports whether producers should wait for this connection to
// drain, creating the channel they wait on. Lock held.
func (o *outbound) overStall() chan struct{} {
	if o.pending <= o.maxPending/stallDen*stallNum {
		return nil
	}
	if time.Since(time.Unix(0, o.lastDrain)) > stallProgress {
		return nil
	}
	if o.stall == nil {
		o.stall = make(chan struct{})
	}
	return o.stall
}

func (o *outbound) signal() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// take hands everything queued to the writer, leaving spare (the slice
// the writer gave back after its last write) as the new empty queue. Lock
// held.
func (o *outbound) take(spare [][]byte) (bufs [][]byte, n int) {
	if o.pending == 0 {
		// Nothing to hand over; keep the queue and the spare apart.
		return nil, 0
	}
	bufs, n = o.bufs, o.pending
	o.bufs = spare[:0]
	return bufs, n
}

// written records that n bytes left and releases stalled producers once the
// queue is below the threshold. Lock held.
func (o *outbound) written(n int) {
	o.pending -= n
	if n > 0 {
		o.lastDrain = time.Now().UnixNano()
	}
	if o.stall != nil && o.pending <= o.maxPending/stallDen*stallNum {
		close(o.stall)
		o.stall = nil
	}
}

// release drops queued data, refuses more and wakes stalled producers.
// Bytes the writer has already taken stay counted until it reports them.
// Lock held.
func (o *outbound) release() {
	for _, b := range o.bufs {
		o.pending -= len(b)
		putChunk(b)
	}
	o.bufs = nil
	o.closed = true
	o.dropped = true
	o.wakeStalled()
}

// wakeStalled releases producers waiting on this connection. Lock held.
func (o *outbound) wakeStalled() {
	if o.stall != nil {
		close(o.stall)
		o.stall = nil
	}
}

// writer owns the scratch space of one connection's writer goroutine.
type writer struct {
	base [][]byte    // a copy of the chunk headers: WriteTo consumes what it is given
	iov  net.Buffers // a field, not a local, so WriteTo's pointer does not allocate
	free [][]byte    // the previous queue slice, reused by take
}

// write writes bufs with one writev and returns the chunks to the pool.
func (w *writer) write(conn net.Conn, bufs [][]byte, deadline time.Duration) error {
	w.base = append(w.base[:0], bufs...)
	err := conn.SetWriteDeadline(time.Now().Add(deadline))
	if err == nil {
		w.iov = w.base
		_, err = w.iov.WriteTo(conn)
	}
	for i := range bufs {
		putChunk(bufs[i])
		bufs[i] = nil
	}
	w.free = bufs[:0]
	return err
}

// inlineMax bounds the queue a producer writes inline. Larger queues mean a
// busy receiver; its writer handles them.
const inlineMax = 64 * 1024

// flushInline tries to write the queue from the calling goroutine with one
// non-blocking writev. It reports whether the queue is done with; on false
// the caller kicks the writer, which takes whatever is left.
func (o *outbound) flushInline() bool {
	o.mu.Lock()
	if o.raw == nil || o.writing || o.closed || o.pending == 0 || o.pending > inlineMax {
		o.mu.Unlock()
		return false
	}
	bufs, n := o.take(o.inlineFree)
	o.writing = true
	o.mu.Unlock()

	wrote, err := writevNow(o.raw, bufs, &o.iov)
	var rest [][]byte
	left := wrote
	for i, b := range bufs {
		switch {
		case left >= len(b):
			left -= len(b)
			putChunk(b)
		case rest == nil:
			// Partly written, or not at all: keep the rest, in order, for
			// the writer. Rare (the socket buffer was full), so the new
			// slice is no concern.
			rest = make([][]byte, 0, len(bufs)-i)
			rest = append(rest, b[left:])
			left = 0
		default:
			rest = append(rest, b)
		}
		bufs[i] = nil
	}
	o.inlineFree = bufs[:0]

	o.mu.Lock()
	o.writing = false
	switch {
	case rest == nil:
		o.written(n)
	case o.dropped:
		// The queue was dropped while we wrote (a slow consumer, a broken
		// socket): what we could not write goes too.
		o.written(n)
	default:
		o.bufs = append(rest, o.bufs...)
		o.written(wrote)
	}
	done := o.pending == 0 && !o.closed && err == nil
	o.mu.Unlock()
	return done
}
