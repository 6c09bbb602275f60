package core

import (
	"context"
	"io"
	"net"
	"sync"
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

// TestClusterPeersDialledAddr: a peer reached through a configured route
// is dialled at that route's address, not at the one it advertises, on
// both sides of a pair whose servers each dial the other through a
// forwarder of their own (whichever of the two routes wins), and the
// callback tells of it.
func TestClusterPeersDialledAddr(t *testing.T) {
	refusing := func(o *Options) { o.Cluster.Advertise = "127.0.0.1:1" } // nobody listens on port 1
	toA, toB := newForwarder(t), newForwarder(t)
	a := clusterServer(t, []string{"nats-route://" + toB.addr}, refusing, func(o *Options) { o.ServerName = "a" })
	var seen atomic.Value // a's peers, as the last callback saw them
	a.OnClusterPeers(func() { seen.Store(a.ClusterPeers()) })
	b := clusterServer(t, []string{"nats-route://" + toA.addr}, refusing, func(o *Options) { o.ServerName = "b" })
	toA.target.Store(a.ClusterAddr().String())
	toB.target.Store(b.ClusterAddr().String())
	waitMesh(t, a, b)

	waitUntil(t, "a to be told b is at "+toB.addr, func() bool {
		ps, _ := seen.Load().([]ClusterPeer)
		return len(ps) == 1 && ps[0].Name == "b" && ps[0].Addr == toB.addr
	})
	waitUntil(t, "b to dial a at "+toA.addr, func() bool {
		ps := b.ClusterPeers()
		return len(ps) == 1 && ps[0].Name == "a" && ps[0].Addr == toA.addr
	})
}

// forwarder copies every connection to its addr to and from target (none
// is taken while target is unset), until the test ends.
type forwarder struct {
	addr   string
	target atomic.Value // host:port
}

func newForwarder(t *testing.T) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{addr: ln.Addr().String()}
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	closed := false
	keep := func(cs ...net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			conns[c] = true
		}
		return !closed
	}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		closed = true
		for c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			target, _ := f.target.Load().(string)
			if target == "" {
				in.Close()
				continue
			}
			out, err := net.DialTimeout("tcp", target, 2*time.Second)
			if err != nil {
				in.Close()
				continue
			}
			if !keep(in, out) {
				in.Close()
				out.Close()
				continue
			}
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return f
}
