package test

import (
	"context"
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
