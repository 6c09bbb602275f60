package jscluster

import (
	"context"
	"errors"
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
	tests := []struct {
		name     string
		peers    []core.ClusterPeer
		expected int
		want     []string
		ready    bool
		err      bool
	}{
		{"alone", nil, 3, []string{"b"}, false, false},
		{"all there", []core.ClusterPeer{js("c"), js("a")}, 3, []string{"a", "b", "c"}, true, false},
		{"one without jetstream", []core.ClusterPeer{js("c"), {Name: "a"}}, 3, []string{"b", "c"}, false, false},
		{"more than expected", []core.ClusterPeer{js("a"), js("c"), js("d")}, 3, nil, false, true},
		{"two at least", []core.ClusterPeer{js("a")}, Expected(0), []string{"a", "b"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, ready, err := Founders("b", tt.peers, tt.expected)
			if (err != nil) != tt.err || ready != tt.ready {
				t.Fatalf("%v %v %v", names, ready, err)
			}
			if !tt.err && fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Fatalf("%v, want %v", names, tt.want)
			}
		})
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
		waitUntil(t, "the founders", func() bool {
			m, err := n.Found(context.Background(), names[i], Expected(len(routes)), &recorder{})
			if errors.Is(err, ErrNotReady) {
				return false
			}
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
