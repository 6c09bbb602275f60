package test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// The cluster behaviour nats.go clients see, on clusters of Starling
// servers: the same suite runs on mixed clusters (cluster_mixed_test.go).

// startMesh runs n Starling servers whose configurations each list every
// server's route URL, their own included, as a nats-server deployment
// does: each pair dials each other and keeps one route, and a server
// gives up its route to itself.
func startMesh(t *testing.T, n int) []*clusterNode {
	t.Helper()
	ports := freePorts(t, n)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	nodes := make([]*clusterNode, n)
	for i := range nodes {
		nodes[i] = startStarlingNode(t, nodeConfig{name: fmt.Sprintf("s%d", i), cluster: "mesh", clusterPort: ports[i], routes: routes})
	}
	waitMesh(t, nodes...)
	return nodes
}

// startSeeded runs n Starling servers of which only the first is named
// in the others' routes: they must learn of each other from the seed's
// route INFO (gossip) to form the full mesh.
func startSeeded(t *testing.T, n int) []*clusterNode {
	t.Helper()
	seed := startStarlingNode(t, nodeConfig{name: "seed", cluster: "seeded"})
	nodes := []*clusterNode{seed}
	for i := 1; i < n; i++ {
		nodes = append(nodes, startStarlingNode(t, nodeConfig{name: fmt.Sprintf("s%d", i), cluster: "seeded", routes: []string{seed.routeURL}}))
	}
	waitMesh(t, nodes...)
	return nodes
}

// TestClusterMesh3 runs the suite on three servers with explicit routes.
func TestClusterMesh3(t *testing.T) {
	clusterSuite(t, startMesh(t, 3), true)
}

// TestClusterSeed5 runs the suite on five servers that know only a seed
// (needs gossip).
func TestClusterSeed5(t *testing.T) {
	// Parallel: it waits on a cluster-wide event (the mesh, a client's
	// move, a log line) and may run beside the other waits.
	t.Parallel()
	clusterSuite(t, startSeeded(t, 5), true)
}

// clusterSuite runs the conformance checks on a formed cluster.
// starlingOnly adds those that hold for Starling's choices where
// nats-server's differ (local queue members preferred).
func clusterSuite(t *testing.T, nodes []*clusterNode, starlingOnly bool) {
	t.Run("PubSubAcross", func(t *testing.T) { testPubSubAcross(t, nodes) })
	t.Run("InterestChanges", func(t *testing.T) { testInterestChanges(t, nodes) })
	t.Run("QueueGroups", func(t *testing.T) { testQueueGroups(t, nodes, starlingOnly) })
	t.Run("RequestReply", func(t *testing.T) { testRequestReply(t, nodes) })
	t.Run("Headers", func(t *testing.T) { testHeadersAcross(t, nodes) })
	t.Run("NoResponders", func(t *testing.T) { testNoResponders(t, nodes) })
	t.Run("Wildcards", func(t *testing.T) { testWildcardsAcross(t, nodes) })
}

// testPubSubAcross: a subscriber on every server gets every message of
// every publisher exactly once, each publisher's in the order sent.
func testPubSubAcross(t *testing.T, nodes []*clusterNode) {
	const perPub = 100
	conns := connectAll(t, nodes)
	sinks := make([]*sink, len(conns))
	for i, nc := range conns {
		sinks[i] = subscribeSink(t, nc, "across.data")
	}
	syncAll(t, conns...)
	for i, nc := range conns {
		for j := range perPub {
			if err := nc.Publish("across.data", fmt.Appendf(nil, "%d %d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, nc := range conns {
		syncInterest(t, nc, conns...)
		next := make([]int, len(conns)) // the next sequence expected of each publisher
		for _, m := range sinks[i].take() {
			var from, seq int
			if _, err := fmt.Sscanf(string(m.Data), "%d %d", &from, &seq); err != nil {
				t.Fatalf("%s: unexpected message %q", nodes[i], m.Data)
			}
			if seq != next[from] {
				t.Fatalf("%s: from %s got #%d, want #%d (lost, repeated or reordered)", nodes[i], nodes[from], seq, next[from])
			}
			next[from]++
		}
		for from, n := range next {
			if n != perPub {
				t.Errorf("%s: %d of %d messages from %s", nodes[i], n, perPub, nodes[from])
			}
		}
	}
}

// testInterestChanges: a remote subscription is known to the other
// servers (a request finds it) until its last subscriber on that server
// leaves; then a request gets the no-responders status again.
func testInterestChanges(t *testing.T, nodes []*clusterNode) {
	subNode, pubNode := nodes[len(nodes)-1], nodes[0]
	pub := pubNode.connect(t)
	a, b := subNode.connect(t), subNode.connect(t)
	reply := func(m *nats.Msg) { _ = m.Respond([]byte("here")) }
	expectNoResponders(t, pub, "interest.svc")
	sa, err := a.Subscribe("interest.svc", reply)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Subscribe("interest.svc", reply)
	if err != nil {
		t.Fatal(err)
	}
	syncInterest(t, a, pub)
	syncInterest(t, b, pub)
	expectReply(t, pub, "interest.svc", "here")
	// One of two subscribers leaves: the server keeps the interest.
	if err := sa.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, a, pub)
	expectReply(t, pub, "interest.svc", "here")
	// The last one leaves: the others forget it.
	if err := sb.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, b, pub)
	expectNoResponders(t, pub, "interest.svc")
}

func expectNoResponders(t testing.TB, nc *nats.Conn, subj string) {
	t.Helper()
	_, err := nc.Request(subj, nil, 10*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("request on %s from %s: err %v, want no responders", subj, nc.Opts.Name, err)
	}
}

func expectReply(t testing.TB, nc *nats.Conn, subj, want string) {
	t.Helper()
	m, err := nc.Request(subj, nil, 10*time.Second)
	if err != nil {
		t.Fatalf("request on %s from %s: %v", subj, nc.Opts.Name, err)
	}
	if string(m.Data) != want {
		t.Fatalf("request on %s from %s: reply %q, want %q", subj, nc.Opts.Name, m.Data, want)
	}
}

// testQueueGroups: with a member of one group on every server, each
// message reaches exactly one member cluster-wide. Starling gives a
// message to a member on the publisher's server when there is one
// (nats-server picks at random among all members, weighted by the
// members each server has), and to a remote member when there is none.
func testQueueGroups(t *testing.T, nodes []*clusterNode, localPreferred bool) {
	const perPub = 60
	members := connectAll(t, nodes)
	pubs := connectAll(t, nodes)
	sinks := make([]*sink, len(members))
	for i, nc := range members {
		sinks[i] = queueSink(t, nc, "queue.work", "workers")
	}
	for _, m := range members {
		syncInterest(t, m, pubs...)
	}
	publish := func(from int) {
		for j := range perPub {
			if err := pubs[from].Publish("queue.work", fmt.Appendf(nil, "%d %d", from, j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// collect returns what each member got, once every message published
	// so far has been delivered; it fails on a message delivered twice.
	collect := func() [][]string {
		got := make([][]string, len(members))
		seen := map[string]string{}
		for i, m := range members {
			if sinks[i] == nil {
				continue // left the group
			}
			syncInterest(t, m, pubs...)
			got[i] = payloads(sinks[i].take())
			for _, p := range got[i] {
				if other, dup := seen[p]; dup {
					t.Fatalf("message %q delivered to %s and %s", p, other, nodes[i])
				}
				seen[p] = nodes[i].name
			}
		}
		return got
	}
	for i := range pubs {
		publish(i)
	}
	got := collect()
	total := 0
	for i, g := range got {
		total += len(g)
		t.Logf("member on %s got %d", nodes[i], len(g))
		if len(g) == 0 {
			t.Errorf("member on %s got no message", nodes[i])
		}
		if !localPreferred {
			continue
		}
		for _, p := range g {
			if !strings.HasPrefix(p, fmt.Sprintf("%d ", i)) {
				t.Errorf("member on %s got %q from another server while the publisher's server had a member", nodes[i], p)
				break
			}
		}
	}
	if want := perPub * len(pubs); total != want {
		t.Fatalf("%d messages delivered to the group, want %d", total, want)
	}

	// Without a member on the publisher's server, one remote member gets
	// each message.
	if err := sinks[0].sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	sinks[0] = nil
	syncInterest(t, members[0], pubs...)
	publish(0)
	got = collect()
	total = 0
	for i, g := range got[1:] {
		total += len(g)
		t.Logf("member on %s got %d", nodes[i+1], len(g))
	}
	if total != perPub {
		t.Fatalf("%d messages delivered to the remote members, want %d", total, perPub)
	}
}

// testRequestReply: a requester on every server reaches a responder on
// every server, with old-style requests (an inbox subscription per
// request) and new-style ones (one wildcard inbox per connection).
func testRequestReply(t *testing.T, nodes []*clusterNode) {
	for _, style := range []struct {
		name string
		opts []nats.Option
	}{{"new style", nil}, {"old style", []nats.Option{nats.UseOldRequestStyle()}}} {
		t.Run(style.name, func(t *testing.T) {
			responders := connectAll(t, nodes)
			requesters := connectAll(t, nodes, style.opts...)
			for i, nc := range responders {
				name := nodes[i].name
				if _, err := nc.Subscribe("rr."+name, func(m *nats.Msg) {
					_ = m.Respond(append([]byte(name+" got "), m.Data...))
				}); err != nil {
					t.Fatal(err)
				}
				syncInterest(t, nc, requesters...)
			}
			for j, req := range requesters {
				for i := range responders {
					subj := "rr." + nodes[i].name
					body := fmt.Sprintf("from %s", nodes[j])
					m, err := req.Request(subj, []byte(body), 10*time.Second)
					if err != nil {
						t.Fatalf("%s -> %s: %v", nodes[j], nodes[i], err)
					}
					if want := nodes[i].name + " got " + body; string(m.Data) != want {
						t.Fatalf("%s -> %s: reply %q, want %q", nodes[j], nodes[i], m.Data, want)
					}
				}
			}
		})
	}
}

// testHeadersAcross: headers (repeated keys, a status-like value, the
// order of values) cross the cluster unchanged, in messages and in
// replies.
func testHeadersAcross(t *testing.T, nodes []*clusterNode) {
	conns := connectAll(t, nodes)
	sinks := make([]*sink, len(conns))
	for i, nc := range conns {
		sinks[i] = subscribeSink(t, nc, "hdr.data")
	}
	syncAll(t, conns...)
	msg := nats.NewMsg("hdr.data")
	msg.Header.Add("X-Multi", "one")
	msg.Header.Add("X-Multi", "two")
	msg.Header.Set("X-Empty-Body", "yes")
	msg.Data = []byte("payload")
	if err := conns[0].PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	for i, nc := range conns {
		syncInterest(t, nc, conns[0])
		got := sinks[i].take()
		if len(got) != 1 {
			t.Fatalf("%s: %d messages, want 1", nodes[i], len(got))
		}
		m := got[0]
		if !slices.Equal(m.Header.Values("X-Multi"), []string{"one", "two"}) || m.Header.Get("X-Empty-Body") != "yes" || string(m.Data) != "payload" {
			t.Errorf("%s: header %v data %q", nodes[i], m.Header, m.Data)
		}
	}
	last := conns[len(conns)-1]
	if _, err := last.Subscribe("hdr.echo", func(m *nats.Msg) {
		r := nats.NewMsg(m.Reply)
		r.Header.Set("X-Echo", m.Header.Get("X-Req"))
		_ = m.RespondMsg(r)
	}); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, last, conns[0])
	req := nats.NewMsg("hdr.echo")
	req.Header.Set("X-Req", "ping")
	resp, err := conns[0].RequestMsg(req, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Echo") != "ping" {
		t.Errorf("reply header %v", resp.Header)
	}
}

// testNoResponders: a request gets the 503 status only when no server
// of the cluster has interest; a queue member on another server counts.
func testNoResponders(t *testing.T, nodes []*clusterNode) {
	requesters := connectAll(t, nodes)
	for _, nc := range requesters {
		expectNoResponders(t, nc, "noresp.svc")
	}
	last := nodes[len(nodes)-1].connect(t)
	sub, err := last.QueueSubscribe("noresp.svc", "q", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
	if err != nil {
		t.Fatal(err)
	}
	syncInterest(t, last, requesters...)
	for _, nc := range requesters {
		expectReply(t, nc, "noresp.svc", "ok")
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	syncInterest(t, last, requesters...)
	for _, nc := range requesters {
		expectNoResponders(t, nc, "noresp.svc")
	}
}

// testWildcardsAcross: remote wildcard interest gets the matching
// subjects, once each, and no others.
func testWildcardsAcross(t *testing.T, nodes []*clusterNode) {
	pub := nodes[0].connect(t)
	type want struct {
		filter string
		subs   []string
	}
	cases := []want{
		{"wild.*", []string{"wild.a", "wild.b"}},
		{"wild.>", []string{"wild.a", "wild.b", "wild.a.b", "wild.a.b.c"}},
		{"wild.*.b", []string{"wild.a.b"}},
		{"wild.a.b.c", []string{"wild.a.b.c"}},
	}
	type subAt struct {
		nc *nats.Conn
		k  *sink
		w  want
	}
	var subs []subAt
	for i, c := range cases {
		node := nodes[1+i%(len(nodes)-1)]
		nc := node.connect(t)
		subs = append(subs, subAt{nc, subscribeSink(t, nc, c.filter), c})
		syncInterest(t, nc, pub)
	}
	for _, s := range []string{"wild.a", "wild.b", "wild.a.b", "wild.a.b.c", "wildx", "other.a"} {
		if err := pub.Publish(s, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range subs {
		syncInterest(t, s.nc, pub)
		got := payloads(s.k.take())
		sort.Strings(got)
		w := slices.Clone(s.w.subs)
		sort.Strings(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s on %s: got %q, want %q", s.w.filter, s.nc.Opts.Name, got, w)
		}
	}
}

// testQueueWeights: a publisher's server without members of a queue
// group spreads the messages over the other servers by how many members
// each has (the weight in RS+), as nats-server does: with one member on
// few's server and four on many's, many gets about four in five.
func testQueueWeights(t *testing.T, pub, few, many *clusterNode) {
	const n = 300
	pc := pub.connect(t)
	fc, mc := few.connect(t), many.connect(t)
	fk := queueSink(t, fc, "weights.work", "w")
	var mk []*sink
	for range 4 {
		mk = append(mk, queueSink(t, mc, "weights.work", "w"))
	}
	syncInterest(t, fc, pc)
	syncInterest(t, mc, pc)
	for i := range n {
		if err := pc.Publish("weights.work", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	syncInterest(t, fc, pc)
	syncInterest(t, mc, pc)
	fewGot := len(fk.take())
	manyGot := 0
	for _, k := range mk {
		manyGot += len(k.take())
	}
	t.Logf("%s (1 member) got %d, %s (4 members) got %d", few, fewGot, many, manyGot)
	if fewGot+manyGot != n {
		t.Fatalf("%d deliveries, want %d", fewGot+manyGot, n)
	}
	// Weighted: few gets about 60 (sd 7); unweighted, about 150.
	if manyGot < 2*fewGot {
		t.Errorf("the server with four members got %d, the one with one %d: the queue weights are not used", manyGot, fewGot)
	}
}

// TestClusterQueueWeights runs testQueueWeights on Starling servers.
func TestClusterQueueWeights(t *testing.T) {
	nodes := startMesh(t, 3)
	testQueueWeights(t, nodes[0], nodes[1], nodes[2])
}
