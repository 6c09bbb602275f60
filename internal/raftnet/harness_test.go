package raftnet

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventually polls cond until it holds or the bound passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// inbox collects what a transport's handler receives.
type inbox struct {
	mu   sync.Mutex
	msgs []Envelope
}

func (b *inbox) handle(msgs []Envelope) {
	b.mu.Lock()
	b.msgs = append(b.msgs, msgs...)
	b.mu.Unlock()
}

func (b *inbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

func (b *inbox) snapshot() []Envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Envelope(nil), b.msgs...)
}

// servedListener accepts loopback connections and hands them to a
// transport's Serve.
type servedListener struct {
	ln   net.Listener
	wg   sync.WaitGroup
	once sync.Once
}

func newServedListener(tb testing.TB, addr string) *servedListener {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	return &servedListener{ln: ln}
}

func (l *servedListener) serve(tr *Transport) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := l.ln.Accept()
			if err != nil {
				return
			}
			if tr.Serve(c) != nil {
				return
			}
		}
	}()
}

func (l *servedListener) close() {
	l.once.Do(func() {
		l.ln.Close()
		l.wg.Wait()
	})
}

// node is a transport with a loopback listener whose connections it serves.
type node struct {
	tr    *Transport
	ln    *servedListener
	in    *inbox
	close sync.Once
}

// testOptions are short timeouts so failures are found fast in tests.
func testOptions(id uint64) Options {
	return Options{
		ServerID:          "s" + string(rune('a'+id)),
		NodeID:            id,
		QueueLen:          1 << 15,
		WriteTimeout:      2 * time.Second,
		ReadTimeout:       3 * time.Second,
		KeepaliveInterval: 100 * time.Millisecond,
		BackoffMin:        5 * time.Millisecond,
		BackoffMax:        50 * time.Millisecond,
	}
}

// startNode starts a node listening on addr ("" for any loopback port).
func startNode(t *testing.T, id uint64, addr string, tweak func(*Options)) *node {
	t.Helper()
	n := &node{ln: newServedListener(t, addr), in: &inbox{}}
	opts := testOptions(id)
	opts.Handler = n.in.handle
	if tweak != nil {
		tweak(&opts)
	}
	var err error
	if n.tr, err = New(opts); err != nil {
		n.ln.close()
		t.Fatal(err)
	}
	n.ln.serve(n.tr)
	t.Cleanup(n.stop)
	return n
}

func (n *node) addr() string { return n.ln.ln.Addr().String() }

func (n *node) stop() {
	n.close.Do(func() {
		n.ln.close()
		n.tr.Close()
	})
}

func (n *node) peer(t *testing.T, id uint64) PeerStats {
	t.Helper()
	s, ok := n.tr.PeerStats(id)
	if !ok {
		t.Fatalf("no peer %d", id)
	}
	return s
}

func (n *node) connected(t *testing.T, id uint64) {
	t.Helper()
	eventually(t, 10*time.Second, "peer connected", func() bool { return n.peer(t, id).Connected })
}

// deadAddr returns a loopback address nothing listens on (for now).
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// noLeaks waits until no goroutine of this package's types is left.
func noLeaks(t *testing.T) {
	t.Helper()
	marks := []string{"raftnet.(*peer)", "raftnet.(*Transport).read", "raftnet.(*frameWriter)"}
	leaked := func() string {
		buf := make([]byte, 1<<20)
		all := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(all, "\n\n") {
			for _, m := range marks {
				if strings.Contains(g, m) {
					return g
				}
			}
		}
		return ""
	}
	deadline := time.Now().Add(10 * time.Second)
	for g := leaked(); g != ""; g = leaked() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutine left after Close:\n%s", g)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawListener accepts connections and never reads them.
type rawListener struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newRawListener(t *testing.T) *rawListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rawListener{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *rawListener) accepted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

func (r *rawListener) close() {
	if errors.Is(r.ln.Close(), net.ErrClosed) {
		return
	}
	r.wg.Wait()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
}
