package test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestLameDuck: clients are told (the client library's lame-duck callback
// fires), then closed one by one, and the server shuts down.
func TestLameDuck(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.LameDuckDuration = 600 * time.Millisecond
		o.LameDuckGracePeriod = 100 * time.Millisecond
	})
	const n = 4
	var told, closed atomic.Int32
	for i := 0; i < n; i++ {
		connect(t, s,
			nats.LameDuckModeHandler(func(*nats.Conn) { told.Add(1) }),
			nats.DisconnectErrHandler(func(*nats.Conn, error) { closed.Add(1) }),
			nats.MaxReconnects(0))
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.LameDuck(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	eventually(t, 5*time.Second, func() bool { return closed.Load() == n }, "all clients disconnected")
	if told.Load() != n {
		t.Errorf("%d of %d clients got the lame-duck INFO", told.Load(), n)
	}
	if took < 100*time.Millisecond {
		t.Errorf("lame duck took %v, less than the grace period", took)
	}
	if _, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(0)); err == nil {
		t.Error("connected during lame duck")
	}
}

// TestLameDuckMovesClients: a client that knows two servers moves to the
// other one when its server enters lame-duck mode, and keeps its
// subscription.
func TestLameDuckMovesClients(t *testing.T) {
	a := startServer(t, func(o *serverOptions) {
		o.LameDuckDuration = 300 * time.Millisecond
		o.LameDuckGracePeriod = 50 * time.Millisecond
	})
	b := startServer(t)
	moved := make(chan string, 1)
	nc, err := nats.Connect(a.ClientURL()+","+b.ClientURL(), nats.DontRandomize(),
		nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectHandler(func(nc *nats.Conn) { moved <- nc.ConnectedUrl() }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.ConnectedUrl() != a.ClientURL() {
		t.Fatalf("connected to %s first", nc.ConnectedUrl())
	}
	sub, _ := nc.SubscribeSync("still.here")
	nc.Flush()
	if err := a.LameDuck(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case url := <-moved:
		if url != b.ClientURL() {
			t.Fatalf("moved to %s", url)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client did not move")
	}
	// The client re-sent its subscription on reconnecting; a round trip
	// makes sure b has it before another connection publishes.
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	other := connect(t, b)
	other.Publish("still.here", []byte("x"))
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("subscription lost in the move: %v", err)
	}
}

// TestLameDuckLogsNoError: closing the listener is part of lame duck, so
// neither it nor the shutdown that follows logs anything at ERROR (an
// "accept error ... use of closed network connection" was logged on every
// lame-duck shutdown).
func TestLameDuckLogsNoError(t *testing.T) {
	rec := &levelRecorder{}
	s := startServer(t, func(o *serverOptions) {
		o.LameDuckDuration = 300 * time.Millisecond
		o.LameDuckGracePeriod = 50 * time.Millisecond
		o.Logger = slog.New(rec)
	})
	connect(t, s, nats.MaxReconnects(0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.LameDuck(ctx); err != nil {
		t.Fatal(err)
	}
	if !rec.saw("entering lame duck mode") {
		t.Fatalf("lame duck not logged: %v", rec.all())
	}
	if errs := rec.atLeast(slog.LevelError); len(errs) > 0 {
		t.Fatalf("lame duck logged errors: %v", errs)
	}
}

// levelRecorder is a slog handler that keeps every record's level and
// message.
type levelRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *levelRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *levelRecorder) WithGroup(string) slog.Handler            { return r }

func (r *levelRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.recs) < 10_000 {
		r.recs = append(r.recs, rec.Clone())
	}
	return nil
}

func (r *levelRecorder) all() []string { return r.atLeast(slog.LevelDebug - 8) }

func (r *levelRecorder) atLeast(level slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		if rec.Level >= level {
			line := rec.Level.String() + " " + rec.Message
			rec.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
			out = append(out, line)
		}
	}
	return out
}

func (r *levelRecorder) saw(msg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Message == msg {
			return true
		}
	}
	return false
}
