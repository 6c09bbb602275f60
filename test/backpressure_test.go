package test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"

	"github.com/starling-mq/starling/internal/slowreader"
)

// throttledSub is a raw TCP subscriber that reads steadily but slowly: at
// most rate bytes per second, in small reads. It counts the messages it
// parses and answers the server's PINGs.
type throttledSub struct {
	conn net.Conn
	msgs atomic.Int64
	err  atomic.Pointer[error]
	done chan struct{}
}

func startThrottledSub(t *testing.T, s *server.Server, subj string, rate float64) *throttledSub {
	t.Helper()
	rc := dialRaw(t, s)
	rc.send(connectQuiet + "SUB " + subj + " 1\r\n")
	rc.quiet()
	ts := &throttledSub{conn: rc.conn, done: make(chan struct{})}
	// What bufio already buffered after the PONG is read first.
	buffered := peekAll(rc.r)
	go func() {
		defer close(ts.done)
		if err := slowreader.Read(rc.conn, buffered, rate, &ts.msgs, nil); err != nil {
			ts.err.Store(&err)
		}
	}()
	return ts
}

func peekAll(r *bufio.Reader) []byte {
	b, _ := r.Peek(r.Buffered())
	return append([]byte(nil), b...)
}

func (ts *throttledSub) lastErr() error {
	if p := ts.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (ts *throttledSub) stop(t *testing.T) {
	ts.conn.Close()
	<-ts.done
	if p := ts.err.Load(); p != nil && !errors.Is(*p, net.ErrClosed) {
		t.Logf("throttled subscriber ended: %v", *p)
	}
}

// slowConsumers reads the server's slow-consumer count from /varz.
func slowConsumers(t *testing.T, s *server.Server) int64 {
	var v struct {
		SlowConsumers int64 `json:"slow_consumers"`
	}
	getJSON(t, s.MonitorURL()+"/varz", &v)
	return v.SlowConsumers
}

// publishAll runs pubs nats.go publishers, each sending n messages of
// random sizes in [minSize, maxSize] on subj, and waits for them.
func publishAll(t *testing.T, s *server.Server, subj string, pubs, n, minSize, maxSize int) int64 {
	t.Helper()
	var wg sync.WaitGroup
	var bytesSent atomic.Int64
	errs := make(chan error, pubs)
	for p := range pubs {
		nc := connect(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(p), 7))
			buf := make([]byte, maxSize)
			for i := range n {
				size := minSize + rng.IntN(maxSize-minSize+1)
				if err := nc.Publish(subj, buf[:size]); err != nil {
					errs <- fmt.Errorf("publisher %d message %d: %w", p, i, err)
					return
				}
				bytesSent.Add(int64(size))
			}
			if err := nc.FlushTimeout(2 * time.Minute); err != nil {
				errs <- fmt.Errorf("publisher %d flush: %w", p, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return bytesSent.Load()
}

// TestBackpressureSteadyReaders: publishers faster than their subscribers
// are slowed to the subscribers' pace; no subscriber that keeps reading is
// cut off, however small max_pending is. Two throttled raw readers and a
// nats.go subscriber with a slow handler share the subject.
func TestBackpressureSteadyReaders(t *testing.T) {
	cases := []struct {
		name             string
		maxPayload       int
		maxPending       int
		pubs, n          int
		minSize, maxSize int
		rate             float64 // bytes per second each throttled reader takes
	}{
		{"small", 64 * 1024, 256 * 1024, 4, 3000, 16, 1024, 4 << 20},
		{"large", 1 << 20, 4 << 20, 2, 24, 64 * 1024, 1 << 20, 16 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, func(o *serverOptions) {
				o.HTTPPort = server.RandomPort
				o.MaxPayload = tc.maxPayload
				o.MaxPending = tc.maxPending
			})
			slow := []*throttledSub{
				startThrottledSub(t, s, "bp", tc.rate),
				startThrottledSub(t, s, "bp", tc.rate/2),
			}
			handler := connect(t, s)
			var got atomic.Int64
			sub, err := handler.Subscribe("bp", func(*nats.Msg) {
				if got.Add(1)%500 == 0 {
					time.Sleep(time.Millisecond) // a handler that falls behind now and then
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			sub.SetPendingLimits(-1, -1)
			handler.Flush()

			sent := publishAll(t, s, "bp", tc.pubs, tc.n, tc.minSize, tc.maxSize)
			want := int64(tc.pubs * tc.n)
			eventually(t, 2*time.Minute, func() bool {
				for _, ts := range slow {
					if ts.msgs.Load() != want && ts.err.Load() == nil {
						return false
					}
				}
				return got.Load() == want
			}, "every subscriber to get every message")
			for i, ts := range slow {
				if n := ts.msgs.Load(); n != want {
					t.Errorf("throttled subscriber %d got %d of %d messages (%v)", i, n, want, ts.lastErr())
				}
				ts.stop(t)
			}
			if n := slowConsumers(t, s); n != 0 {
				t.Errorf("slow_consumers = %d, want 0", n)
			}
			t.Logf("%d messages, %d bytes, through subscribers taking %.0f and %.0f B/s", want, sent, tc.rate, tc.rate/2)
		})
	}
}

// TestBackpressureStuckReaderCut: a subscriber that stops reading is cut
// off as a slow consumer at max_pending, and the publishers, after waiting
// for it a bounded time, go on delivering everything to the subscriber
// that reads.
func TestBackpressureStuckReaderCut(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.HTTPPort = server.RandomPort
		o.MaxPayload = 64 * 1024
		o.MaxPending = 1 << 20
		o.WriteDeadline = 5 * time.Minute // max_pending is what cuts it
	})
	stuck := dialRaw(t, s)
	stuck.conn.(*net.TCPConn).SetReadBuffer(4096)
	stuck.send(connectQuiet + "SUB bp 1\r\n")
	stuck.quiet()
	// From here on it reads nothing.

	healthy := connect(t, s)
	var got atomic.Int64
	sub, err := healthy.Subscribe("bp", func(*nats.Msg) { got.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	healthy.Flush()

	// 3 x 12,000 x ~520 B: about 18 MB, far past what the stuck socket's
	// buffers and its max_pending hold.
	const pubs, n = 3, 12000
	publishAll(t, s, "bp", pubs, n, 16, 1024)
	eventually(t, 2*time.Minute, func() bool { return got.Load() == pubs*n }, "healthy subscriber to get everything")
	if n := slowConsumers(t, s); n != 1 {
		t.Errorf("slow_consumers = %d, want 1", n)
	}
	expectClosedFor(t, s, "Slow Consumer (Pending Bytes)")
}

// TestPingFloodCut: PONG counts against max_pending like a message. A
// client that pipelines PINGs and never reads is cut off as a slow
// consumer (without an -ERR, as nats-server does), instead of growing its
// queue without end.
func TestPingFloodCut(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.HTTPPort = server.RandomPort
		o.MaxPayload = 64 * 1024
		o.MaxPending = 1 << 20
		o.WriteDeadline = 5 * time.Minute
	})
	rc := dialRaw(t, s)
	rc.conn.(*net.TCPConn).SetReadBuffer(4096)
	rc.send(connectQuiet)
	block := bytes.Repeat([]byte("PING\r\n"), 10000)
	// At most 64 MB of PINGs: the PONGs for them would be as many bytes.
	cut := false
	for range 64 << 20 / len(block) {
		rc.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := rc.conn.Write(block); err != nil {
			cut = true
			break
		}
	}
	if !cut {
		// Every PING was taken: the server must have closed the
		// connection by now (reads end), or it did not count the PONGs.
		rc.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.Copy(io.Discard, rc.conn); err != nil && !isReset(err) {
			t.Fatalf("the flooding client was not cut: %v", err)
		}
	}
	eventually(t, 30*time.Second, func() bool { return slowConsumers(t, s) == 1 }, "the flooding client to count as a slow consumer")
	expectClosedFor(t, s, "Slow Consumer (Pending Bytes)")
}

// TestSysQueueGroupRefused: the queue group _sys_ is the server's; a
// client's SUB in it is refused with a permissions violation (the exact
// bytes nats-server 2.9 and 2.11 send), the connection stays, and the
// subscription does not exist.
func TestSysQueueGroupRefused(t *testing.T) {
	s := startServer(t)
	rc := dialRaw(t, s)
	rc.send(connectQuiet + "SUB foo _sys_ 1\r\nSUB foo _SYS_ 2\r\nPING\r\n")
	rc.expect("-ERR 'Permissions Violation for Subscription to \"foo\" using queue \"_sys_\"'\r\nPONG\r\n")
	rc.send("PUB foo 2\r\nhi\r\nPING\r\n")
	// Only sid 2 (the group is case-sensitive) gets it.
	rc.expect("MSG foo 2 2\r\nhi\r\nPONG\r\n")
}

// expectClosedFor waits for exactly one closed connection in /connz, closed
// for reason.
func expectClosedFor(t *testing.T, s *server.Server, reason string) {
	t.Helper()
	var connz struct {
		Conns []struct {
			Reason string `json:"reason"`
		} `json:"connections"`
	}
	eventually(t, 30*time.Second, func() bool {
		getJSON(t, s.MonitorURL()+"/connz?state=closed", &connz)
		return len(connz.Conns) > 0
	}, "a closed connection in /connz")
	if len(connz.Conns) != 1 || connz.Conns[0].Reason != reason {
		t.Errorf("closed connections: %+v, want one closed for %q", connz.Conns, reason)
	}
}
