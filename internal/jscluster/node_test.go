package jscluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/raftnode"
)

// counter is a state machine that sums the numbers proposed to it.
type counter struct {
	mu  sync.Mutex
	sum int
	n   int
}

func (c *counter) Apply(entries []raftnode.Entry) ([]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]any, len(entries))
	for i, e := range entries {
		if len(e.Data) == 0 {
			continue // a new leader's empty entry
		}
		v, err := strconv.Atoi(string(e.Data))
		if err != nil {
			return nil, err
		}
		c.sum += v
		c.n++
		out[i] = c.sum
	}
	return out, nil
}

func (c *counter) Snapshot() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return []byte(fmt.Sprintf("%d %d", c.sum, c.n)), nil
}

func (c *counter) Restore(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sum, c.n = 0, 0
	if len(b) > 0 {
		_, err := fmt.Sscanf(string(b), "%d %d", &c.sum, &c.n)
		return err
	}
	return nil
}

func (c *counter) value() (sum, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sum, c.n
}

func clusterServer(t testing.TB, name string, routes ...string) *core.Server {
	t.Helper()
	o := core.Options{Host: "127.0.0.1", Port: core.RandomPort, ServerName: name, Logger: slog.New(slog.DiscardHandler)}
	o.Cluster.Host, o.Cluster.Port, o.Cluster.Name = "127.0.0.1", core.RandomPort, "raft"
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		o.Cluster.Routes = append(o.Cluster.Routes, u)
	}
	s, err := core.New(o)
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

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startNodes starts a cluster of servers with these names, each with a
// Raft node (memory storage) that knows the others.
func startNodes(t testing.TB, names ...string) ([]*Node, []uint64) {
	t.Helper()
	return startNodesWith(t, func(int) raftnode.Storage { return raftnode.NewMemStorage() }, names...)
}

// startNodesWith is startNodes with server i's storage from storage(i).
func startNodesWith(t testing.TB, storage func(i int) raftnode.Storage, names ...string) ([]*Node, []uint64) {
	t.Helper()
	var srvs []*core.Server
	for i, name := range names {
		var routes []string
		if i > 0 {
			routes = append(routes, "nats-route://"+srvs[0].ClusterAddr().String())
		}
		srvs = append(srvs, clusterServer(t, name, routes...))
	}
	var nodes []*Node
	peers := make([]uint64, len(names))
	for i, name := range names {
		n, err := Start(Config{Server: srvs[i], ServerName: name, Storage: storage(i),
			Raft: raftnode.Options{TickInterval: 20 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
		peers[i] = n.ID
	}
	for i, n := range nodes {
		for j, other := range names {
			if i != j {
				if err := n.AddPeer(other, srvs[j].ClusterAddr().String()); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return nodes, peers
}

// leaderOf waits for group to elect a leader and returns it.
func leaderOf(t testing.TB, nodes []*Node, group uint64) *Node {
	t.Helper()
	var leader *Node
	waitUntil(t, "a leader", func() bool {
		for _, n := range nodes {
			st, err := n.Host.Status(context.Background(), group)
			if err == nil && st.Leader == n.ID {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// TestGroupOverClusterPort: three servers of a cluster run one Raft group
// over Raft connections on their cluster ports: a leader is elected, and
// proposals made on it are applied, in the same order, on every member.
func TestGroupOverClusterPort(t *testing.T) {
	nodes, peers := startNodes(t, "n1", "n2", "n3")
	const group = 7
	sms := make([]*counter, len(nodes))
	for i, n := range nodes {
		sms[i] = &counter{}
		if err := n.Host.AddGroup(context.Background(), group, peers, sms[i]); err != nil {
			t.Fatal(err)
		}
	}
	leader := leaderOf(t, nodes, group)
	want := 0
	for i := 1; i <= 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p, err := leader.Host.Propose(ctx, group, []byte(strconv.Itoa(i)))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		r, err := p.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("proposal %d: %v", i, err)
		}
		want += i
		if r.Value != want {
			t.Fatalf("proposal %d applied as %v, want %d", i, r.Value, want)
		}
	}
	waitUntil(t, "every member to apply every proposal", func() bool {
		for _, sm := range sms {
			if sum, n := sm.value(); sum != want || n != 20 {
				return false
			}
		}
		return true
	})
}
