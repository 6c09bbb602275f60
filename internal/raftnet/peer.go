package raftnet

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// peer is the outbound half of one pair of servers: a bounded queue filled
// by Send and one writer goroutine that dials, writes the hello, then writes
// whatever is queued as one frame per write.
type peer struct {
	t    *Transport
	id   uint64
	addr string
	log  *slog.Logger

	kick    chan struct{} // capacity 1: "the queue is not empty"
	done    chan struct{} // closed when run returns
	ctx     context.Context
	cancel  context.CancelFunc
	stopped chan struct{}

	mu        sync.Mutex
	queue     []Envelope // at most t.opts.QueueLen
	spare     []Envelope // the writer's previous queue, reused
	connected bool
	conn      net.Conn // the live connection, closed by stop to end a write at once
	halted    bool

	sent, dropped, frames, reconnects atomic.Uint64
}

func newPeer(t *Transport, id uint64, addr string) *peer {
	ctx, cancel := context.WithCancel(context.Background())
	return &peer{
		t: t, id: id, addr: addr,
		log:     t.log.With("peer", id),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		ctx:     ctx,
		cancel:  cancel,
	}
}

// enqueue adds messages without blocking, dropping what does not fit.
func (p *peer) enqueue(msgs []Envelope) {
	p.mu.Lock()
	var drop int
	if !p.connected {
		drop = len(msgs)
	} else {
		room := p.t.opts.QueueLen - len(p.queue)
		take := min(room, len(msgs))
		p.queue = append(p.queue, msgs[:take]...)
		drop = len(msgs) - take
	}
	p.mu.Unlock()
	if drop > 0 {
		p.dropped.Add(uint64(drop))
	}
	if drop < len(msgs) {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// stop ends the writer: it cancels a dial in progress and closes the live
// connection, so a blocked write returns at once. It does not wait.
func (p *peer) stop() {
	p.mu.Lock()
	if !p.halted {
		p.halted = true
		close(p.stopped)
		if p.conn != nil {
			p.conn.Close()
		}
	}
	p.mu.Unlock()
	p.cancel()
}

func (p *peer) stats() PeerStats {
	p.mu.Lock()
	depth, connected := len(p.queue), p.connected
	p.mu.Unlock()
	return PeerStats{
		NodeID: p.id, Addr: p.addr, Connected: connected,
		Sent: p.sent.Load(), Dropped: p.dropped.Load(), Frames: p.frames.Load(),
		Reconnects: p.reconnects.Load(), QueueDepth: depth,
	}
}

// run dials, serves a connection until it fails, waits a backoff, and
// again, until stopped.
func (p *peer) run() {
	defer close(p.done)
	defer p.cancel()
	bo := backoff{min: p.t.opts.BackoffMin, max: p.t.opts.BackoffMax}
	first := true
	for {
		conn, err := p.dial()
		if err == nil {
			if !first {
				p.reconnects.Add(1)
			}
			first = false
			began := time.Now()
			err = p.serve(conn)
			// A connection that lived long was healthy: its end starts
			// a fresh backoff. One that died young (a peer refusing our
			// hello) keeps backing off.
			if time.Since(began) > p.t.opts.BackoffMax {
				bo.reset()
			}
		}
		if p.isStopped() {
			return
		}
		wait := bo.next(rand.Float64())
		p.log.Debug("raft connection down", "addr", p.addr, "err", err, "retry_in", wait)
		timer := time.NewTimer(wait)
		select {
		case <-p.stopped:
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

func (p *peer) isStopped() bool {
	select {
	case <-p.stopped:
		return true
	default:
		return false
	}
}

func (p *peer) dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.t.opts.DialTimeout)
	defer cancel()
	return p.t.opts.Dial(ctx, p.id, p.addr)
}

// serve writes the hello and then the queue to conn until a write fails or
// the peer stops. Messages still queued when it ends are dropped: they are
// stale by the next connection, and raft resends what matters.
func (p *peer) serve(conn net.Conn) error {
	p.mu.Lock()
	if p.halted {
		p.mu.Unlock()
		conn.Close()
		return errStopped
	}
	p.conn = conn
	p.mu.Unlock()

	w := &frameWriter{p: p, conn: conn}
	err := w.write(AppendHello(w.buf[:0], Hello{Version: Version, ServerID: p.t.opts.ServerID, NodeID: p.t.opts.NodeID}))
	if err == nil {
		p.setConnected(true)
		err = w.loop()
	}
	p.mu.Lock()
	p.conn = nil
	p.connected = false
	lost := len(p.queue)
	p.queue = p.queue[:0]
	p.mu.Unlock()
	p.dropped.Add(uint64(lost))
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	return err
}

var errStopped = errors.New("raftnet: peer stopped")

func (p *peer) setConnected(v bool) {
	p.mu.Lock()
	p.connected = v
	p.mu.Unlock()
}

// take swaps the queue out, handing the writer's previous slice back for
// reuse, so a steady stream allocates no queue memory.
func (p *peer) take(prev []Envelope) []Envelope {
	clear(prev) // let the sent messages be collected
	p.mu.Lock()
	q := p.queue
	p.queue = prev[:0]
	p.mu.Unlock()
	return q
}

// frameWriter is the state of one connection's writer.
type frameWriter struct {
	p         *peer
	conn      net.Conn
	buf       []byte
	batch     []Envelope
	lastWrite time.Time
}

func (w *frameWriter) write(b []byte) error {
	w.buf = b
	if err := w.conn.SetWriteDeadline(time.Now().Add(w.p.t.opts.WriteTimeout)); err != nil {
		return err
	}
	_, err := w.conn.Write(b)
	w.lastWrite = time.Now()
	// A rare huge frame does not pin its buffer for the life of the
	// connection.
	if cap(w.buf) > keepBuf {
		w.buf = nil
	}
	return err
}

func (w *frameWriter) loop() error {
	p := w.p
	tick := time.NewTicker(p.t.opts.KeepaliveInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.stopped:
			return errStopped
		case <-tick.C:
			if time.Since(w.lastWrite) >= p.t.opts.KeepaliveInterval/2 {
				if err := w.write(AppendKeepalive(w.buf[:0])); err != nil {
					return err
				}
			}
		case <-p.kick:
			w.batch = p.take(w.batch)
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
}

// flush writes w.batch as few frames as the frame size allows, one write
// each, so every write has its own deadline and a bounded size.
func (w *frameWriter) flush() error {
	p := w.p
	rest := w.batch
	for len(rest) > 0 {
		b, n, err := AppendBatch(w.buf[:0], rest, p.t.opts.MaxFrameSize)
		if errors.Is(err, ErrMessageTooLarge) {
			p.dropped.Add(1)
			p.log.Warn("raft message larger than a frame dropped", "type", rest[0].Msg.GetType().String(), "group", rest[0].Group)
			rest = rest[1:]
			continue
		}
		if err != nil {
			p.dropped.Add(uint64(len(rest)))
			return err
		}
		if err := w.write(b); err != nil {
			p.dropped.Add(uint64(len(rest)))
			return err
		}
		p.sent.Add(uint64(n))
		p.frames.Add(1)
		rest = rest[n:]
	}
	return nil
}
