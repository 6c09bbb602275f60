package server_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/server"
)

// TestClusterRefusedUntilRoutesExist: an embedder asking for clustering
// gets the one refusal from New (and from Reload), not a server that
// silently runs alone. Delete with internal/options/routes_pending.go.
func TestClusterRefusedUntilRoutesExist(t *testing.T) {
	route, _ := url.Parse("nats-route://127.0.0.1:6222")
	for _, c := range []server.ClusterOptions{{Port: server.RandomPort}, {Port: 6222, Routes: []*url.URL{route}}} {
		_, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, Cluster: c})
		if !errors.Is(err, options.ErrClusterNotImplemented) || !strings.Contains(err.Error(), "cluster: routes are not implemented yet") {
			t.Errorf("%+v: %v", c, err)
		}
	}

	opts := &server.Options{Host: "127.0.0.1", Port: server.RandomPort, Cluster: server.ClusterOptions{Name: "east"}}
	s, err := server.New(opts)
	if err != nil {
		t.Fatalf("a cluster name alone turns nothing on: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	next := *opts
	next.Cluster.Port = server.RandomPort
	if err := s.Reload(&next); !errors.Is(err, options.ErrClusterNotImplemented) {
		t.Errorf("reload: %v", err)
	}
}
