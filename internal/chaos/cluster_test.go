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
