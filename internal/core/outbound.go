package core

import (
	"net"
	"sync"
	"time"
)

// chunkSize is the size of pooled outbound buffers. Large enough that a
// burst of small messages goes out in a few writev segments, small enough
// that an idle connection holds no memory: chunks go back to the pool as soon
// as they are written.
const chunkSize = 32 * 1024

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

func getChunk() []byte  { return (*chunkPool.Get().(*[]byte))[:0] }
func putChunk(b []byte) { b = b[:0]; chunkPool.Put(&b) }

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
	stall      chan struct{} // closed when pending drops below the stall threshold
	kick       chan struct{} // wakes the writer; capacity 1 so kicks coalesce

	// Counted under mu, as the deliveries that produce them.
	outMsgs, outBytes int64
}

func (o *outbound) init(maxPending int) {
	o.maxPending = maxPending
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

// overStall reports whether producers should wait for this connection to
// drain, creating the channel they wait on. Lock held.
func (o *outbound) overStall() chan struct{} {
	if o.pending <= o.maxPending/stallDen*stallNum {
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
