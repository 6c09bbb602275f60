package core

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// mesh starts n servers joined by routes, each pair once (a full mesh),
// and waits until every server has n-1 routes up.
func mesh(t *testing.T, n int) []*Server {
	t.Helper()
	srvs := make([]*Server, n)
	lns := make([]net.Listener, n)
	for i := range srvs {
		srvs[i] = startTestServer(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
		go srvs[i].serveRoutes(ln)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for i := range srvs {
			lns[i].Close()
			_ = srvs[i].Shutdown(ctx)
		}
	})
	for i := range srvs {
		for j := i + 1; j < n; j++ {
			if _, err := srvs[i].dialRoute(lns[j].Addr().String()); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitUntil(t, "the mesh", func() bool {
		for _, s := range srvs {
			if s.NumRoutes() != n-1 {
				return false
			}
		}
		return true
	})
	return srvs
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: CI machines are loaded
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func natsConn(t *testing.T, s *Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// remoteInterest waits until s has a route's subscription on subj.
func remoteInterest(t *testing.T, s *Server, subj string, want bool) {
	t.Helper()
	waitUntil(t, "interest in "+subj+" across the route", func() bool {
		return routeInterestIn(s.gacc, subj) == want
	})
}

// routeInterestIn reports whether acc has a route's subscription (plain
// or in a queue group) matching subj now.
func routeInterestIn(acc *Account, subj string) bool {
	r := acc.sl.Match(subj)
	for _, sub := range r.Plain {
		if sub.route != nil {
			return true
		}
	}
	for _, g := range r.Queues {
		for _, sub := range g {
			if sub.route != nil {
				return true
			}
		}
	}
	return false
}

// TestRouteMessages: interest crosses a route as RS+/RS-, a message to it
// crosses as one RMSG/HMSG (headers and reply kept), a request is
// answered across the route, and an unsubscribe stops the flow.
func TestRouteMessages(t *testing.T) {
	srvs := mesh(t, 2)
	a, b := natsConn(t, srvs[0]), natsConn(t, srvs[1])
	sub, err := b.SubscribeSync("foo.>")
	if err != nil {
		t.Fatal(err)
	}
	b.Flush()
	remoteInterest(t, srvs[0], "foo.x", true)
	rs := srvs[0].RoutesWithSubs()
	if len(rs) != 1 || rs[0].RemoteID != srvs[1].ID() || !rs[0].DidSolicit || len(rs[0].Subs) != 1 || rs[0].Subs[0] != "foo.>" {
		t.Fatalf("routes %+v", rs)
	}
	if rs := srvs[1].Routes(); len(rs) != 1 || rs[0].RemoteID != srvs[0].ID() || rs[0].DidSolicit {
		t.Fatalf("routes of the accepting side %+v", rs)
	}
	m := nats.NewMsg("foo.x")
	m.Header.Set("K", "v")
	m.Data = []byte("hello")
	if err := a.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	got, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != "hello" || got.Header.Get("K") != "v" || got.Subject != "foo.x" {
		t.Fatalf("got %q %v on %s", got.Data, got.Header, got.Subject)
	}
	// Request and reply across the route: the reply subject's interest
	// crosses back.
	if _, err := b.Subscribe("svc", func(m *nats.Msg) { m.Respond([]byte("pong")) }); err != nil {
		t.Fatal(err)
	}
	b.Flush()
	remoteInterest(t, srvs[0], "svc", true)
	reply, err := a.Request("svc", []byte("ping"), 5*time.Second)
	if err != nil || string(reply.Data) != "pong" {
		t.Fatalf("request across the route: %v %v", reply, err)
	}
	sub.Unsubscribe()
	b.Flush()
	remoteInterest(t, srvs[0], "foo.x", false)
	if _, err := a.Request("foo.x", nil, 2*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("request with no interest anywhere: %v, want no responders", err)
	}
}

// TestRouteOneHop: in a full mesh of three, a message reaches a
// subscriber on another server exactly once (it is never forwarded by the
// server that received it from a route).
func TestRouteOneHop(t *testing.T) {
	srvs := mesh(t, 3)
	var got atomic.Int64
	c := natsConn(t, srvs[2])
	if _, err := c.Subscribe("one", func(*nats.Msg) { got.Add(1) }); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	remoteInterest(t, srvs[0], "one", true)
	remoteInterest(t, srvs[1], "one", true)
	a := natsConn(t, srvs[0])
	const n = 100
	for range n {
		a.Publish("one", nil)
	}
	a.Flush()
	waitUntil(t, "every message", func() bool { return got.Load() >= n })
	// A marker sent after them arrives after any duplicate would have.
	marker, err := c.SubscribeSync("marker")
	if err != nil {
		t.Fatal(err)
	}
	c.Flush()
	remoteInterest(t, srvs[0], "marker", true)
	a.Publish("marker", nil)
	if _, err := marker.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if g := got.Load(); g != n {
		t.Fatalf("%d deliveries of %d messages", g, n)
	}
}

// TestRouteQueueGroups: exactly one member of a queue group gets each
// message cluster-wide; a local member is preferred; a remote one gets
// the message when there is no local one.
func TestRouteQueueGroups(t *testing.T) {
	srvs := mesh(t, 3)
	var counts [3]atomic.Int64
	for i, s := range srvs {
		c := natsConn(t, s)
		if _, err := c.QueueSubscribe("work", "q", func(*nats.Msg) { counts[i].Add(1) }); err != nil {
			t.Fatal(err)
		}
		c.Flush()
	}
	for _, s := range srvs {
		remoteInterest(t, s, "work", true)
	}
	pub := natsConn(t, srvs[0])
	const n = 200
	for range n {
		pub.Publish("work", nil)
	}
	pub.Flush()
	waitUntil(t, "every message", func() bool { return counts[0].Load()+counts[1].Load()+counts[2].Load() >= n })
	if c0 := counts[0].Load(); c0 != n {
		t.Fatalf("local member got %d of %d (others %d, %d)", c0, n, counts[1].Load(), counts[2].Load())
	}
	// Only remote members: each message to exactly one of them.
	pub2 := natsConn(t, srvs[0])
	var remote atomic.Int64
	for i := 1; i < 3; i++ {
		c := natsConn(t, srvs[i])
		if _, err := c.QueueSubscribe("far", "g", func(*nats.Msg) { remote.Add(1) }); err != nil {
			t.Fatal(err)
		}
		c.Flush()
	}
	remoteInterest(t, srvs[0], "far", true)
	for range n {
		pub2.Publish("far", nil)
	}
	pub2.Flush()
	waitUntil(t, "every message", func() bool { return remote.Load() >= n })
	marker, _ := natsConn(t, srvs[1]).SubscribeSync("done")
	remoteInterest(t, srvs[0], "done", true)
	pub2.Publish("done", nil)
	if _, err := marker.NextMsg(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if r := remote.Load(); r != n {
		t.Fatalf("remote members got %d deliveries of %d messages", r, n)
	}
}

// TestRouteSelfAndDuplicate: a route to oneself and a second route to a
// server already routed to are closed.
func TestRouteSelfAndDuplicate(t *testing.T) {
	srvs := mesh(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go srvs[0].serveRoutes(ln)
	// To itself.
	if _, err := srvs[0].dialRoute(ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	// From B again.
	if _, err := srvs[1].dialRoute(ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "extra route connections to close", func() bool {
		return len(srvs[0].routeList()) == 1 && len(srvs[1].routeList()) == 1
	})
	if srvs[0].NumRoutes() != 1 || srvs[1].NumRoutes() != 1 {
		t.Fatalf("routes up: %d and %d", srvs[0].NumRoutes(), srvs[1].NumRoutes())
	}
}

// TestRouteShutdownLeavesNoGoroutines: routes end with their servers.
func TestRouteShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("mesh", func(t *testing.T) {
		srvs := mesh(t, 3)
		c := natsConn(t, srvs[0])
		c.Subscribe("x", func(*nats.Msg) {})
		c.Flush()
		remoteInterest(t, srvs[1], "x", true)
	})
	waitUntil(t, fmt.Sprintf("goroutines back to %d", before), func() bool {
		return runtime.NumGoroutine() <= before+2 // nats.go's and the runtime's stragglers
	})
}

// TestRouteSimultaneousDials: two servers that dial each other at the same
// moment end with one route, the same connection on both sides.
func TestRouteSimultaneousDials(t *testing.T) {
	for round := range 10 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			a, b := startTestServer(t), startTestServer(t)
			la, _ := net.Listen("tcp", "127.0.0.1:0")
			lb, _ := net.Listen("tcp", "127.0.0.1:0")
			go a.serveRoutes(la)
			go b.serveRoutes(lb)
			t.Cleanup(func() {
				la.Close()
				lb.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = a.Shutdown(ctx)
				_ = b.Shutdown(ctx)
			})
			go a.dialRoute(lb.Addr().String())
			go b.dialRoute(la.Addr().String())
			waitUntil(t, "one route connection on each side", func() bool {
				return a.NumRoutes() == 1 && b.NumRoutes() == 1 && len(a.routeList()) == 1 && len(b.routeList()) == 1
			})
			// The same connection: messages flow both ways.
			for _, pair := range [][2]*Server{{a, b}, {b, a}} {
				sub, _ := natsConn(t, pair[1]).SubscribeSync("x")
				remoteInterest(t, pair[0], "x", true)
				natsConn(t, pair[0]).Publish("x", nil)
				if _, err := sub.NextMsg(5 * time.Second); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
