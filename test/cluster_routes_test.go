package test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Joining a cluster: refusals, credentials, and what clients learn of the
// cluster's other servers.

// waitLog waits until one of the nodes' logs has a line containing text.
func waitLog(t testing.TB, text string, nodes ...*clusterNode) {
	t.Helper()
	eventually(t, clusterWait, func() bool {
		for _, n := range nodes {
			if n.logs != nil && slices.ContainsFunc(n.logs.all(), func(l string) bool { return strings.Contains(l, text) }) {
				return true
			}
			if n.proc != nil && strings.Contains(n.proc.log(), text) {
				return true
			}
		}
		return false
	}, "a log line with "+text)
}

// TestClusterNameMismatchRefused: a server of another cluster is refused
// with nats-server's text, and no route comes up on either side.
func TestClusterNameMismatchRefused(t *testing.T) {
	east := startStarlingNode(t, nodeConfig{name: "east1", cluster: "east"})
	west := startStarlingNode(t, nodeConfig{name: "west1", cluster: "west", routes: []string{east.routeURL}})
	waitLog(t, `cluster name "west" does not match "east"`, east, west)
	if east.numRoutes(t) != 0 || west.numRoutes(t) != 0 {
		t.Fatalf("routes %d and %d after the refusal", east.numRoutes(t), west.numRoutes(t))
	}
}

// TestClusterRouteAuthorization: a cluster with an authorization block
// takes a route whose URL carries its user and password, and refuses
// one with a wrong password or none.
func TestClusterRouteAuthorization(t *testing.T) {
	a := startStarlingNode(t, nodeConfig{name: "a", cluster: "auth", user: "ruser", pass: "s3cret"})
	port := a.routePort
	good := startStarlingNode(t, nodeConfig{name: "good", cluster: "auth", routes: []string{routeURLOf(port, "ruser", "s3cret")}})
	waitMesh(t, a, good)
	for _, bad := range []nodeConfig{
		{name: "wrongpass", cluster: "auth", routes: []string{routeURLOf(port, "ruser", "guess")}},
		{name: "nocreds", cluster: "auth", routes: []string{routeURLOf(port, "", "")}},
	} {
		n := startStarlingNode(t, bad)
		waitLog(t, "Authorization Violation", n)
		if got := n.numRoutes(t); got != 0 {
			t.Errorf("%s: %d routes", bad.name, got)
		}
	}
	if got := a.numRoutes(t); got != 1 {
		t.Errorf("a: %d routes, want the one with credentials", got)
	}
	// The authorised route carries messages.
	pub, sub := a.connect(t), good.connect(t)
	k := subscribeSink(t, sub, "auth.data")
	syncInterest(t, sub, pub)
	if err := pub.Publish("auth.data", []byte("x")); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, sub, pub)
	if got := payloads(k.take()); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("got %q", got)
	}
}

// TestClusterClientFailover: when its server shuts down, a client
// reconnects to another server of the cluster, and its subscriptions
// work there: given every URL, and given one URL, when it has learned
// the others from the INFO's connect_urls.
func TestClusterClientFailover(t *testing.T) {
	// Parallel: it waits on a cluster-wide event (the mesh, a client's
	// move, a log line) and may run beside the other waits.
	t.Parallel()
	t.Run("configured", func(t *testing.T) { testFailover(t, false) })
	t.Run("discovered", func(t *testing.T) { testFailover(t, true) })
}

func testFailover(t *testing.T, discover bool) {
	nodes := startMesh(t, 3)
	hostPort := func(u string) string { return strings.TrimPrefix(u, "nats://") }
	var others []string
	for _, n := range nodes[1:] {
		others = append(others, hostPort(n.clientURL))
	}
	slices.Sort(others)
	urls := nodes[0].clientURL
	if !discover {
		urls = strings.Join([]string{nodes[0].clientURL, nodes[1].clientURL, nodes[2].clientURL}, ",")
	}
	moved := make(chan string, 4)
	nc, err := nats.Connect(urls, nats.Name("failover"), nats.DontRandomize(),
		nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.MaxReconnects(-1),
		nats.ReconnectHandler(func(c *nats.Conn) { moved <- c.ConnectedUrl() }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if discover {
		eventually(t, clusterWait, func() bool {
			var got []string
			for _, u := range nc.DiscoveredServers() {
				got = append(got, hostPort(u))
			}
			slices.Sort(got)
			return slices.Equal(got, others)
		}, "the client to discover the other servers (INFO connect_urls)")
	}
	if got := len(nc.Servers()); got != 3 {
		t.Errorf("client knows %d servers: %v", got, nc.Servers())
	}
	k := subscribeSink(t, nc, "failover.data")
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if err := nodes[0].s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-moved:
		if !slices.Contains(others, hostPort(u)) {
			t.Fatalf("reconnected to %s, not to one of %v", u, others)
		}
	case <-time.After(clusterWait):
		t.Fatal("the client did not reconnect to another server")
	}
	pub := nodes[2].connect(t)
	syncInterest(t, nc, pub)
	if err := pub.Publish("failover.data", []byte("after")); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, nc, pub)
	if got := payloads(k.take()); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("after the failover the subscription got %q", got)
	}
}

// TestClusterReloadRoutes: a reload that adds a route dials it, and one
// that removes it closes it (the other side, with no routes configured,
// does not dial back).
func TestClusterReloadRoutes(t *testing.T) {
	t.Parallel() // waits on a cluster-wide event, beside the other waits
	a := startStarlingNode(t, nodeConfig{name: "a", cluster: "reload"})
	var opts serverOptions
	b := startStarlingNode(t, nodeConfig{name: "b", cluster: "reload"}, func(o *serverOptions) { opts = *o })
	u, err := url.Parse(a.routeURL)
	if err != nil {
		t.Fatal(err)
	}
	opts.Cluster.Routes = []*url.URL{u}
	if err := b.s.Reload(&opts); err != nil {
		t.Fatalf("reload adding a route: %v", err)
	}
	waitMesh(t, a, b)
	opts.Cluster.Routes = nil
	if err := b.s.Reload(&opts); err != nil {
		t.Fatalf("reload removing the route: %v", err)
	}
	eventually(t, clusterWait, func() bool { return a.numRoutes(t) == 0 && b.numRoutes(t) == 0 }, "the removed route to close")
}

// TestClusterRouteTLS: servers whose routes need TLS connect and carry
// messages over it; the route port takes no plaintext peer.
func TestClusterRouteTLS(t *testing.T) {
	rt := newRouteTLS(t)
	a := startStarlingNode(t, nodeConfig{name: "a", cluster: "tls", tls: rt})
	b := startStarlingNode(t, nodeConfig{name: "b", cluster: "tls", tls: rt, routes: []string{a.routeURL}})
	waitMesh(t, a, b)
	// The route port speaks TLS first, and only TLS.
	p := dialPeer(t, a, transcriptOp{conn: "x1", op: "dial"})
	if !strings.Contains(p.firstInfo, `"tls_required":true`) {
		t.Errorf("route INFO over TLS: %s", p.firstInfo)
	}
	expectPlaintextPeerClosed(t, a)
	pub, sub := a.connect(t), b.connect(t)
	k := subscribeSink(t, sub, "tls.data")
	syncInterest(t, sub, pub)
	if err := pub.Publish("tls.data", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, sub, pub)
	if got := payloads(k.take()); !slices.Equal(got, []string{"secret"}) {
		t.Fatalf("got %q", got)
	}
}
