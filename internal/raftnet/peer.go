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

	"go.etcd.io/raft/v3/raftpb"
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
	queue     []Envelope // at most t.opts.QueueLen messages
	queued    int        // approxSize of the queue, at most t.opts.QueueBytes
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

// enqueue adds messages without blocking, dropping what does not fit, and
// returns snaps with the dropped snapshots appended. A message whose From
// is not this node is dropped too: the receiver would close the connection
// over it.
func (p *peer) enqueue(msgs []Envelope, snaps []Envelope) []Envelope {
	var drop, took int
	p.mu.Lock()
	for _, e := range msgs {
		size := approxSize(e.Msg)
		if !p.connected || e.Msg.GetFrom() != p.t.opts.NodeID ||
			len(p.queue) >= p.t.opts.QueueLen || p.queued+size > p.t.opts.QueueBytes {
			drop++
			if e.Msg.GetType() == raftpb.MsgSnap {
				snaps = append(snaps, e)
			}
			continue
		}
		p.queue = append(p.queue, e)
		p.queued += size
		took++
	}
	p.mu.Unlock()
	if drop > 0 {
		p.dropped.Add(uint64(drop))
	}
	if took > 0 {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	return snaps
}

// approxSize is what a queued message is charged against the byte bound:
// its payloads plus a flat cost for the rest, cheaper than proto.Size and
// close enough for a bound.
func approxSize(m *raftpb.Message) int {
	n := 64 + len(m.GetContext()) + len(m.GetSnapshot().GetData())
	for _, e := range m.GetEntries() {
		n += 32 + len(e.GetData())
	}
	return n
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
		if f := p.t.opts.Unreachable; f != nil {
			f(p.id)
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
	conn, err := p.t.opts.Dial(ctx, p.id, p.addr)
	if err == nil && conn == nil {
		err = errors.New("raftnet: dial returned no connection")
	}
	return conn, err
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
		p.log.Debug("raft connection up", "addr", p.addr)
		err = w.loop()
	}
	p.mu.Lock()
	p.conn = nil
	p.connected = false
	lost := len(p.queue)
	snaps := appendSnaps(nil, p.queue)
	clear(p.queue)
	p.queue, p.queued = p.queue[:0], 0
	p.mu.Unlock()
	p.dropped.Add(uint64(lost))
	p.t.reportSnaps(snaps, false)
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
	p.queue, p.queued = prev[:0], 0
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
		if errors.Is(err, ErrMessageTooLarge) || errors.Is(err, ErrUnsendable) {
			p.dropped.Add(1)
			p.log.Warn("raft message dropped", "type", rest[0].Msg.GetType().String(), "group", rest[0].Group, "err", err)
			p.t.reportSnaps(rest[:1], false)
			rest = rest[1:]
			continue
		}
		if err == nil {
			err = w.write(b)
		}
		if err != nil {
			p.dropped.Add(uint64(len(rest)))
			p.t.reportSnaps(rest, false)
			return err
		}
		p.sent.Add(uint64(n))
		p.frames.Add(1)
		p.t.reportSnaps(rest[:n], true)
		rest = rest[n:]
	}
	return nil
}
