package test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Helpers for the replicated JetStream tests: a three-node JetStream
// cluster of either kind of server, one client per node, and waits that
// ride out leader elections.

// jsElectWait bounds a wait that spans a Raft election (meta group at
// start, a stream's group after its leader stops) or a replica catching
// up. nats-server's election timeouts are seconds long, and a loaded
// machine running -race stretches them.
const jsElectWait = 30 * time.Second

// jsTarget is a kind of server the cluster tests run against.
type jsTarget struct {
	name  string
	start func(t *testing.T, cfg nodeConfig) *clusterNode
}

// jsClusterTargets are the servers the replicated JetStream tests run
// against. nats-server is the reference: its behaviour is what the tests
// expect (2.9, and 2.11 when STARLING_NATS_SERVER_2_11 names a binary),
// and Starling runs the same steps.
func jsClusterTargets() []jsTarget {
	return []jsTarget{
		{name: "nats-server", start: func(t *testing.T, cfg nodeConfig) *clusterNode {
			return startNatsServerNode(t, natsServerPath(t), cfg)
		}},
		{name: "nats-server-2.11", start: func(t *testing.T, cfg nodeConfig) *clusterNode {
			return startNatsServerNode(t, natsServer211Path(t), cfg)
		}},
		{name: "starling", start: func(t *testing.T, cfg nodeConfig) *clusterNode {
			n := startStarlingNode(t, cfg)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("log of starling %s:\n%s", n.name, lastLines(strings.Join(n.logs.atLeast(slog.LevelInfo), "\n"), 60))
				}
			})
			return n
		}},
	}
}

// jsCluster is three JetStream servers in one cluster, with a client
// connection on each. A connection belongs to its server (no reconnect
// elsewhere), so a test knows which server a request went through.
type jsCluster struct {
	owner *testing.T // lives as long as the servers; subtests fail on their own t
	nodes []*clusterNode
	conns []*nats.Conn
	js    []jetstream.JetStream
	down  int // index of the stopped node, -1 when all run
}

// startJSCluster runs three nodes of target with JetStream, routes to
// each other on ports fixed up front (as a deployment names them), and
// waits for the full mesh.
func startJSCluster(t *testing.T, target jsTarget) *jsCluster {
	t.Helper()
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	c := &jsCluster{owner: t, down: -1}
	for i, p := range ports {
		cfg := nodeConfig{name: fmt.Sprintf("n%d", i+1), cluster: "r3", clusterPort: p, routes: routes, jetStream: true}
		c.nodes = append(c.nodes, target.start(t, cfg))
	}
	waitMesh(t, c.nodes...)
	c.conns = make([]*nats.Conn, len(c.nodes))
	c.js = make([]jetstream.JetStream, len(c.nodes))
	for i := range c.nodes {
		c.dial(t, i)
	}
	return c
}

// dial opens the client connection to node i.
func (c *jsCluster) dial(t testing.TB, i int) {
	t.Helper()
	n := c.nodes[i]
	nc, err := nats.Connect(n.clientURL, nats.Name("client@"+n.name), nats.Timeout(5*time.Second), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connect to %s: %v", n.name, err)
	}
	c.owner.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c.conns[i], c.js[i] = nc, js
}

// live are the indexes of the running nodes.
func (c *jsCluster) live() []int {
	var out []int
	for i := range c.nodes {
		if i != c.down {
			out = append(out, i)
		}
	}
	return out
}

// index is the node named name (a server name as JetStream reports it).
func (c *jsCluster) index(t testing.TB, name string) int {
	t.Helper()
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	t.Fatalf("no node named %q", name)
	return -1
}

// stop stops node i and closes its client. A stop lets nats-server hand
// its leaderships over; with STARLING_JS_KILL=1 a nats-server node is
// killed instead, so the survivors have to elect (an embedded Starling
// can only shut down).
func (c *jsCluster) stop(t testing.TB, i int) {
	t.Helper()
	c.conns[i].Close()
	if n := c.nodes[i]; n.proc != nil && os.Getenv("STARLING_JS_KILL") == "1" {
		n.proc.kill()
	} else {
		n.stop(t)
	}
	c.down = i
}

// restart starts the stopped node again and dials it.
func (c *jsCluster) restart(t testing.TB) {
	t.Helper()
	i := c.down
	c.nodes[i].restart(t)
	c.dial(t, i)
	c.down = -1
}

// reqCtx is a request context for one call, cancelled when t ends.
func reqCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// retry calls op until it returns nil or jsElectWait passes; each call
// gets its own short context. While a group has no leader nats-server
// answers with errors or not at all, so errors are expected until then;
// the distinct ones are logged (what a client sees during a failover is
// worth reading), the last one reported on failure.
func retry(t testing.TB, what string, op func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(jsElectWait)
	var seen []string
	for failures := 0; ; failures++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := op(ctx)
		cancel()
		if err == nil {
			if failures > 0 {
				t.Logf("%s: succeeded after %d failed attempts: %q", what, failures, seen)
			}
			return
		}
		if !slices.Contains(seen, err.Error()) {
			seen = append(seen, err.Error())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, jsElectWait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// streamInfo asks js for the stream's info.
func streamInfo(ctx context.Context, js jetstream.JetStream, name string) (*jetstream.StreamInfo, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.CachedInfo(), nil
}

// leaderInfo asks js for the stream's info until it names a leader: a
// stream may be between leaders for seconds after a server stops or
// rejoins (nats-server re-elected groups when a killed server came back).
func leaderInfo(t testing.TB, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	var info *jetstream.StreamInfo
	retry(t, "leader of "+name, func(ctx context.Context) error {
		var err error
		if info, err = streamInfo(ctx, js, name); err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return errors.New("no leader")
		}
		return nil
	})
	return info
}

// streamNames lists the account's streams through js.
func streamNames(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	l := js.StreamNames(ctx)
	var names []string
	for n := range l.Name() {
		names = append(names, n)
	}
	return names, l.Err()
}

// errReplicas says why a clustered asset's replicas are not all there
// and current yet; nil when they are.
func errReplicas(ci *jetstream.ClusterInfo, want int) error {
	if ci == nil || ci.Leader == "" {
		return errors.New("no leader")
	}
	if len(ci.Replicas) != want {
		return fmt.Errorf("leader %s, %d replicas listed, want %d", ci.Leader, len(ci.Replicas), want)
	}
	for _, p := range ci.Replicas {
		if !p.Current || p.Offline {
			return fmt.Errorf("replica %s: current %v, offline %v", p.Name, p.Current, p.Offline)
		}
	}
	return nil
}

// readStream reads sequences 1..last of the stream through js, one
// stream-message get each: its payloads by sequence, deleted sequences
// left out. (Not an ordered consumer: nats.go's retries its consumer
// re-creation without bound.)
func readStream(t testing.TB, js jetstream.JetStream, stream string, last uint64) map[uint64]string {
	t.Helper()
	var s jetstream.Stream
	retry(t, "stream "+stream, func(ctx context.Context) error {
		var err error
		s, err = js.Stream(ctx, stream)
		return err
	})
	got := map[uint64]string{}
	for seq := uint64(1); seq <= last; seq++ {
		retry(t, fmt.Sprintf("get %s sequence %d", stream, seq), func(ctx context.Context) error {
			m, err := s.GetMsg(ctx, seq)
			switch {
			case errors.Is(err, jetstream.ErrMsgNotFound):
				return nil
			case err != nil:
				return err
			}
			got[seq] = string(m.Data)
			return nil
		})
	}
	return got
}

// sortedKeys are m's sequences in order.
func sortedKeys(m map[uint64]string) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
