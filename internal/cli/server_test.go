package cli

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// startServer runs an embedded Starling server on a free loopback port for
// the test and returns its client URL. The commands only ever see the URL,
// so they are tested as they would run against any NATS server.
func startServer(t *testing.T) (url string) {
	t.Helper()
	return startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort})
}

// startJetStream is startServer with JetStream on a temporary directory.
func startJetStream(t *testing.T) (url string) {
	t.Helper()
	return startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true, StoreDir: t.TempDir()})
}

func startServerOpts(t *testing.T, opts *server.Options) (url string) {
	t.Helper()
	s, err := server.New(opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s.ClientURL()
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
