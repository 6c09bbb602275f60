package server_test

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/storedir"
	"github.com/starling-mq/starling/server"
)

// freePort returns a loopback port nothing listens on (as far as a
// listen-and-close can tell).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestFailedStartLeavesNothing: whichever stage of Start fails, the server
// leaves no listener, no goroutine and no store lock behind: the ports can
// be bound again, the store directory locked again, and the goroutine count
// returns to what it was.
func TestFailedStartLeavesNothing(t *testing.T) {
	tests := []struct {
		stage string
		// occupy takes the resource this stage needs and returns its
		// release.
		occupy func(t *testing.T, o *server.Options) func()
		want   string
	}{
		{"client port in use", func(t *testing.T, o *server.Options) func() {
			return hold(t, o.Port)
		}, "address already in use"},
		{"store directory locked", func(t *testing.T, o *server.Options) func() {
			lock, err := storedir.Acquire(o.StoreDir)
			if err != nil {
				t.Fatal(err)
			}
			return func() { lock.Release() }
		}, "locked"},
		{"monitor port in use", func(t *testing.T, o *server.Options) func() {
			return hold(t, o.HTTPPort)
		}, "listen for monitoring"},
	}
	for _, tt := range tests {
		t.Run(tt.stage, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			o := &server.Options{Host: "127.0.0.1", Port: freePort(t), HTTPHost: "127.0.0.1", HTTPPort: freePort(t),
				JetStream: true, StoreDir: t.TempDir()}
			release := tt.occupy(t, o)
			s, err := server.New(o)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Start()
			release()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				s.Shutdown(context.Background())
				t.Fatalf("Start: %v, want an error about %q", err, tt.want)
			}
			for _, port := range []int{o.Port, o.HTTPPort} {
				hold(t, port)()
			}
			lock, err := storedir.Acquire(o.StoreDir)
			if err != nil {
				t.Fatalf("store directory still locked: %v", err)
			}
			lock.Release()
			waitGoroutines(t, baseline)
		})
	}
}

// hold binds a loopback port and returns its release; it fails the test
// if the port is taken.
func hold(t *testing.T, port int) func() {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("port %d: %v", port, err)
	}
	return func() { ln.Close() }
}

// waitGoroutines polls until no more goroutines run than at baseline.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines, %d before Start:\n%s", runtime.NumGoroutine(), baseline, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
