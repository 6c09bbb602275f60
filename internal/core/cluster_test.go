package core

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
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
	// /routez's is_configured: a route to the seed was configured; a route
	// between two others was dialled because of gossip, or accepted.
	for _, s := range srvs[1:] {
		for _, r := range s.Routes() {
			if want := r.RemoteID == seed.ID(); r.IsConfigured != want {
				t.Fatalf("route %s -> %s: is_configured %v", s.ID(), r.RemoteID, r.IsConfigured)
			}
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

// TestDuplicateServerName: a server whose name another server of the
// cluster has already is refused.
func TestDuplicateServerName(t *testing.T) {
	named := func(o *Options) { o.ServerName = "same" }
	a := clusterServer(t, nil, named)
	b := clusterServer(t, []string{routeURLOf(a)}, named)
	waitUntil(t, "the refusal", func() bool { return a.Stats().RoutesRefused > 0 })
	// The dialler registers the route when it reads a's INFO, until a
	// closes it; a never does.
	a.mu.Lock()
	ups := len(a.routeUps)
	a.mu.Unlock()
	if ups != 0 {
		t.Fatal("a took a route from a server with its own name")
	}
	_ = b
}

// TestRouteOtherAccounts: interest and messages a peer sends for accounts
// this server does not have (nats-server's $SYS, say) are ignored, not
// taken as the global account's.
func TestRouteOtherAccounts(t *testing.T) {
	a := clusterServer(t, nil)
	peer, err := net.Dial("tcp", a.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go io.Copy(io.Discard, peer)
	local := natsConn(t, a)
	sub, err := local.SubscribeSync("acc.x")
	if err != nil {
		t.Fatal(err)
	}
	local.Flush()
	hello := "CONNECT {\"name\":\"NPEER\",\"cluster\":\"test\",\"headers\":true}\r\n" +
		"INFO {\"server_id\":\"NPEER\",\"server_name\":\"peer\",\"cluster\":\"test\",\"headers\":true,\"port\":1}\r\n" +
		"RS+ $SYS sys.x\r\nRS+ OTHER other.x\r\n" +
		"RMSG $SYS acc.x 3\r\nsys\r\nRMSG $G acc.x 2\r\ng!\r\n" +
		"RS+ $G mine.x\r\n"
	if _, err := peer.Write([]byte(hello)); err != nil {
		t.Fatal(err)
	}
	remoteInterest(t, a, "mine.x", true)
	if hasRemoteInterest(a, "sys.x") || hasRemoteInterest(a, "other.x") {
		t.Fatal("interest of another account taken as the global account's")
	}
	m, err := sub.NextMsg(10 * time.Second)
	if err != nil || string(m.Data) != "g!" {
		t.Fatalf("first message %v %v: want the $G one only", m, err)
	}
}

// TestTraceAcrossRoute: a traced message that would cross a route lists
// the route as an egress; with Nats-Trace-Only the peer never gets it.
func TestTraceAcrossRoute(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b)
	remote := natsConn(t, b)
	sub, err := remote.SubscribeSync("traced.x")
	if err != nil {
		t.Fatal(err)
	}
	remote.Flush()
	remoteInterest(t, a, "traced.x", true)
	nc := natsConn(t, a)
	events, err := nc.SubscribeSync("trace.dest")
	if err != nil {
		t.Fatal(err)
	}
	for _, only := range []bool{true, false} {
		m := nats.NewMsg("traced.x")
		m.Header.Set("Nats-Trace-Dest", "trace.dest")
		if only {
			m.Header.Set("Nats-Trace-Only", "true")
		}
		m.Data = []byte("x")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		ev, err := events.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ev.Data), `"kind":1`) {
			t.Fatalf("only=%v: no route egress in %s", only, ev.Data)
		}
	}
	// Only the second message (not trace-only) reached the peer.
	got, err := sub.NextMsg(10 * time.Second)
	if err != nil || got.Header.Get("Nats-Trace-Only") != "" {
		t.Fatalf("peer got %v %v", got, err)
	}
}

// TestQueueGroupShares: with no member on the publisher's server, servers
// get shares of a queue group's messages by their member counts, and the
// members of one server get even shares. Bounds are wide: 3,000 draws
// leave them far from chance.
func TestQueueGroupShares(t *testing.T) {
	srvs := mesh(t, 3)
	a, b, c := srvs[0], srvs[1], srvs[2]
	var subs []*nats.Subscription
	for _, s := range []*Server{b, b, c} {
		nc := natsConn(t, s)
		sub, err := nc.QueueSubscribeSync("work", "q")
		if err != nil {
			t.Fatal(err)
		}
		sub.SetPendingLimits(-1, -1)
		nc.Flush()
		subs = append(subs, sub)
	}
	waitUntil(t, "the group's weights on a", func() bool {
		r := a.gacc.sl.Match("work")
		w := 0
		for _, g := range r.Queues {
			for _, sub := range g {
				w += int(sub.weight.Load())
			}
		}
		return w == 3
	})
	pub := natsConn(t, a)
	const n = 3000
	for i := 0; i < n; i++ {
		pub.Publish("work", nil)
	}
	pub.Flush()
	counts := make([]int, len(subs))
	waitUntil(t, "every message", func() bool {
		total := 0
		for i, sub := range subs {
			counts[i], _, _ = sub.Pending()
			total += counts[i]
		}
		return total == n
	})
	share := func(k int) float64 { return float64(k) / n }
	if s := share(counts[0] + counts[1]); s < 0.55 || s > 0.78 {
		t.Errorf("b (2 members) got %.2f of the messages, want about 2/3: %v", s, counts)
	}
	if s := float64(counts[0]) / float64(counts[0]+counts[1]); s < 0.4 || s > 0.6 {
		t.Errorf("b's members split %v, want even", counts[:2])
	}
}

// TestNoSecondRouteWhenDialledFirst: a server told to dial a peer that
// already dialled it (here by a reload) waits on that route instead of
// making a second one, which one of the two servers would then close,
// possibly while it carried messages.
func TestNoSecondRouteWhenDialledFirst(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b)
	next := *a.getOpts()
	u, _ := url.Parse(routeURLOf(b))
	next.Cluster.Routes = []*url.URL{u}
	if err := a.Reload(next); err != nil {
		t.Fatal(err)
	}
	a.cluster.mu.Lock()
	d := a.cluster.explicit[u.String()]
	a.cluster.mu.Unlock()
	waitUntil(t, "a's dialer to find b connected", func() bool { return d.deferred.Load() > 0 })
	a.mu.Lock()
	ups := a.routeUps[b.ID()]
	a.mu.Unlock()
	if ups != 1 || a.NumRoutes() != 1 {
		t.Fatalf("a registered %d routes to b", ups)
	}
}

// TestRouteRTT: a route measures its round trip with its first PING, for
// /routez.
func TestRouteRTT(t *testing.T) {
	a := clusterServer(t, nil)
	b := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b)
	waitUntil(t, "a round trip on each side", func() bool {
		for _, s := range []*Server{a, b} {
			if rs := s.Routes(); len(rs) != 1 || rs[0].RTT <= 0 {
				return false
			}
		}
		return true
	})
}

// TestRouteAccounts: a route carries every account of the server: the
// peer's RS+ lands in the account it names, this server's interest in an
// account goes out naming it (also for an account made after the route
// came up), and accounts this server lacks are dropped.
func TestRouteAccounts(t *testing.T) {
	a := clusterServer(t, nil)
	accA := a.RegisterAccount("A")
	peer, err := net.Dial("tcp", a.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	lines := make(chan string, 64)
	go func() {
		r := bufio.NewReader(peer)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- l
		}
	}()
	hello := "CONNECT {\"name\":\"NPEER\",\"cluster\":\"test\",\"headers\":true}\r\n" +
		"INFO {\"server_id\":\"NPEER\",\"server_name\":\"peer\",\"cluster\":\"test\",\"headers\":true,\"port\":1}\r\n" +
		"RS+ A a.x\r\nRS+ NOPE n.x\r\nRS+ $G g.x\r\n"
	if _, err := peer.Write([]byte(hello)); err != nil {
		t.Fatal(err)
	}
	remoteInterest(t, a, "g.x", true)
	if !routeInterestIn(accA, "a.x") || routeInterestIn(a.gacc, "a.x") {
		t.Fatal("the peer's interest in account A is not in A alone")
	}
	// An account made now, with a local subscriber: the peer is told.
	accB := a.RegisterAccount("B")
	owner := &client{transport: transport{srv: a}}
	if err := accB.subscribe(&subscription{client: owner, subject: "b.x", sid: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("route closed")
			}
			if l == "RS+ B b.x\r\n" {
				return
			}
		case <-deadline:
			t.Fatal("no RS+ B b.x")
		}
	}
}
