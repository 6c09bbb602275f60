package chaos

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// pipe is one connection through a proxy: down is the accepted
// connection (from the dialling server), up the one to the target. Each
// direction has a reader, which judges every chunk, and a writer, which
// holds a chunk until it is due and writes it; between them a bounded
// queue. Closing the pipe closes both sockets, which ends all four
// goroutines wherever they are blocked.
type pipe struct {
	p     *Proxy
	idx   uint64
	down  net.Conn
	up    net.Conn // set once dialled, under p.p.mu
	done  chan struct{}
	once  sync.Once
	holed atomic.Bool // a blackhole took bytes out of a stream that stays open
}

// chunk is a run of bytes on its way, or the end of the stream.
type chunk struct {
	buf  *[]byte // from the proxy's pool; nil for the end marker
	n    int
	due  time.Time
	last bool // close the pipe once written
}

func (c *pipe) run() {
	defer c.p.wg.Done()
	up, err := net.DialTimeout("tcp", c.p.target, c.p.o.DialTimeout)
	if err != nil {
		c.p.stats.dialFailures.Add(1)
		c.close()
		return
	}
	c.p.mu.Lock()
	select {
	case <-c.done: // cut or closed while dialling
		c.p.mu.Unlock()
		up.Close()
		return
	default:
	}
	c.up = up
	c.p.mu.Unlock()
	qs := [2]chan chunk{make(chan chunk, c.p.o.QueueLen), make(chan chunk, c.p.o.QueueLen)}
	c.p.wg.Add(4)
	go c.read(ToTarget, c.down, qs[ToTarget])
	go c.write(ToTarget, c.up, qs[ToTarget])
	go c.read(FromTarget, c.up, qs[FromTarget])
	go c.write(FromTarget, c.down, qs[FromTarget])
}

// close ends the pipe once.
func (c *pipe) close() {
	c.once.Do(func() {
		c.p.mu.Lock()
		close(c.done)
		up := c.up
		c.p.mu.Unlock()
		c.down.Close()
		if up != nil {
			up.Close()
		}
		c.p.remove(c)
	})
}

// read judges every chunk read from src and queues what passes.
func (c *pipe) read(d Direction, src net.Conn, q chan<- chunk) {
	defer c.p.wg.Done()
	rng := NewRand(c.p.seed, c.idx, uint64(d))
	st := &c.p.stats
	for {
		buf := c.p.getBuf()
		_ = src.SetReadDeadline(time.Now().Add(c.p.o.ReadIdle))
		n, err := src.Read(*buf)
		if n > 0 {
			f := c.p.current()
			v := f.Judge(d, n, rng)
			st.forwarded[d].Add(int64(v.Pass))
			st.discarded[d].Add(int64(n - v.Pass))
			if v.Holes(n) {
				c.holed.Store(true)
			}
			if v.Close && !f.Cut {
				st.drops.Add(1)
			}
			ch := chunk{buf: buf, n: v.Pass, due: time.Now().Add(v.Delay), last: v.Close}
			if v.Pass == 0 {
				c.p.putBuf(buf)
				ch.buf = nil
			}
			if v.Pass > 0 || v.Close {
				if !c.enqueue(q, ch) || v.Close {
					return
				}
			}
		} else {
			c.p.putBuf(buf)
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				select {
				case <-c.done:
					return
				default:
					continue
				}
			}
			// The peer closed or the pipe did: the writer passes on what
			// is queued, then closes.
			c.enqueue(q, chunk{last: true})
			return
		}
	}
}

// enqueue waits for room in q, or for the pipe to close.
func (c *pipe) enqueue(q chan<- chunk, ch chunk) bool {
	select {
	case q <- ch:
		return true
	case <-c.done:
		if ch.buf != nil {
			c.p.putBuf(ch.buf)
		}
		return false
	}
}

// write passes each queued chunk on to dst once it is due.
func (c *pipe) write(d Direction, dst net.Conn, q <-chan chunk) {
	defer c.p.wg.Done()
	var timer *time.Timer
	for {
		var ch chunk
		select {
		case ch = <-q:
		case <-c.done:
			return
		}
		if wait := time.Until(ch.due); wait > 0 && ch.n > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-timer.C:
			case <-c.done:
				c.p.putBuf(ch.buf)
				return
			}
		}
		if ch.n > 0 {
			_ = dst.SetWriteDeadline(time.Now().Add(c.p.o.WriteTimeout))
			_, err := dst.Write((*ch.buf)[:ch.n])
			c.p.putBuf(ch.buf)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					c.p.stats.writeTimeouts.Add(1)
				}
				c.close()
				return
			}
		}
		if ch.last {
			c.close()
			return
		}
	}
}
