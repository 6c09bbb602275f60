package core

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
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

// stallNum/stallDen is the fraction of max pending past which publishers
// wait for the receiver to drain (stall.go), so that a fast publisher slows
// down instead of pushing a slower subscriber over the slow-consumer limit.
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

	// sent counts the bytes the kernel has taken from this queue, added
	// after every write system call, so a waiting producer sees a slow
	// reader's progress even while one large write is still under way.
	sent atomic.Int64
	// stuck is set when a producer waited stallStuck without seeing any
	// progress: producers then stop waiting for this receiver until a
	// write moves bytes again. A receiver that reads nothing is cut at
	// max_pending (or by the write deadline) instead of holding everyone.
	stuck atomic.Bool

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

// stallAt is the pending size past which producers wait. Lock held.
func (o *outbound) stallAt() int { return o.maxPending / stallDen * stallNum }

// overStall reports whether a producer about to queue size bytes should
// wait for this connection to drain, creating the channel it waits on. It
// waits while the bytes would take the queue past the stall mark, unless
// the queue is empty (a message larger than the mark still goes, alone),
// so that pending stays within max_pending however many producers wait
// and are released together. Lock held.
func (o *outbound) overStall(size int) chan struct{} {
	if o.pending == 0 || o.pending+size <= o.stallAt() || o.closed || o.stuck.Load() {
		return nil
	}
	if o.stall == nil {
		o.stall = make(chan struct{})
	}
	return o.stall
}

// noteSent records n bytes taken by the kernel: progress.
func (o *outbound) noteSent(n int) {
	if n > 0 {
		o.sent.Add(int64(n))
		if o.stuck.Load() {
			o.stuck.Store(false)
		}
	}
}

// markStuck stops producers waiting on stall, and later ones from waiting
// at all until the receiver makes progress. Stall is the channel the caller
// waited on: a newer episode is left alone.
func (o *outbound) markStuck(stall chan struct{}) {
	o.mu.Lock()
	if o.stall == stall {
		o.stuck.Store(true)
		o.wakeStalled()
	}
	o.mu.Unlock()
}

// delivered returns how many bytes of this queue the peer has taken: what
// the kernel accepted minus what still waits in the socket's send queue,
// where the platform tells (Linux). Elsewhere it counts bytes handed to the
// kernel, which takes more only as the peer reads.
func (o *outbound) delivered() int64 {
	sent := o.sent.Load()
	if o.raw != nil {
		if q, ok := sendQueued(o.raw); ok {
			return sent - int64(q)
		}
	}
	return sent
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
	if o.stall != nil && o.pending <= o.stallAt() {
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
	vec  []syscall.Iovec
	pw   progressWriter

	progress func(int) // o.noteSent, bound once
}

// write writes bufs within deadline and returns the chunks to the pool.
// On a plain socket it loops over writev itself, reporting every partial
// write to o; otherwise (TLS) it reports each chunk written.
func (w *writer) write(o *outbound, conn net.Conn, bufs [][]byte, deadline time.Duration) error {
	err := conn.SetWriteDeadline(time.Now().Add(deadline))
	if err == nil {
		if haveWritev && o.raw != nil { // raw is the plain socket conn is
			if w.progress == nil {
				w.progress = o.noteSent
			}
			_, err = writevAll(o.raw, bufs, &w.vec, w.progress)
		} else {
			w.base = append(w.base[:0], bufs...)
			w.iov = w.base
			w.pw = progressWriter{w: conn, o: o}
			_, err = w.iov.WriteTo(&w.pw)
			w.pw = progressWriter{}
		}
	}
	for i := range bufs {
		putChunk(bufs[i])
		bufs[i] = nil
	}
	w.free = bufs[:0]
	return err
}

// progressWriter reports each write to a connection without writev
// (TLS) as progress.
type progressWriter struct {
	w io.Writer
	o *outbound
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.o.noteSent(n)
	return n, err
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
	o.noteSent(wrote)
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
