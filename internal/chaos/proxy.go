package chaos

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ProxyOptions bound a proxy's memory and I/O. Zero values mean the
// defaults.
type ProxyOptions struct {
	ChunkSize    int           // the most one read takes; default 32 KiB
	QueueLen     int           // chunks held per direction of a connection; default 64
	ReadIdle     time.Duration // a read's deadline, renewed while the proxy runs; default 1s
	WriteTimeout time.Duration // a write that takes longer ends the connection; default 20s
	DialTimeout  time.Duration // dialling the target; default 2s
	MaxConns     int           // connections at once; more are closed on accept; default 16
}

func (o ProxyOptions) withDefaults() ProxyOptions {
	if o.ChunkSize <= 0 {
		o.ChunkSize = 32 << 10
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 64
	}
	if o.ReadIdle <= 0 {
		o.ReadIdle = time.Second
	}
	if o.WriteTimeout <= 0 {
		// Longer than a server's own write deadline (10s by default), so
		// that a server stuck behind a stopped peer is detected by the
		// server, not by the proxy.
		o.WriteTimeout = 20 * time.Second
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	return o
}

// Stats counts what a proxy did.
type Stats struct {
	Accepted      int64    // connections let through
	Refused       int64    // connections closed on accept (cut, closing, too many)
	DialFailures  int64    // connections closed because the target did not answer
	Drops         int64    // connections ended by a drop
	WriteTimeouts int64    // connections ended by a write that timed out
	Forwarded     [2]int64 // bytes passed on, by Direction
	Discarded     [2]int64 // bytes thrown away (blackhole, the rest of a dropped chunk)
}

type counters struct {
	accepted, refused, dialFailures, drops, writeTimeouts atomic.Int64
	forwarded, discarded                                  [2]atomic.Int64
}

// Proxy is a loopback TCP proxy in front of one link between two
// servers: the dialling server connects to Addr instead of the target,
// and the proxy applies the link's Faults to every chunk it forwards.
// Every random choice comes from a generator seeded from the proxy's seed
// and the connection's index, so a scenario replays with its seed.
type Proxy struct {
	target string
	seed   uint64
	o      ProxyOptions
	ln     net.Listener
	wg     sync.WaitGroup // the accept loop and every pipe goroutine
	stats  counters
	bufs   sync.Pool // *[]byte of o.ChunkSize

	mu     sync.Mutex
	faults Faults
	pipes  map[*pipe]struct{}
	next   uint64 // index of the next connection, for its seed
	closed bool
}

// NewProxy listens on a loopback port and forwards every connection to
// target. opts may be nil.
func NewProxy(target string, seed uint64, opts *ProxyOptions) (*Proxy, error) {
	var o ProxyOptions
	if opts != nil {
		o = *opts
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy listen: %w", err)
	}
	p := &Proxy{target: target, seed: seed, o: o.withDefaults(), ln: ln, pipes: map[*pipe]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the address to dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Faults returns the faults in force.
func (p *Proxy) Faults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// Cut closes every connection and closes new ones on accept until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.faults.Cut = true
	victims := p.pipeList(func(*pipe) bool { return true })
	p.mu.Unlock()
	for _, c := range victims {
		c.close()
	}
}

// Blackhole throws away the bytes going way d; connections stay open.
func (p *Proxy) Blackhole(d Direction) {
	p.set(func(f *Faults) { f.Blackhole[d] = true })
}

// Delay holds every chunk going way d for delay before passing it on.
func (p *Proxy) Delay(d Direction, delay time.Duration) {
	if delay < 0 {
		panic(fmt.Sprintf("chaos: negative delay %v", delay))
	}
	p.set(func(f *Faults) { f.Delay[d] = delay })
}

// Drop makes every chunk, either way, end its connection with probability
// prob (a flapping link); 0 stops it.
func (p *Proxy) Drop(prob float64) {
	if err := checkProb(prob); err != nil {
		panic("chaos: " + err.Error())
	}
	p.set(func(f *Faults) { f.DropProb = prob })
}

// Heal removes every fault. Connections whose stream lost bytes to a
// blackhole are closed: a real network never delivers a stream with a
// hole, and the servers would only read garbage from them.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.faults = Faults{}
	victims := p.pipeList(func(c *pipe) bool { return c.holed.Load() })
	p.mu.Unlock()
	for _, c := range victims {
		c.close()
	}
}

func (p *Proxy) set(change func(*Faults)) {
	p.mu.Lock()
	change(&p.faults)
	p.mu.Unlock()
}

// Conns is the number of connections open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pipes)
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats {
	s := &p.stats
	out := Stats{
		Accepted: s.accepted.Load(), Refused: s.refused.Load(), DialFailures: s.dialFailures.Load(),
		Drops: s.drops.Load(), WriteTimeouts: s.writeTimeouts.Load(),
	}
	for d := range 2 {
		out.Forwarded[d], out.Discarded[d] = s.forwarded[d].Load(), s.discarded[d].Load()
	}
	return out
}

// Close stops the proxy: the listener and every connection are closed,
// and Close returns once all of the proxy's goroutines have ended.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	victims := p.pipeList(func(*pipe) bool { return true })
	p.mu.Unlock()
	err := p.ln.Close()
	for _, c := range victims {
		c.close()
	}
	p.wg.Wait()
	return err
}

// pipeList returns the pipes keep accepts. p.mu is held.
func (p *Proxy) pipeList(keep func(*pipe) bool) []*pipe {
	var out []*pipe
	for c := range p.pipes {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or similar: back off instead of spinning.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.admit(conn)
	}
}

// admit starts a pipe for conn, or closes conn when the link is cut, the
// proxy is closing or full.
func (p *Proxy) admit(conn net.Conn) {
	p.mu.Lock()
	if p.closed || p.faults.Cut || len(p.pipes) >= p.o.MaxConns {
		p.mu.Unlock()
		p.stats.refused.Add(1)
		conn.Close()
		return
	}
	c := &pipe{p: p, idx: p.next, down: conn, done: make(chan struct{})}
	p.next++
	p.pipes[c] = struct{}{}
	p.wg.Add(1) // under p.mu, with closed false: Close has not started waiting
	p.mu.Unlock()
	p.stats.accepted.Add(1)
	go c.run()
}

// remove forgets a closed pipe.
func (p *Proxy) remove(c *pipe) {
	p.mu.Lock()
	delete(p.pipes, c)
	p.mu.Unlock()
}

// current returns the faults in force, for one chunk.
func (p *Proxy) current() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// getBuf and putBuf recycle chunk buffers; the queues bound how many are
// out at once.
func (p *Proxy) getBuf() *[]byte {
	if b, ok := p.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, p.o.ChunkSize)
	return &b
}

func (p *Proxy) putBuf(b *[]byte) {
	if b != nil {
		p.bufs.Put(b)
	}
}
