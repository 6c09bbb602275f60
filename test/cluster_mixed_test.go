package test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// Mixed clusters: Starling servers and nats-server processes in one full
// mesh, every configuration listing every server's route URL (its own
// included), as a deployment's shared configuration does. The nats-server
// processes run with their defaults, the system account included.

// mixedKind is the kind of one server of a mixed cluster.
type mixedKind int

const (
	kindStarling mixedKind = iota
	kindNats
)

// startMixed runs one server per kind in kinds, named after their kind,
// in cluster "mixed", with route credentials when auth is set.
func startMixed(t *testing.T, natsBin string, auth bool, kinds ...mixedKind) []*clusterNode {
	t.Helper()
	ports := freePorts(t, len(kinds))
	user, pass := "", ""
	if auth {
		user, pass = "ruser", "s3cret"
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, user, pass))
	}
	nodes := make([]*clusterNode, len(kinds))
	for i, k := range kinds {
		cfg := nodeConfig{cluster: "mixed", clusterPort: ports[i], routes: routes, user: user, pass: pass}
		if k == kindNats {
			cfg.name = fmt.Sprintf("nats%d", i)
			nodes[i] = startNatsServerNode(t, natsBin, cfg)
		} else {
			cfg.name = fmt.Sprintf("starling%d", i)
			nodes[i] = startStarlingNode(t, cfg)
		}
	}
	waitMesh(t, nodes...)
	return nodes
}

// TestMixedCluster2Nats1Starling: two nats-server 2.9.10 and one
// Starling; messages, queue groups, requests and interest cross between
// the kinds both ways.
func TestMixedCluster2Nats1Starling(t *testing.T) {
	bin := natsServerPath(t)
	clusterSuite(t, startMixed(t, bin, false, kindNats, kindNats, kindStarling), false)
}

// TestMixedCluster1Nats2Starling: one nats-server 2.9.10 and two
// Starling servers, with route authorization: each kind presents the
// credentials from its route URLs and checks the other's.
func TestMixedCluster1Nats2Starling(t *testing.T) {
	bin := natsServerPath(t)
	clusterSuite(t, startMixed(t, bin, true, kindStarling, kindStarling, kindNats), false)
}

// TestMixedClusterNats211: nats-server 2.11 pools routes and negotiates
// compression; Starling announces neither, and 2.11 keeps one plain
// route to it. Only with STARLING_NATS_SERVER_2_11 set.
func TestMixedClusterNats211(t *testing.T) {
	bin := natsServer211Path(t)
	nodes := startMixed(t, bin, false, kindNats, kindStarling, kindNats)
	starlingID := nodes[1].s.ID()
	for _, n := range []*clusterNode{nodes[0], nodes[2]} {
		var rz struct {
			Routes []struct {
				RemoteID    string `json:"remote_id"`
				Compression string `json:"compression"`
			} `json:"routes"`
		}
		if err := tryGetJSON(n.proc.monitorURL+"/routez", &rz); err != nil {
			t.Fatal(err)
		}
		var toStarling []string
		for _, r := range rz.Routes {
			if r.RemoteID == starlingID {
				toStarling = append(toStarling, r.Compression)
			}
		}
		if len(toStarling) != 1 || (toStarling[0] != "not supported" && toStarling[0] != "off") {
			t.Errorf("%s: routes to Starling with compression %q, want one uncompressed", n, toStarling)
		}
	}
	clusterSuite(t, nodes, false)
}

// TestMixedJetStreamNotShared: a Starling with JetStream in a cluster
// with nats-server servers starts, serves its own streams, keeps routing
// messages, and says in its log that its JetStream is not shared with
// the cluster (nats-server's JetStream clustering is not implemented).
func TestMixedJetStreamNotShared(t *testing.T) {
	// Parallel: it waits on a cluster-wide event (the mesh, a client's
	// move, a log line) and may run beside the other waits.
	t.Parallel()
	bin := natsServerPath(t)
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	n0 := startNatsServerNode(t, bin, nodeConfig{name: "nats0", cluster: "mixed", clusterPort: ports[0], routes: routes})
	n1 := startNatsServerNode(t, bin, nodeConfig{name: "nats1", cluster: "mixed", clusterPort: ports[1], routes: routes})
	st := startStarlingNode(t, nodeConfig{name: "starling", cluster: "mixed", clusterPort: ports[2], routes: routes, jetStream: true})
	waitMesh(t, n0, n1, st)

	nc := st.connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LOCAL", Subjects: []string{"local.>"}}); err != nil {
		t.Fatalf("create a stream on the Starling server: %v", err)
	}
	// A message published on nats-server reaches the Starling stream.
	pub := n0.connect(t)
	syncInterest(t, nc, pub)
	if _, err := pub.Request("local.x", []byte("from nats-server"), 10*time.Second); err != nil {
		t.Fatalf("publish to the stream from nats-server: %v", err)
	}
	info, err := js.Stream(ctx, "LOCAL")
	if err != nil {
		t.Fatal(err)
	}
	if info.CachedInfo().State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.CachedInfo().State.Msgs)
	}
	eventually(t, clusterWait, func() bool { return jetStreamNotSharedLogged(st) },
		"Starling's log to say that its JetStream is not shared with the cluster")
}

// jetStreamNotSharedLogged looks for the log line that tells an operator
// Starling's JetStream stays local in this cluster: at INFO or above, it
// names JetStream and says it is not shared, not clustered, not
// replicated or local only.
func jetStreamNotSharedLogged(n *clusterNode) bool {
	for _, l := range n.logs.all() {
		low := strings.ToLower(l)
		if strings.HasPrefix(l, "DEBUG") {
			continue
		}
		if strings.Contains(low, "jetstream") && (strings.Contains(low, "not shared") || strings.Contains(low, "not clustered") || strings.Contains(low, "local only") || strings.Contains(low, "not replicated")) {
			return true
		}
	}
	return false
}

// TestMixedSystemAccountInterest: nats-server tells its peers of its
// system account's subscriptions (RS+ $SYS ...). They are not interest
// in Starling's global account: a Starling client's request on such a
// subject gets the no-responders status, as it does on nats-server.
func TestMixedSystemAccountInterest(t *testing.T) {
	bin := natsServerPath(t)
	nodes := startMixed(t, bin, false, kindNats, kindStarling)
	subj := "$SYS.REQ.SERVER.PING"
	for _, n := range nodes {
		t.Run(n.name, func(t *testing.T) {
			if n.s != nil {
			}
			nc := n.connect(t)
			_, err := nc.Request(subj, nil, 5*time.Second)
			if !errors.Is(err, nats.ErrNoResponders) {
				t.Fatalf("request on %s: %v, want no responders", subj, err)
			}
		})
	}
}

// TestMixedPeerRestart: when a nats-server peer stops, Starling drops
// the interest it had from it (a request gets no responders); when it
// comes back on the same route port, Starling dials it again and each
// side learns the other's interest, old and new.
func TestMixedPeerRestart(t *testing.T) {
	bin := natsServerPath(t)
	ports := freePorts(t, 2)
	routes := []string{routeURLOf(ports[0], "", ""), routeURLOf(ports[1], "", "")}
	natsCfg := nodeConfig{name: "nats0", cluster: "mixed", clusterPort: ports[0], routes: routes}
	n := startNatsServerNode(t, bin, natsCfg)
	st := startStarlingNode(t, nodeConfig{name: "starling1", cluster: "mixed", clusterPort: ports[1], routes: routes})
	waitMesh(t, n, st)

	sc := st.connect(t)
	if _, err := sc.Subscribe("restart.back", func(m *nats.Msg) { _ = m.Respond([]byte("starling")) }); err != nil {
		t.Fatal(err)
	}
	nc := n.connect(t, nats.MaxReconnects(0))
	if _, err := nc.Subscribe("restart.svc", func(m *nats.Msg) { _ = m.Respond([]byte("first")) }); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, nc, sc)
	expectReply(t, sc, "restart.svc", "first")

	n.proc.stop()
	eventually(t, clusterWait, func() bool { return st.numRoutes(t) == 0 }, "Starling to notice the peer is gone")
	expectNoResponders(t, sc, "restart.svc")

	n2 := startNatsServerNode(t, bin, natsCfg)
	waitMesh(t, n2, st)
	nc2 := n2.connect(t)
	if _, err := nc2.Subscribe("restart.svc", func(m *nats.Msg) { _ = m.Respond([]byte("second")) }); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, nc2, sc)
	expectReply(t, sc, "restart.svc", "second")
	syncInterest(t, sc, nc2)
	expectReply(t, nc2, "restart.back", "starling")
}

// TestMixedRouteTLS: nats-server and Starling connect their routes with
// TLS (both ends verified against one CA) and carry messages both ways.
func TestMixedRouteTLS(t *testing.T) {
	t.Parallel() // waits on a cluster-wide event, beside the other waits
	bin := natsServerPath(t)
	rt := newRouteTLS(t)
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	nodes := []*clusterNode{
		startNatsServerNode(t, bin, nodeConfig{name: "nats0", cluster: "mixed", clusterPort: ports[0], routes: routes, tls: rt}),
		startStarlingNode(t, nodeConfig{name: "starling1", cluster: "mixed", clusterPort: ports[1], routes: routes, tls: rt}),
		startNatsServerNode(t, bin, nodeConfig{name: "nats2", cluster: "mixed", clusterPort: ports[2], routes: routes, tls: rt}),
	}
	waitMesh(t, nodes...)
	t.Run("PubSubAcross", func(t *testing.T) { testPubSubAcross(t, nodes) })
	t.Run("RequestReply", func(t *testing.T) { testRequestReply(t, nodes) })
}

// TestMixedQueueWeights: nats-server spreads a queue group's messages by
// the weights Starling announces (four members on a Starling server),
// and Starling by nats-server's.
func TestMixedQueueWeights(t *testing.T) {
	bin := natsServerPath(t)
	nodes := startMixed(t, bin, false, kindNats, kindStarling, kindNats, kindStarling)
	t.Run("nats-server publishes", func(t *testing.T) { testQueueWeights(t, nodes[0], nodes[2], nodes[1]) })
	t.Run("Starling publishes", func(t *testing.T) {
		testQueueWeights(t, nodes[3], nodes[1], nodes[2])
	})
}

// TestMixedClusterSystemAccount: with the same accounts on both kinds, the
// system account's requests cross the routes both ways: `nats server
// list` made on either kind lists both servers.
func TestMixedClusterSystemAccount(t *testing.T) {
	bin := natsServerPath(t)
	ports := freePorts(t, 2)
	routes := []string{routeURLOf(ports[0], "", ""), routeURLOf(ports[1], "", "")}
	natsConf := `accounts {
  A: { users: [{user: a, password: a}] }
  SYS: { users: [{user: sys, password: sys}] }
}
system_account: SYS
`
	nodes := []*clusterNode{
		startNatsServerNode(t, bin, nodeConfig{name: "nats0", cluster: "mixed", clusterPort: ports[0], routes: routes, natsConf: natsConf}),
		startStarlingNode(t, nodeConfig{name: "starling1", cluster: "mixed", clusterPort: ports[1], routes: routes}, func(o *serverOptions) {
			o.Accounts = []server.AccountOptions{{Name: "A"}, {Name: "SYS"}}
			o.SystemAccount = "SYS"
			o.Users = []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "sys", Password: "sys", Account: "SYS"}}
		}),
	}
	waitMesh(t, nodes...)
	for _, n := range nodes {
		cli := newNatsCLI(t, strings.Replace(n.clientURL, "nats://", "nats://sys:sys@", 1))
		var out string
		eventually(t, 30*time.Second, func() bool {
			out, _ = cli.try("server", "list", "--timeout", "3s")
			return strings.Contains(out, "nats0") && strings.Contains(out, "starling1")
		}, "nats server list on "+n.name+" to list both servers")
	}
}
