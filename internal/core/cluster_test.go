package core

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// clusterServer starts a server with clustering on, on loopback, with the
// given explicit routes; mutate adjusts the options first.
func clusterServer(t *testing.T, routes []string, mutate ...func(*Options)) *Server {
	t.Helper()
	o := Options{Host: "127.0.0.1", Port: RandomPort}
	o.Cluster.Host, o.Cluster.Port, o.Cluster.Name = "127.0.0.1", RandomPort, "test"
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		o.Cluster.Routes = append(o.Cluster.Routes, u)
	}
	for _, m := range mutate {
		m(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

func routeURLOf(s *Server) string { return "nats-route://" + s.ClusterAddr().String() }

func waitMesh(t *testing.T, srvs ...*Server) {
	t.Helper()
	waitUntil(t, "the full mesh", func() bool {
		for _, s := range srvs {
			if s.NumRoutes() != len(srvs)-1 {
				return false
			}
		}
		return true
	})
}

// TestGossipFormsFullMesh: five servers whose only route is to the first
// learn each other from the route INFO it passes on, and connect.
func TestGossipFormsFullMesh(t *testing.T) {
	seed := clusterServer(t, nil)
	srvs := []*Server{seed}
	for i := 0; i < 4; i++ {
		srvs = append(srvs, clusterServer(t, []string{routeURLOf(seed)}))
	}
	waitMesh(t, srvs...)
	// One route per pair: nobody keeps a second connection to a peer.
	for _, s := range srvs {
		seen := map[string]bool{}
		for _, r := range s.Routes() {
			if seen[r.RemoteID] {
				t.Fatalf("%s has two routes to %s", s.ID(), r.RemoteID)
			}
			seen[r.RemoteID] = true
		}
	}
	// Messages cross from the last server to the second, which know each
	// other by gossip only.
	sub := natsConn(t, srvs[1])
	got := make(chan *nats.Msg, 1)
	if _, err := sub.ChanSubscribe("gossip.x", got); err != nil {
		t.Fatal(err)
	}
	sub.Flush()
	remoteInterest(t, srvs[4], "gossip.x", true)
	pub := natsConn(t, srvs[4])
	pub.Publish("gossip.x", []byte("hi"))
	select {
	case m := <-got:
		if string(m.Data) != "hi" {
			t.Fatalf("got %q", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message across a gossiped route")
	}
}

// TestConnectURLs: a client learns every server of the cluster from INFO
// connect_urls, and an asynchronous INFO tells it when one leaves.
func TestConnectURLs(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b)
	nc := natsConn(t, a)
	want := []string{a.Addr().String(), b.Addr().String()}
	sort.Strings(want)
	waitUntil(t, "connect_urls with both servers", func() bool {
		got := a.connectURLs()
		sort.Strings(got)
		return slices.Equal(got, want)
	})
	waitUntil(t, "the client to learn the second server", func() bool {
		return slices.Contains(nc.DiscoveredServers(), "nats://"+b.Addr().String())
	})
	c := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b, c)
	waitUntil(t, "the client to learn the third server", func() bool {
		return slices.Contains(nc.DiscoveredServers(), "nats://"+c.Addr().String())
	})
	// A server leaving takes its URL out of what the others announce.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "connect_urls without the server that left", func() bool {
		return !slices.Contains(a.connectURLs(), c.Addr().String())
	})
}

// TestNoAdvertise: a server with cluster no_advertise neither announces
// its clients' URL nor lists its peers'.
func TestNoAdvertise(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, []string{routeURLOf(a)}, func(o *Options) { o.Cluster.NoAdvertise = true })
	waitMesh(t, a, b)
	c := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b, c)
	waitUntil(t, "a to list c", func() bool { return slices.Contains(a.connectURLs(), c.Addr().String()) })
	if urls := a.connectURLs(); slices.Contains(urls, b.Addr().String()) {
		t.Fatalf("a lists the no_advertise server: %v", urls)
	}
	if urls := b.connectURLs(); urls != nil {
		t.Fatalf("the no_advertise server lists %v", urls)
	}
}

// TestLameDuckMovesClients: a server entering lame duck tells its peers,
// which stop listing it, and its clients move to another server.
func TestLameDuckMovesClients(t *testing.T) {
	a := clusterServer(t, nil, func(o *Options) {
		o.LameDuckDuration, o.LameDuckGracePeriod = 2*time.Second, 500*time.Millisecond
	})
	b := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b)
	reconnected := make(chan string, 4)
	nc, err := nats.Connect(a.ClientURL(), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(100),
		nats.ReconnectHandler(func(c *nats.Conn) { reconnected <- c.ConnectedUrl() }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	waitUntil(t, "the client to learn b", func() bool {
		return slices.Contains(nc.DiscoveredServers(), "nats://"+b.Addr().String())
	})
	go a.LameDuck(context.Background())
	waitUntil(t, "b to drop a's URL", func() bool { return !slices.Contains(b.connectURLs(), a.Addr().String()) })
	select {
	case u := <-reconnected:
		if u != "nats://"+b.Addr().String() {
			t.Fatalf("reconnected to %s", u)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the client did not move")
	}
}

// TestExplicitRoutesReload: routes added by a reload are dialled, routes
// removed are closed and not dialled again.
func TestExplicitRoutesReload(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, nil)
	if a.NumRoutes() != 0 {
		t.Fatal("routes before any were configured")
	}
	next := *a.getOpts()
	u, _ := url.Parse(routeURLOf(b))
	next.Cluster.Routes = []*url.URL{u}
	if err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	waitMesh(t, a, b)
	next.Cluster.Routes = nil
	if err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the removed route to close", func() bool { return a.NumRoutes() == 0 && b.NumRoutes() == 0 })
}

// TestClusterNameMismatch: servers with different configured names refuse
// each other's routes.
func TestClusterNameMismatch(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, []string{routeURLOf(a)}, func(o *Options) {
		o.Cluster.Name = "other"
		o.Cluster.ConnectBackoff = true
	})
	// An attempt was accepted and is gone again; no route ever came up.
	waitUntil(t, "a refused attempt", func() bool { return a.nextCID.Load() > 0 && len(a.routeList()) == 0 })
	ups := func(s *Server) int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.routeUps)
	}
	if ups(a) != 0 || ups(b) != 0 {
		t.Fatal("a route came up between clusters")
	}
}

// TestJetStreamAPIStaysLocal: a server running JetStream keeps its
// clients' API requests to itself; one without forwards them.
func TestJetStreamAPIStaysLocal(t *testing.T) {
	withJS := clusterServer(t, nil, func(o *Options) { o.JetStream = true })
	fakeJS := clusterServer(t, []string{routeURLOf(withJS)})
	plain := clusterServer(t, []string{routeURLOf(withJS)})
	waitMesh(t, withJS, fakeJS, plain)
	responder := natsConn(t, fakeJS)
	responder.Subscribe("$JS.API.>", func(m *nats.Msg) { m.Respond([]byte("remote")) })
	responder.Flush()
	remoteInterest(t, withJS, "$JS.API.INFO", true)
	remoteInterest(t, plain, "$JS.API.INFO", true)
	if _, err := natsConn(t, withJS).Request("$JS.API.INFO", nil, 2*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("request on the JetStream server: %v, want no responders", err)
	}
	m, err := natsConn(t, plain).Request("$JS.API.INFO", nil, 5*time.Second)
	if err != nil || string(m.Data) != "remote" {
		t.Fatalf("request on a server without JetStream: %v", err)
	}
}
