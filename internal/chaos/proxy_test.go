package chaos

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// target is a listener whose accepted connections the test takes in turn.
type target struct {
	ln    net.Listener
	conns chan net.Conn
}

func newTarget(t *testing.T) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ln: ln, conns: make(chan net.Conn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tg.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(tg.conns)
		for c := range tg.conns {
			c.Close()
		}
	})
	return tg
}

// next returns the next connection the target accepted.
func (tg *target) next(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-tg.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(Timeout):
		t.Fatal("the target accepted no connection")
		return nil
	}
}

func newProxy(t *testing.T, tg *target, opts *ProxyOptions) *Proxy {
	t.Helper()
	p, err := NewProxy(tg.ln.Addr().String(), 1, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send writes b to c within the harness's bound.
func send(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// expect reads exactly want from c.
func expect(t *testing.T, c net.Conn, want []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading %d bytes: %v", len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// expectClosed reads from c until it ends, and returns what came first.
func expectClosed(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(Timeout))
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("waiting for the connection to close: %v", err)
	}
	return b
}

func TestProxyForwards(t *testing.T) {
	tg := newTarget(t)
	p := newProxy(t, tg, &ProxyOptions{ChunkSize: 7}) // small chunks: many reads
	c := dial(t, p.Addr())
	s := tg.next(t)
	big := bytes.Repeat([]byte("0123456789"), 1000)
	send(t, c, big)
	expect(t, s, big)
	send(t, s, []byte("pong"))
	expect(t, c, []byte("pong"))
	st := p.Stats()
	if st.Accepted != 1 || st.Forwarded[ToTarget] != int64(len(big)) || st.Forwarded[FromTarget] != 4 {
		t.Fatalf("stats %+v", st)
	}
	// The target closing ends the client's side too.
	s.Close()
	expectClosed(t, c)
	Eventually(t, Timeout, "the proxy to forget the connection", func() bool { return p.Conns() == 0 })
}

func TestProxyCutAndHeal(t *testing.T) {
	tg := newTarget(t)
	p := newProxy(t, tg, nil)
	c := dial(t, p.Addr())
	s := tg.next(t)
	send(t, c, []byte("a"))
	expect(t, s, []byte("a"))

	p.Cut()
	expectClosed(t, c)
	expectClosed(t, s)
	// New connections are accepted and closed at once.
	c2 := dial(t, p.Addr())
	expectClosed(t, c2)
	if st := p.Stats(); st.Refused < 1 {
		t.Fatalf("no refusal counted: %+v", st)
	}

	p.Heal()
	c3 := dial(t, p.Addr())
	s3 := tg.next(t)
	send(t, c3, []byte("b"))
	expect(t, s3, []byte("b"))
}

func TestProxyBlackhole(t *testing.T) {
	for _, d := range []Direction{ToTarget, FromTarget} {
		t.Run(d.String(), func(t *testing.T) {
			tg := newTarget(t)
			p := newProxy(t, tg, nil)
			c := dial(t, p.Addr())
			s := tg.next(t)
			p.Blackhole(d)
			// The blackholed way loses a message (counted before it could
			// be queued, so it never arrives); the other way carries its
			// own, so the connection is still open after the loss.
			from, to := c, s
			if d == FromTarget {
				from, to = s, c
			}
			send(t, from, []byte("lost"))
			Eventually(t, Timeout, "the bytes to be discarded", func() bool { return p.Stats().Discarded[d] == 4 })
			send(t, to, []byte("kept"))
			expect(t, from, []byte("kept"))
			if p.Conns() != 1 {
				t.Fatalf("%d connections, want the blackholed one open", p.Conns())
			}
			// Heal ends the connection whose stream has a hole.
			p.Heal()
			expectClosed(t, c)
		})
	}
}

func TestProxyDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	tg := newTarget(t)
	p := newProxy(t, tg, nil)
	c := dial(t, p.Addr())
	s := tg.next(t)
	p.Delay(ToTarget, delay)
	start := time.Now()
	for _, m := range []string{"one", "two", "three"} {
		send(t, c, []byte(m))
	}
	expect(t, s, []byte("onetwothree"))
	// A lower bound only: the bytes cannot be early.
	if el := time.Since(start); el < delay {
		t.Fatalf("delayed bytes arrived after %v, before the %v delay", el, delay)
	}
	// The other way is not delayed, and a delay of 0 ends the fault.
	p.Delay(ToTarget, 0)
	send(t, s, []byte("back"))
	expect(t, c, []byte("back"))
}

func TestProxyDrop(t *testing.T) {
	tg := newTarget(t)
	p := newProxy(t, tg, nil)
	c := dial(t, p.Addr())
	s := tg.next(t)
	p.Drop(1)
	msg := bytes.Repeat([]byte("x"), 1000)
	send(t, c, msg)
	got := expectClosed(t, s)
	expectClosed(t, c)
	if len(got) >= len(msg) {
		t.Fatalf("the whole chunk went through a certain drop")
	}
	if st := p.Stats(); st.Drops != 1 {
		t.Fatalf("stats %+v, want one drop", st)
	}
	p.Drop(0)
	c2 := dial(t, p.Addr())
	s2 := tg.next(t)
	send(t, c2, msg)
	expect(t, s2, msg)
}

func TestProxyMaxConns(t *testing.T) {
	tg := newTarget(t)
	p := newProxy(t, tg, &ProxyOptions{MaxConns: 1})
	dial(t, p.Addr())
	tg.next(t)
	Eventually(t, Timeout, "one connection through", func() bool { return p.Conns() == 1 })
	expectClosed(t, dial(t, p.Addr()))
}

func TestProxyDialFailure(t *testing.T) {
	r, err := newRefuser()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := NewProxy(r.Addr(), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	expectClosed(t, dial(t, p.Addr()))
	Eventually(t, Timeout, "the dial failure to be counted", func() bool { return p.Stats().DialFailures == 1 })
}

// TestProxyCloseLeaksNothing: Close ends every goroutine the proxy
// started, whatever its connections were doing: idle, delayed, blocked
// writing to a peer that does not read, or blackholed.
func TestProxyCloseLeaksNothing(t *testing.T) {
	tg := newTarget(t)
	p, err := NewProxy(tg.ln.Addr().String(), 9, &ProxyOptions{QueueLen: 2, ChunkSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	idle := dial(t, p.Addr())
	tg.next(t)
	// A target that never reads: the proxy's writer blocks and its queue
	// fills.
	stuck := dial(t, p.Addr())
	tg.next(t)
	go func() {
		stuck.SetWriteDeadline(time.Now().Add(Timeout))
		stuck.Write(make([]byte, 8<<20))
	}()
	p.Delay(FromTarget, time.Hour)
	held := dial(t, p.Addr())
	send(t, tg.next(t), []byte("held for an hour"))
	Eventually(t, Timeout, "three connections", func() bool { return p.Conns() == 3 })
	Eventually(t, Timeout, "the stuck writer to fill its queue", func() bool {
		return p.Stats().Forwarded[ToTarget] > 1<<20
	})
	_ = idle
	_ = held
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// Close has waited for every goroutine to call Done; one may still be
	// on its way out of its last frame.
	var left string
	if err := poll(Timeout, func() bool { left = proxyGoroutines(); return left == "" }); err != nil {
		t.Fatalf("goroutines left after Close:\n%s", left)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// proxyGoroutines returns the stacks of goroutines running the proxy's
// code, "" when there are none.
func proxyGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "chaos.(*pipe)") || strings.Contains(g, "chaos.(*Proxy)") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}
