package core

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/proto"
)

// A connection is a transport carrying a protocol. The transport is what
// every kind of connection shares: the socket, the read loop and its
// buffer, the outbound queue and its writer, deadlines, pings, the close
// sequence and the counters. The protocol (client.go for clients; routes
// will be another) parses what the read loop reads, decides what to
// queue, and owns the connection's subscriptions.

// peer is the protocol side of a connection, as its transport sees it.
type peer interface {
	// processInput handles every complete operation in buf[start:end]
	// and returns where the unparsed remainder begins.
	processInput(buf []byte, start, end int) int
	// endBatch runs after each read's operations.
	endBatch()
	// want is how many bytes the operation being parsed needs in all
	// (0 when unknown), so the read buffer can grow to hold it.
	want() int
	// close ends the connection for reason: it drops the protocol's
	// state, then calls transport.shutdown. Later calls do nothing.
	close(reason closeReason)
	// finish runs once, after the writer has closed the socket.
	finish()
	// timing is the connection's ping interval, how many PINGs may go
	// unanswered, and its write deadline: the client settings, or the
	// cluster's for a route. Read at each use, so reloads apply.
	timing() (pingInterval time.Duration, pingMax int, writeDeadline time.Duration)
}

// Read buffer sizes: small for idle connections, doubled while reads fill
// it, halved after a run of short reads.
const (
	minReadBuf     = 512
	maxReadBuf     = 64 * 1024
	shortsToShrink = 4
)

// transport is one connection's socket and queues. Its fields are set
// before the loops start, or are atomics, or are guarded as noted.
type transport struct {
	srv     *Server
	p       peer
	cid     uint64
	conn    net.Conn // what the loops read and write: the TCP socket, or TLS over it
	netConn net.Conn // the TCP socket, for deadlines and closing; nil for in-process clients
	log     *slog.Logger
	host    string
	port    int
	start   time.Time

	out outbound

	closing       atomic.Bool
	slowCounted   atomic.Bool // counted as a slow consumer (countSlow)
	lingerOnClose atomic.Bool // the close follows an -ERR the peer should get to read

	inMsgs, inBytes atomic.Int64
	lastIn          atomic.Int64 // unix nanos of the last PUB, SUB, UNSUB or PING
	pingsOut        atomic.Int32
	rttStart        atomic.Int64 // unix nanos a PING was sent for RTT, 0 when none
	rtt             atomic.Int64 // last measured round trip in nanoseconds
	rttAt           atomic.Int64 // unix nanos of that measurement

	timerMu   sync.Mutex // the timers below, and the protocol's own
	pingTimer *time.Timer
}

// readLoop reads until the connection closes, handing the input to the
// protocol.
func (t *transport) readLoop() {
	defer t.srv.wg.Done()
	buf := make([]byte, minReadBuf)
	start, end, shorts := 0, 0, 0
	// The ping timer finds stale peers; this deadline is a backstop so that
	// no read can block forever. It is pushed forward as data arrives, at
	// most every refresh, so the timer always acts first.
	interval, pingMax, _ := t.p.timing()
	idle := interval * time.Duration(pingMax+2)
	refresh := min(time.Second, idle/4)
	var deadlineSet time.Time
	for {
		if now := time.Now(); now.Sub(deadlineSet) > refresh {
			if err := t.conn.SetReadDeadline(now.Add(idle)); err != nil {
				t.p.close(reasonReadError)
				return
			}
			deadlineSet = now
		}
		n, err := t.conn.Read(buf[end:])
		if n > 0 {
			full := end+n == len(buf)
			end += n
			start = t.p.processInput(buf, start, end)
			t.p.endBatch()
			if t.closing.Load() {
				return
			}
			// Keep the unparsed tail of a split operation at the front.
			if start == end {
				start, end = 0, 0
			} else if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			}
			buf, shorts = resizeReadBuf(buf, end, full, shorts, t.p.want())
		}
		if err != nil {
			if t.closing.Load() {
				return
			}
			reason := reasonReadError
			if errors.Is(err, io.EOF) {
				reason = reasonClientClosed
			} else if errors.Is(err, os.ErrDeadlineExceeded) {
				reason = reasonStaleConnection
			}
			t.p.close(reason)
			return
		}
	}
}

// resizeReadBuf grows the read buffer when reads fill it or an operation
// needs more room than it has (want), and shrinks it after a run of short
// reads.
func resizeReadBuf(buf []byte, used int, full bool, shorts, want int) ([]byte, int) {
	size := len(buf)
	switch {
	case want > len(buf):
		// A message larger than the buffer: make room for all of it. The
		// parser bounds its want by max_payload before asking.
		size = want
	case full || used == len(buf):
		if len(buf) < maxReadBuf || used == len(buf) {
			size = 2 * len(buf)
		}
		shorts = 0
	case used == 0 && len(buf) > minReadBuf:
		if shorts++; shorts > shortsToShrink {
			size = max(len(buf)/2, minReadBuf)
			if len(buf) > maxReadBuf {
				size = maxReadBuf
			}
			shorts = 0
		}
	}
	if size == len(buf) {
		return buf, shorts
	}
	nb := make([]byte, size)
	copy(nb, buf[:used])
	return nb, shorts
}

// writeLoop writes the outbound queue until the connection closes, then
// closes the socket and lets the protocol finish.
func (t *transport) writeLoop() {
	defer t.srv.wg.Done()
	var w writer
	_, _, deadline := t.p.timing()
	for range t.out.kick {
		t.out.mu.Lock()
		if t.out.writing {
			// A producer is writing inline; it kicks again when done.
			t.out.mu.Unlock()
			continue
		}
		bufs, n := t.out.take(w.free)
		closed := t.out.closed
		t.out.writing = n > 0
		t.out.mu.Unlock()
		if n > 0 {
			err := w.write(&t.out, t.conn, bufs, deadline)
			t.out.mu.Lock()
			t.out.writing = false
			t.out.written(n)
			t.out.mu.Unlock()
			if err != nil {
				reason := reasonWriteError
				if errors.Is(err, os.ErrDeadlineExceeded) {
					reason = reasonSlowConsumerWriteDeadline
					t.countSlow()
					t.log.Info("slow consumer detected: write deadline exceeded", "deadline", deadline)
				}
				t.p.close(reason)
				closed = true
			}
		}
		if closed {
			// shutdown stopped new appends; anything queued before that
			// is already written or dropped.
			if t.lingerOnClose.Load() {
				lingerClose(t.conn)
			}
			t.conn.Close()
			t.p.finish()
			return
		}
	}
}

// shutdown is the transport's part of a close, after the protocol
// dropped its state: with flush, the writer sends what is queued (bounded
// by the write deadline) and then closes the socket; without, queued data
// is dropped and the socket closed at once.
func (t *transport) shutdown(flush bool) {
	t.stopPingTimer()
	t.out.mu.Lock()
	if flush {
		t.out.closed = true
		t.out.wakeStalled()
	} else {
		t.out.release()
	}
	t.out.mu.Unlock()
	t.out.signal()
	// Wake the read loop; it sees closing and exits.
	_ = t.netConn.SetReadDeadline(time.Now())
	if !flush {
		// Unblock a writer stuck on a peer that does not read.
		_ = t.netConn.Close()
	}
}

func (t *transport) stopPingTimer() {
	t.timerMu.Lock()
	defer t.timerMu.Unlock()
	if t.pingTimer != nil {
		t.pingTimer.Stop()
	}
}

// send appends protocol bytes from any goroutine and kicks the writer.
func (t *transport) send(p []byte) {
	if t.appendProto(p) {
		t.out.signal()
	}
}

// appendProto queues a protocol line (PONG, +OK, -ERR, PING, INFO). It
// counts against max_pending like a message does: a peer that pipelines
// PINGs and never reads the PONGs is a slow consumer, and is cut off as one
// instead of growing its queue without end.
func (t *transport) appendProto(p []byte) bool {
	o := &t.out
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	o.appendLocked(p)
	over := o.pending > o.maxPending
	o.mu.Unlock()
	if over {
		t.slowConsumer()
		return false
	}
	return true
}

// sendErrAndClose queues -ERR text and closes for reason, lingering so
// the peer gets to read it.
func (t *transport) sendErrAndClose(text string, reason closeReason) {
	t.lingerOnClose.Store(true)
	t.send(proto.ErrLine(text))
	t.p.close(reason)
}

// gotPong takes the peer's PONG: nothing is outstanding any more, and the
// round trip of the PING that measured it is known.
func (t *transport) gotPong() {
	t.pingsOut.Store(0)
	if start := t.rttStart.Swap(0); start != 0 {
		now := time.Now().UnixNano()
		t.rtt.Store(now - start)
		t.rttAt.Store(now)
	}
}

// countSlow counts a slow consumer, in all and by kind of connection,
// once per connection: several producers can find it over its limit at
// the same moment.
func (t *transport) countSlow() {
	if !t.slowCounted.CompareAndSwap(false, true) {
		return
	}
	t.srv.stats.slowConsumers.Add(1)
	if _, ok := t.p.(*route); ok {
		t.srv.stats.slowRoutes.Add(1)
	}
}

func (t *transport) slowConsumer() {
	t.countSlow()
	t.log.Info("slow consumer detected: max pending exceeded", "max_pending", t.srv.getOpts().MaxPending)
	t.p.close(reasonSlowConsumerPendingBytes)
}

// firstPingMax bounds the delay of the first PING after CONNECT, which
// measures the round trip for /connz; nats-server sends it after about two
// seconds too.
const firstPingMax = 2 * time.Second

// rttRefresh is how old a round-trip measurement may get before activity
// alone no longer spares a client the PING.
const rttRefresh = time.Hour

// armFirstPing replaces the accept-time ping timer once CONNECT is in.
func (t *transport) armFirstPing() {
	d := min(t.srv.getOpts().PingInterval, firstPingMax)
	d += time.Duration(rand.Int64N(int64(d)/5 + 1))
	t.timerMu.Lock()
	if t.pingTimer != nil && !t.closing.Load() {
		t.pingTimer.Reset(d)
	}
	t.timerMu.Unlock()
}

// pingTick runs every ping interval. A peer that published, subscribed
// or pinged during the interval, and whose round trip is known, has shown
// it is alive and gets no PING. Otherwise it gets one, unless PingMax are
// already unanswered: then it is stale and closed.
func (t *transport) pingTick() {
	if t.closing.Load() {
		return
	}
	interval, pingMax, _ := t.p.timing()
	now := time.Now()
	active := now.Sub(time.Unix(0, t.lastIn.Load())) < interval
	fresh := now.Sub(time.Unix(0, t.rttAt.Load())) < rttRefresh
	if !active || !fresh {
		if int(t.pingsOut.Load())+1 > pingMax {
			t.log.Debug("stale connection")
			t.sendErrAndClose(proto.ErrTextStaleConnection, reasonStaleConnection)
			return
		}
		t.pingsOut.Add(1)
		t.rttStart.CompareAndSwap(0, now.UnixNano())
		t.send(proto.PingLine)
	}
	t.timerMu.Lock()
	if t.pingTimer != nil && !t.closing.Load() {
		t.pingTimer.Reset(interval)
	}
	t.timerMu.Unlock()
}
