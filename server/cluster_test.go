package server_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// TestClusterFromOptions: an embedder that sets a cluster port and routes
// gets servers that connect to each other; a reload may add routes.
func TestClusterFromOptions(t *testing.T) {
	start := func(c server.ClusterOptions) *server.Server {
		t.Helper()
		c.Host = "127.0.0.1"
		s, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, Cluster: c})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Shutdown(context.Background()) })
		return s
	}
	a := start(server.ClusterOptions{Name: "east", Port: server.RandomPort})
	routeTo := func(s *server.Server) *url.URL {
		u, _ := url.Parse(fmt.Sprintf("nats-route://%s", s.ClusterAddr()))
		return u
	}
	b := start(server.ClusterOptions{Name: "east", Port: server.RandomPort, Routes: []*url.URL{routeTo(a)}})
	waitRoutes(t, 1, a, b)
	if a.ClusterAddr() == nil || b.ClusterAddr() == nil {
		t.Fatal("no cluster address")
	}
}

func waitRoutes(t *testing.T, n int, servers ...*server.Server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range servers {
		for s.NumRoutes() != n {
			if time.Now().After(deadline) {
				t.Fatalf("%d routes, want %d", s.NumRoutes(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
