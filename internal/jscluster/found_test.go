package jscluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

func TestFounders(t *testing.T) {
	js := func(name string) core.ClusterPeer { return core.ClusterPeer{Name: name, JetStream: true, Addr: "x:1"} }
	got := Founders("b", []core.ClusterPeer{js("c"), {Name: "a"}, js("d"), js("c")})
	if fmt.Sprint(got) != "[b c d]" {
		t.Fatalf("%v", got)
	}
}

func TestFounding(t *testing.T) {
	t0 := time.Unix(1000, 0)
	steps := []struct {
		names []string
		at    time.Duration
		want  bool
	}{
		{[]string{"a"}, 0, false},                                           // alone
		{[]string{"a", "b"}, time.Second, false},                            // fewer than expected
		{[]string{"a", "b", "c"}, 2 * time.Second, true},                    // exactly expected: at once
		{[]string{"a", "b", "c", "d"}, 3 * time.Second, false},              // more: wait for quiet
		{[]string{"a", "b", "c", "d"}, 4 * time.Second, false},              // still settling
		{[]string{"a", "b", "c", "d"}, 5 * time.Second, true},               // unchanged for Quiet
		{[]string{"a", "b", "c", "d", "e"}, 5500 * time.Millisecond, false}, // a change restarts the wait
	}
	f := &Founding{Expected: 3, Quiet: FoundQuiet}
	for i, st := range steps {
		if got := f.Observe(st.names, t0.Add(st.at)); got != st.want {
			t.Fatalf("step %d %v at %v: %v, want %v", i, st.names, st.at, got, st.want)
		}
	}
}

// freePorts reserves n loopback ports (released before use: a test
// cluster's routes must name every server's port in advance).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	return ports
}

// TestFoundMetaGroup: three JetStream servers whose cluster blocks name
// every server's route find each other through route INFO, found the
// same meta group, elect a leader and agree on an assignment.
func TestFoundMetaGroup(t *testing.T) {
	names := []string{"f1", "f2", "f3"}
	ports := freePorts(t, len(names))
	var routes []*url.URL
	for _, p := range ports {
		u, _ := url.Parse(fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		routes = append(routes, u)
	}
	var nodes []*Node
	for i, name := range names {
		o := core.Options{Host: "127.0.0.1", Port: core.RandomPort, ServerName: name, Logger: slog.New(slog.DiscardHandler)}
		o.Cluster.Host, o.Cluster.Port, o.Cluster.Name, o.Cluster.Routes = "127.0.0.1", ports[i], "found", routes
		s, err := core.New(o)
		if err != nil {
			t.Fatal(err)
		}
		s.AnnounceJetStream(true)
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		})
		n, err := Start(Config{Server: s, ServerName: name, Storage: raftnode.NewMemStorage(),
			Raft: raftnode.Options{TickInterval: 20 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		p := FollowPeers(n, s, nil)
		t.Cleanup(p.Stop)
		nodes = append(nodes, n)
	}
	metas := make([]*Meta, len(nodes))
	for i, n := range nodes {
		f := &Founding{Expected: Expected(len(routes)), Quiet: FoundQuiet}
		waitUntil(t, "the founders", func() bool {
			founders := Founders(names[i], n.srv.ClusterPeers())
			if !f.Observe(founders, time.Now()) {
				return false
			}
			m, err := n.Found(context.Background(), founders, &recorder{})
			if err != nil {
				t.Fatal(err)
			}
			metas[i] = m
			return true
		})
		t.Cleanup(metas[i].Close)
	}
	leader := leaderOf(t, nodes, MetaGroup)
	var lm *Meta
	for i, n := range nodes {
		if n == leader {
			lm = metas[i]
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	op := jsmeta.Op{Kind: jsmeta.AddStream, Stream: &jsmeta.Stream{Account: "$G", Config: jsapi.StreamConfig{Name: "S"},
		Group: jsmeta.Group{Name: "S-R1F-x", Peers: []string{"f1"}}}}
	if _, err := lm.Propose(ctx, op); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "every member to know the stream", func() bool {
		for _, m := range metas {
			found := false
			m.Read(func(st *jsmeta.State) { found = st.Stream("$G", "S") != nil })
			if !found {
				return false
			}
		}
		return true
	})
}
