package core

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestClusterPeers: Starling servers learn, from route INFO, which of
// their peers run JetStream and where their cluster ports are, and are
// told when a peer comes or goes.
func TestClusterPeers(t *testing.T) {
	a := clusterServer(t, nil, func(o *Options) { o.ServerName = "a" })
	a.AnnounceJetStream(true) // before any route: INFO is built per route
	var calls atomic.Int32
	a.OnClusterPeers(func() { calls.Add(1) })
	b := clusterServer(t, []string{routeURLOf(a)}, func(o *Options) { o.ServerName = "b" })
	waitMesh(t, a, b)

	waitUntil(t, "a to be told of b", func() bool { return calls.Load() >= 1 })
	pa, pb := a.ClusterPeers(), b.ClusterPeers()
	if len(pa) != 1 || pa[0].Name != "b" || pa[0].ID != b.ID() || pa[0].JetStream || pa[0].Addr != b.ClusterAddr().String() {
		t.Fatalf("a's peers: %+v (b at %s)", pa, b.ClusterAddr())
	}
	if len(pb) != 1 || pb[0].Name != "a" || !pb[0].JetStream {
		t.Fatalf("b's peers: %+v", pb)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := calls.Load()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a to be told b left", func() bool { return calls.Load() > before && len(a.ClusterPeers()) == 0 })
}

func TestDialable(t *testing.T) {
	tests := []struct {
		addrs []string
		want  string
	}{
		{[]string{"127.0.0.1:6222"}, "127.0.0.1:6222"},
		{[]string{"0.0.0.0:6222", "10.0.0.5:6222"}, "10.0.0.5:6222"},
		{[]string{"[::]:6222", "node2:6222"}, "node2:6222"},
		{[]string{":6222", "bad", "10.0.0.6:6222"}, "10.0.0.6:6222"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := dialable(tt.addrs); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.addrs, got, tt.want)
		}
	}
}
