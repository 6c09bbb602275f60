package chaos

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestClusterMesh: both variants form a full mesh through the proxies,
// carry messages, and a killed server restarted with the same settings
// joins again.
func TestClusterMesh(t *testing.T) {
	for _, embedded := range []bool{true, false} {
		name := map[bool]string{true: "embedded", false: "processes"}[embedded]
		t.Run(name, func(t *testing.T) {
			c := New(t, Options{N: 3, Embedded: embedded})
			for _, pr := range Pairs(3) {
				if c.Link(pr.I, pr.J).Stats().Accepted == 0 {
					t.Fatalf("link %v carried no connection: the route bypassed the proxy", pr)
				}
			}
			sub := c.Connect(2)
			s, err := sub.SubscribeSync("mesh")
			if err != nil {
				t.Fatal(err)
			}
			sub.Flush()
			c.WaitInterest(0, 2, "mesh")
			pub := c.Connect(0)
			if err := pub.Publish("mesh", []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.NextMsg(Timeout); err != nil {
				t.Fatal(err)
			}
			old := c.ID(1)
			c.Restart(1)
			c.WaitMesh()
			if c.ID(1) == old {
				t.Log("a restarted server kept its ID")
			}
		})
	}
}

// TestClusterCleanupKillsProcesses: whatever state a test leaves its
// servers in, even stopped, cleanup kills them by PID.
func TestClusterCleanupKillsProcesses(t *testing.T) {
	var pids []int
	t.Run("cluster", func(t *testing.T) {
		c := New(t, Options{N: 2})
		for _, n := range c.nodes {
			pids = append(pids, n.pid())
		}
		c.Stop(1)
	})
	for _, pid := range pids {
		if pid == 0 {
			t.Fatal("a server had no PID")
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("server process %d still exists after cleanup: %v", pid, err)
		}
	}
}

// TestClusterPartitionRoutes: cutting a server's links leaves the others
// meshed and it alone; healing brings the mesh back.
func TestClusterPartitionRoutes(t *testing.T) {
	c := New(t, Options{N: 3, Embedded: true})
	c.Isolate(1)
	c.WaitRoutes(Isolated(1))
	c.HealAll()
	start := time.Now()
	c.WaitMesh()
	t.Logf("mesh back %v after healing", time.Since(start))
}

// TestClusterTwoWay: with Starling and JetStream each server dials every
// other through a proxy of its own (every one carries a connection), a
// partition cuts both proxies of a pair, and the mesh comes back.
func TestClusterTwoWay(t *testing.T) {
	c := New(t, Options{N: 3, Embedded: true, JetStream: true})
	for _, i := range c.Servers() {
		for _, j := range c.Others(i) {
			if p := c.Dialled(i, j); p == nil || p.Stats().Accepted == 0 {
				t.Fatalf("server %d's proxy to server %d carried no connection", i, j)
			}
		}
	}
	c.Isolate(1)
	c.WaitRoutes(Isolated(1))
	c.HealAll()
	c.WaitMesh()
}

// TestMuteOut: a muted server's outgoing bytes are blackholed on every
// proxy of its pairs, in the direction that leaves it, in both
// topologies; no other proxy is touched.
func TestMuteOut(t *testing.T) {
	for _, o := range []Options{{N: 3, JetStream: true}, {N: 3, JetStream: true, NATSServer: "nats-server"}} {
		c := &Cluster{t: t, o: o, links: map[Pair]*Proxy{}, back: map[Pair]*Proxy{}}
		for _, pr := range Pairs(o.N) {
			c.links[pr] = idleProxy(t)
			if o.twoWay() {
				c.back[pr] = idleProxy(t)
			}
		}
		c.MuteOut(1)
		for _, i := range c.Servers() {
			for _, j := range c.Others(i) {
				p := c.Dialled(i, j)
				if p == nil {
					continue // one-way: the higher index dials nothing
				}
				want := [2]bool{}
				switch {
				case i == 1:
					want[ToTarget] = true
				case j == 1:
					want[FromTarget] = true
				}
				if got := p.Faults().Blackhole; got != want {
					t.Errorf("two-way %v: the proxy %d dials to %d blackholes %v, want %v", o.twoWay(), i, j, got, want)
				}
			}
		}
	}
}

// idleProxy is a proxy to a port nobody listens on, closed when the test
// ends.
func idleProxy(t *testing.T) *Proxy {
	p, err := NewProxy("127.0.0.1:1", 1, &ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
