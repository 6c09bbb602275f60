package core

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/crypto/bcrypt"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/testcert"
)

// routeTLSConfig is a route tls block as the configuration builds it:
// one certificate for both directions, peers verified against the CA.
func routeTLSConfig(t *testing.T, ca *testcert.CA) *tls.Config {
	t.Helper()
	leaf, err := ca.Issue(testcert.Leaf{
		Subject: pkix.Name{CommonName: "route"},
		IPs:     []net.IP{net.ParseIP("127.0.0.1")},
		Route:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{leaf.TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
		RootCAs:      ca.Pool(),
		MinVersion:   tls.VersionTLS12,
	}
}

// TestRouteTLS: servers whose routes use TLS with certificates from the
// same CA connect and carry messages; a server with a certificate from
// another CA is refused.
func TestRouteTLS(t *testing.T) {
	ca, err := testcert.NewCA("cluster")
	if err != nil {
		t.Fatal(err)
	}
	withTLS := func(cfg *tls.Config) func(*Options) {
		return func(o *Options) { o.Cluster.TLSConfig = cfg }
	}
	a := clusterServer(t, nil, withTLS(routeTLSConfig(t, ca)))
	b := clusterServer(t, []string{routeURLOf(a)}, withTLS(routeTLSConfig(t, ca)))
	waitMesh(t, a, b)
	info := a.routeInfo()
	if !info.TLSRequired || !info.TLSVerify {
		t.Fatalf("route INFO: tls_required %v tls_verify %v", info.TLSRequired, info.TLSVerify)
	}
	assertCrosses(t, a, b, "tls.x")

	rogue, err := testcert.NewCA("rogue")
	if err != nil {
		t.Fatal(err)
	}
	c := clusterServer(t, []string{routeURLOf(a)}, withTLS(routeTLSConfig(t, rogue)))
	waitUntil(t, "a refused TLS attempt", func() bool {
		return a.Stats().RoutesRefused > 0 && c.Stats().RoutesRefused > 0
	})
	if c.NumRoutes() != 0 || a.NumRoutes() != 1 {
		t.Fatalf("a route with a certificate of another CA: %d %d", c.NumRoutes(), a.NumRoutes())
	}
}

// assertCrosses checks that a message published on from reaches a
// subscriber on to.
func assertCrosses(t *testing.T, from, to *Server, subj string) {
	t.Helper()
	sub := natsConn(t, to)
	got := make(chan *nats.Msg, 1)
	s, err := sub.ChanSubscribe(subj, got)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Unsubscribe()
	sub.Flush()
	remoteInterest(t, from, subj, true)
	pub := natsConn(t, from)
	pub.Publish(subj, []byte("x"))
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not cross", subj)
	}
}

// TestRouteAuthorization: a dialler presenting the cluster's user and
// password connects; one presenting others is refused.
func TestRouteAuthorization(t *testing.T) {
	secured := func(o *Options) { o.Cluster.Username, o.Cluster.Password = "ruser", "s3cret" }
	a := clusterServer(t, nil, secured)
	addr := a.ClusterAddr().String()
	b := clusterServer(t, []string{"nats-route://ruser:s3cret@" + addr}, secured)
	waitMesh(t, a, b)
	assertCrosses(t, b, a, "auth.x")
	// A bcrypt password in the authorization block checks the same way.
	// (The lowest cost: the check runs within the auth timeout, and a
	// race-detector build on a loaded machine is slow.)
	h4, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	hash := string(h4)
	if err != nil {
		t.Fatal(err)
	}
	h := clusterServer(t, nil, func(o *Options) { o.Cluster.Username, o.Cluster.Password = "ruser", hash })
	d := clusterServer(t, []string{"nats-route://ruser:s3cret@" + h.ClusterAddr().String()})
	waitMesh(t, h, d)
	c := clusterServer(t, []string{"nats-route://ruser:wrong@" + addr}, secured)
	waitUntil(t, "a refused attempt", func() bool { return a.Stats().RoutesRefused > 0 })
	if c.NumRoutes() != 0 {
		t.Fatal("a route with a wrong password came up")
	}
}

// TestRoutePermissions: a server imports only what its import list
// allows and exports only what its export list allows.
func TestRoutePermissions(t *testing.T) {
	a := clusterServer(t, nil, func(o *Options) {
		o.Cluster.Permissions = &options.RoutePermissions{
			Import: &auth.SubjectPermission{Allow: []string{"in.>"}},
			Export: &auth.SubjectPermission{Deny: []string{"secret.>"}},
		}
	})
	b := clusterServer(t, []string{routeURLOf(a)})
	waitMesh(t, a, b)
	// a asks b for in.> only: its subscriber on other.x is not announced.
	nca := natsConn(t, a)
	nca.SubscribeSync("other.x")
	nca.SubscribeSync("in.x")
	nca.Flush()
	remoteInterest(t, b, "in.x", true)
	if hasRemoteInterest(b, "other.x") { // announced before in.x, had it been
		t.Fatal("a announced interest outside its import list")
	}
	// b's interest in secret.x is not recorded by a: nothing is sent.
	ncb := natsConn(t, b)
	ncb.SubscribeSync("secret.x")
	ncb.SubscribeSync("public.x")
	ncb.Flush()
	remoteInterest(t, a, "public.x", true)
	if hasRemoteInterest(a, "secret.x") {
		t.Fatal("a recorded interest its export list denies")
	}
}

// hasRemoteInterest reports whether s has a route's subscription
// matching subj now, in the global account.
func hasRemoteInterest(s *Server, subj string) bool { return routeInterestIn(s.gacc, subj) }

// TestSlowRouteClosed: a peer that stops reading is closed once its
// route's pending data passes max_pending, counted as a slow route, and
// the publisher and local subscribers never wait for it.
func TestSlowRouteClosed(t *testing.T) {
	a := clusterServer(t, nil, func(o *Options) { o.MaxPending, o.MaxPayload = 64*1024, 8*1024 })
	peer, err := net.Dial("tcp", a.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	hello := "CONNECT {\"name\":\"NSTUCK\",\"cluster\":\"test\",\"headers\":true}\r\n" +
		"INFO {\"server_id\":\"NSTUCK\",\"server_name\":\"stuck\",\"cluster\":\"test\",\"headers\":true,\"port\":1}\r\n" +
		"RS+ $G slow.x\r\n"
	if _, err := peer.Write([]byte(hello)); err != nil {
		t.Fatal(err)
	}
	remoteInterest(t, a, "slow.x", true)
	// The peer reads nothing from here on.
	local := natsConn(t, a)
	sub, err := local.SubscribeSync("slow.x")
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	local.Flush()
	pub := natsConn(t, a)
	payload := make([]byte, 1024)
	const n = 20000 // 20 MB: more than the socket buffers and max_pending
	for i := 0; i < n; i++ {
		if err := pub.Publish("slow.x", payload); err != nil {
			t.Fatal(err)
		}
	}
	pub.Flush()
	waitUntil(t, "the stuck route to close", func() bool { return a.NumRoutes() == 0 })
	if st := a.Stats(); st.SlowRoutes == 0 || st.SlowConsumers < st.SlowRoutes {
		t.Fatalf("slow routes %d, slow consumers %d", st.SlowRoutes, st.SlowConsumers)
	}
	waitUntil(t, "every message locally", func() bool {
		got, _, _ := sub.Pending()
		return got == n
	})
}
