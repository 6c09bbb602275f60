package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JSFault is one row of the JetStream fault matrix (see the package
// documentation for what each proves). Inject starts the fault, given the
// stream's leader (-1 when none is known), and returns what ends it.
type JSFault struct {
	Name   string
	Inject func(c *Cluster, leader int, rng *rand.Rand) (heal func())
}

// JSFaults is the matrix's fault list, in a fixed order.
var JSFaults = []JSFault{
	{"none", func(*Cluster, int, *rand.Rand) func() { return func() {} }},
	{"kill-leader", func(c *Cluster, leader int, rng *rand.Rand) func() {
		return c.killFor(pick(c, leader, rng))
	}},
	{"kill-member", func(c *Cluster, _ int, rng *rand.Rand) func() {
		return c.killFor(rng.IntN(c.N()))
	}},
	{"pause-leader", func(c *Cluster, leader int, rng *rand.Rand) func() {
		i := pick(c, leader, rng)
		c.Stop(i)
		return func() { c.Cont(i) }
	}},
	{"partition-leader-minority", func(c *Cluster, leader int, rng *rand.Rand) func() {
		c.Isolate(minority(c, pick(c, leader, rng), true, rng)...)
		return c.HealAll
	}},
	{"partition-leader-majority", func(c *Cluster, leader int, rng *rand.Rand) func() {
		c.Isolate(minority(c, pick(c, leader, rng), false, rng)...)
		return c.HealAll
	}},
	{"one-way-leader-out", func(c *Cluster, leader int, rng *rand.Rand) func() {
		c.MuteOut(pick(c, leader, rng))
		return c.HealAll
	}},
}

// pick is the leader, or a random server when none is known.
func pick(c *Cluster, leader int, rng *rand.Rand) int {
	if leader >= 0 {
		return leader
	}
	return rng.IntN(c.N())
}

// minority draws a minority of the servers (at most (N-1)/2, at least
// one) that includes the leader when withLeader is set and excludes it
// otherwise.
func minority(c *Cluster, leader int, withLeader bool, rng *rand.Rand) []int {
	size := max(1, (c.N()-1)/2)
	var out []int
	if withLeader {
		out = append(out, leader)
	}
	others := c.Others(leader)
	rng.Shuffle(len(others), func(a, b int) { others[a], others[b] = others[b], others[a] })
	for _, o := range others {
		if len(out) == size {
			break
		}
		out = append(out, o)
	}
	return out
}

// killFor kills server i and returns what restarts it.
func (c *Cluster) killFor(i int) func() {
	c.Kill(i)
	return func() { c.start(i) }
}

// MuteOut blackholes everything server i sends to its peers, on every one
// of its links, while what they send reaches it: a one-way partition.
func (c *Cluster) MuteOut(i int) {
	for _, j := range c.Others(i) {
		// What i sends goes towards the target of the proxy it dials, and
		// back from the target of the one its peer dials.
		if p := c.Dialled(i, j); p != nil {
			p.Blackhole(ToTarget)
		}
		if p := c.Dialled(j, i); p != nil {
			p.Blackhole(FromTarget)
		}
	}
}

// ServerIndex maps a server_name to its index, -1 when none has it.
func (c *Cluster) ServerIndex(name string) int {
	for i, s := range c.specs {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// StreamLeader is the index of the stream's leader as js sees it, -1 when
// there is none or the question fails.
func (c *Cluster) StreamLeader(js jetstream.JetStream, stream string) int {
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return -1
	}
	info := s.CachedInfo()
	if info == nil || info.Cluster == nil {
		return -1
	}
	return c.ServerIndex(info.Cluster.Leader)
}

// FaultPlan is how a fault is repeated: rounds until Duration has passed,
// each held for a time drawn from [Hold, 2*Hold) and followed by a rest
// drawn from [Rest, 2*Rest) once the cluster has recovered.
type FaultPlan struct {
	Duration, Hold, Rest time.Duration
	Stream               string // whose leader the faults aim at
}

// RunFaults applies f in rounds, on the test's goroutine (the waits fail
// the test), and returns how many rounds ran. After each heal it waits
// for the full mesh and for the stream to have a leader again, so the
// next round starts from a recovered cluster.
func (c *Cluster) RunFaults(js jetstream.JetStream, f JSFault, plan FaultPlan, rng *rand.Rand) int {
	c.t.Helper()
	deadline := time.Now().Add(plan.Duration)
	rounds := 0
	for ; time.Now().Before(deadline) && rounds < 1000; rounds++ {
		leader := c.StreamLeader(js, plan.Stream)
		heal := f.Inject(c, leader, rng)
		c.t.Logf("round %d: %s (leader %d)", rounds, f.Name, leader)
		pause(context.Background(), draw(rng, plan.Hold))
		heal()
		c.WaitMesh()
		Eventually(c.t, Timeout, fmt.Sprintf("stream %s to have a leader", plan.Stream), func() bool {
			return c.StreamLeader(js, plan.Stream) >= 0
		})
		pause(context.Background(), draw(rng, plan.Rest))
	}
	return rounds
}

// draw is a duration in [d, 2d).
func draw(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rng.Int64N(int64(d)))
}

// ConnectAny connects a client that may use every server, trying server
// first first, and reconnecting to any: a JetStream client that follows
// the cluster through faults. It is closed on cleanup.
func (c *Cluster) ConnectAny(first int, opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	var urls []string
	for k := range c.o.N {
		urls = append(urls, c.ClientURL((first+k)%c.o.N))
	}
	all := append([]nats.Option{
		nats.Name(fmt.Sprintf("chaos-js-client-%d", first)),
		nats.IgnoreDiscoveredServers(),
		nats.DontRandomize(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.Timeout(2 * time.Second),
	}, opts...)
	// With DontRandomize, the first URL is tried first and the others
	// after it when it does not answer.
	nc, err := nats.Connect(strings.Join(urls, ","), all...)
	if err != nil {
		c.t.Fatalf("connect: %v", err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}
