package chaos

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Options describe a cluster. Zero values mean the defaults.
type Options struct {
	N        int    // servers; default 3
	Embedded bool   // servers in the test binary (package server) rather than processes
	Name     string // the cluster's name; default "chaos"
	Seed     uint64 // 0: Seed(t), which STARLING_CHAOS_SEED overrides

	// Timings of every server's routes and clients. Short by default so
	// that a dead peer is noticed within seconds: ping every 1s, 3
	// unanswered PINGs make a connection stale, a write may take 2s.
	PingInterval  time.Duration
	PingMax       int
	WriteDeadline time.Duration

	JetStream bool // each server with its own store directory
	// CompactEntries compacts replicated streams' logs this often
	// (Starling's jetstream compact_entries; 0: the default), so that
	// members behind catch up from snapshots.
	CompactEntries int
	Debug          bool         // servers log at debug level
	Proxy          ProxyOptions // for every link

	// NATSServer is the path of a nats-server binary to run instead of
	// Starling (processes only): the reference the same scenarios are
	// validated against. Its configuration leaves out the cluster block's
	// own timings, which nats-server before 2.10 refuses (the top-level
	// ones apply to routes there).
	NATSServer string
	// ClusterExtra is written as is into every server's cluster block:
	// "pool_size: -1" keeps nats-server 2.10 and later to one route per
	// pair, which the route checks expect.
	ClusterExtra string
}

// twoWay reports whether each server of a pair dials the other through
// a proxy of its own: Starling with JetStream (see the package
// documentation).
func (o Options) twoWay() bool { return o.JetStream && o.NATSServer == "" }

func (o Options) withDefaults() Options {
	if o.N <= 0 {
		o.N = 3
	}
	if o.Name == "" {
		o.Name = "chaos"
	}
	if o.PingInterval <= 0 {
		o.PingInterval = time.Second
	}
	if o.PingMax <= 0 {
		o.PingMax = 3
	}
	if o.WriteDeadline <= 0 {
		o.WriteDeadline = 2 * time.Second
	}
	return o
}

// node is one server, a process or embedded.
type node interface {
	start() error
	kill() error           // SIGKILL, or shutdown when embedded; waits until gone
	pause(stop bool) error // SIGSTOP / SIGCONT
	alive() error          // nil while it runs
	pid() int              // 0 when embedded or not running
}

// Cluster is N Starling servers in a full mesh whose every link runs
// through a Proxy (see the package documentation for the topology). New
// returns once the mesh is complete; cleanup kills every server by PID
// and closes the proxies.
type Cluster struct {
	t     testing.TB
	o     Options
	seed  uint64
	specs []*Spec
	nodes []node
	logs  []*logTail
	links map[Pair]*Proxy // P_ij of each pair i < j: dialled by i, to j
	back  map[Pair]*Proxy // two-way clusters: P_ji, dialled by j, to i
	refs  []*refuser

	mu      sync.Mutex
	stopped map[int]bool // SIGSTOPped servers: their monitoring does not answer
}

// New starts a cluster for t.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	o := opts.withDefaults()
	c := &Cluster{t: t, o: o, seed: o.Seed, links: map[Pair]*Proxy{}, back: map[Pair]*Proxy{}, stopped: map[int]bool{}}
	if c.seed == 0 {
		c.seed = Seed(t)
	}
	bin := o.NATSServer
	if bin == "" && !o.Embedded {
		bin = Binary(t)
	}
	dir := t.TempDir()
	// After TempDir: cleanups run last first, and the servers must be
	// killed before their directory is removed (one still writing made
	// the removal fail the test).
	t.Cleanup(c.cleanup)

	// Hold every server's ports while the proxies and refusers take their
	// own, so that no two of them can be handed the same port.
	holders := make([]net.Listener, 0, 3*o.N)
	port := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		holders = append(holders, ln)
		return ln.Addr().(*net.TCPAddr).Port
	}
	for i := range o.N {
		s := &Spec{
			Index: i, Name: fmt.Sprintf("chaos-%d", i), ClusterName: o.Name,
			ClientPort: port(), ClusterPort: port(), HTTPPort: port(),
			PingInterval: o.PingInterval, PingMax: o.PingMax, WriteDeadline: o.WriteDeadline,
			NoClusterTimings: o.NATSServer != "", ClusterExtra: o.ClusterExtra,
		}
		if o.JetStream {
			s.StoreDir = filepath.Join(dir, fmt.Sprintf("store-%d", i))
			if o.NATSServer == "" {
				s.CompactEntries = o.CompactEntries
			}
		}
		r, err := newRefuser()
		if err != nil {
			t.Fatal(err)
		}
		c.refs = append(c.refs, r)
		s.Advertise = r.Addr()
		c.specs = append(c.specs, s)
	}
	for k, pr := range Pairs(o.N) {
		p, err := NewProxy(hostPort(c.specs[pr.J].ClusterPort), Derive(c.seed, 0x11c, uint64(k)), &o.Proxy)
		if err != nil {
			t.Fatal(err)
		}
		c.links[pr] = p
		c.specs[pr.I].Routes = append(c.specs[pr.I].Routes, p.Addr())
		if !o.twoWay() {
			continue
		}
		p, err = NewProxy(hostPort(c.specs[pr.I].ClusterPort), Derive(c.seed, 0xb4c, uint64(k)), &o.Proxy)
		if err != nil {
			t.Fatal(err)
		}
		c.back[pr] = p
		c.specs[pr.J].Routes = append(c.specs[pr.J].Routes, p.Addr())
	}
	for _, h := range holders {
		h.Close()
	}
	if o.NATSServer != "" && !o.twoWay() {
		// nats-server refuses to start clustered JetStream on a server
		// with no configured route, as the last server here is: it gets
		// one to its own refusing address, which it dials in vain.
		last := c.specs[o.N-1]
		last.Routes = append(last.Routes, last.Advertise)
	}

	for i, s := range c.specs {
		l := newLogTail(256 << 10)
		c.logs = append(c.logs, l)
		if o.Embedded {
			c.nodes = append(c.nodes, &embedded{spec: s, log: l, debug: o.Debug})
			continue
		}
		conf := filepath.Join(dir, fmt.Sprintf("server-%d.conf", i))
		if err := os.WriteFile(conf, []byte(s.Config()), 0o600); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, &process{bin: bin, conf: conf, log: l, debug: o.Debug, reference: o.NATSServer != ""})
	}
	for i := range c.nodes {
		c.start(i)
	}
	c.WaitMesh()
	return c
}

// start starts server i and waits until its monitoring answers.
func (c *Cluster) start(i int) {
	c.t.Helper()
	if err := c.nodes[i].start(); err != nil {
		c.t.Fatalf("server %d: %v\n%s", i, err, c.logs[i])
	}
	var last error
	err := poll(Timeout, func() bool {
		if err := c.nodes[i].alive(); err != nil {
			last = err
			return true
		}
		_, last = c.Routez(i, false)
		return last == nil
	})
	if err == nil {
		err = last
	}
	if err != nil {
		c.t.Fatalf("server %d did not come up: %v\n%s", i, err, c.logs[i])
	}
}

func (c *Cluster) cleanup() {
	for i, n := range c.nodes {
		if pid := n.pid(); pid != 0 {
			c.t.Logf("killing server %d, pid %d", i, pid)
		}
		if err := n.kill(); err != nil {
			c.t.Errorf("server %d: %v", i, err)
		}
	}
	for _, p := range c.proxies() {
		p.Close()
	}
	for _, r := range c.refs {
		r.Close()
	}
	if c.t.Failed() {
		for i, l := range c.logs {
			c.t.Logf("--- log of server %d (last %d bytes):\n%s", i, len(l.String()), l)
		}
		for _, pr := range Pairs(c.o.N) {
			c.t.Logf("link %v: %+v", pr, c.links[pr].Stats())
			if b := c.back[pr]; b != nil {
				c.t.Logf("link %d-%d: %+v", pr.J, pr.I, b.Stats())
			}
		}
	}
}

// N is the number of servers.
func (c *Cluster) N() int { return c.o.N }

// Seed is the cluster's seed: the proxies' draws derive from it.
func (c *Cluster) Seed() uint64 { return c.seed }

// Rand returns a generator for a scenario's own choices, seeded from the
// cluster's seed and labels (a scenario's choices replay with the seed).
func (c *Cluster) Rand(labels ...uint64) *rand.Rand {
	return NewRand(c.seed, append([]uint64{0x5ce}, labels...)...)
}

// Spec returns server i's settings.
func (c *Cluster) Spec(i int) Spec { return *c.specs[i] }

// ClientURL is server i's client URL.
func (c *Cluster) ClientURL(i int) string { return c.specs[i].ClientURL() }

// Link returns the proxy on the link between servers i and j that the
// lower index dials (in a two-way cluster, one of the pair's two).
func (c *Cluster) Link(i, j int) *Proxy {
	p := c.links[PairOf(i, j)]
	if p == nil {
		c.t.Fatalf("no link between servers %d and %d", i, j)
	}
	return p
}

// Links returns every proxy between servers i and j: one, or two in a
// two-way cluster.
func (c *Cluster) Links(i, j int) []*Proxy {
	out := []*Proxy{c.Link(i, j)}
	if b := c.back[PairOf(i, j)]; b != nil {
		out = append(out, b)
	}
	return out
}

// Dialled returns the proxy server i dials to reach server j: in a
// two-way cluster each server has its own, else the pair's one proxy,
// which only the lower index dials (nil for the higher).
func (c *Cluster) Dialled(i, j int) *Proxy {
	pr := PairOf(i, j)
	if pr.I == i {
		return c.Link(i, j)
	}
	return c.back[pr]
}

// LinksOf returns the proxies on every link of server i.
func (c *Cluster) LinksOf(i int) []*Proxy {
	var out []*Proxy
	for j := range c.o.N {
		if j != i {
			out = append(out, c.Links(i, j)...)
		}
	}
	return out
}

// proxies lists every proxy of the cluster.
func (c *Cluster) proxies() []*Proxy {
	var out []*Proxy
	for _, pr := range Pairs(c.o.N) {
		out = append(out, c.Links(pr.I, pr.J)...)
	}
	return out
}

// Isolate cuts every link of the servers named: a partition.
func (c *Cluster) Isolate(servers ...int) {
	for _, i := range servers {
		for _, p := range c.LinksOf(i) {
			p.Cut()
		}
	}
}

// HealAll removes every fault from every link.
func (c *Cluster) HealAll() {
	for _, p := range c.proxies() {
		p.Heal()
	}
}

// Kill ends server i at once: SIGKILL for a process, shutdown for an
// embedded server.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	if err := c.nodes[i].kill(); err != nil {
		c.t.Fatalf("server %d: %v", i, err)
	}
	c.setStopped(i, false)
}

// Stop freezes server i's process (SIGSTOP): its sockets stay open and
// nothing answers on them.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	if err := c.nodes[i].pause(true); err != nil {
		c.t.Fatalf("server %d: %v", i, err)
	}
	c.setStopped(i, true)
}

// Cont resumes a stopped server (SIGCONT).
func (c *Cluster) Cont(i int) {
	c.t.Helper()
	if err := c.nodes[i].pause(false); err != nil {
		c.t.Fatalf("server %d: %v", i, err)
	}
	c.setStopped(i, false)
}

func (c *Cluster) setStopped(i int, stopped bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped[i] = stopped
}

// Restart kills server i if it runs and starts it again with the same
// configuration, ports and store directory.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.Kill(i)
	c.start(i)
}

// Routez fetches server i's /routez; subs asks for each route's interest.
func (c *Cluster) Routez(i int, subs bool) (*Routez, error) {
	return fetchRoutez(c.specs[i].MonitorURL(), subs)
}

// WaitMesh waits until every server has exactly one route to every other.
func (c *Cluster) WaitMesh() {
	c.t.Helper()
	c.WaitRoutes(FullMesh)
}

// WaitRoutes waits until the routes among the servers that run (not
// killed, not stopped) are those want allows (see CheckLinks).
func (c *Cluster) WaitRoutes(want func(i, j int) bool) {
	c.t.Helper()
	var last error
	err := poll(Timeout, func() bool {
		views := map[int]*Routez{}
		for i := range c.o.N {
			if c.down(i) {
				continue
			}
			v, err := c.Routez(i, false)
			if err != nil {
				last = fmt.Errorf("server %d: %w", i, err)
				return false
			}
			views[i] = v
		}
		last = CheckLinks(views, want)
		return last == nil
	})
	if err != nil {
		c.t.Fatalf("routes not as wanted after %v: %v", Timeout, last)
	}
}

// down reports whether server i is killed or stopped.
func (c *Cluster) down(i int) bool {
	c.mu.Lock()
	stopped := c.stopped[i]
	c.mu.Unlock()
	return stopped || c.nodes[i].alive() != nil
}

// ID returns server i's current server ID (a restart changes it).
func (c *Cluster) ID(i int) string {
	c.t.Helper()
	v, err := c.Routez(i, false)
	if err != nil {
		c.t.Fatalf("server %d: %v", i, err)
	}
	return v.ID
}

// WaitInterest waits until server from has a route to server to that
// carries to's interest in sub ("subject" or "subject queue").
func (c *Cluster) WaitInterest(from, to int, sub string) {
	c.t.Helper()
	c.waitInterest(from, to, sub, true)
}

// WaitNoInterest waits until no route of server from to server to
// carries to's interest in sub.
func (c *Cluster) WaitNoInterest(from, to int, sub string) {
	c.t.Helper()
	c.waitInterest(from, to, sub, false)
}

func (c *Cluster) waitInterest(from, to int, sub string, want bool) {
	c.t.Helper()
	id := c.ID(to)
	Eventually(c.t, Timeout, fmt.Sprintf("server %d to see server %d's interest in %q: %v", from, to, sub, want), func() bool {
		v, err := c.Routez(from, true)
		return err == nil && v.HasInterest(id, sub) == want
	})
}

// Connect connects a nats.go client to server i, kept on that server: it
// ignores the servers the cluster tells it of, and reconnects to server i
// for as long as the test runs. It is closed on cleanup.
func (c *Cluster) Connect(i int, opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	all := append([]nats.Option{
		nats.Name(fmt.Sprintf("chaos-client-%d", i)),
		nats.IgnoreDiscoveredServers(),
		nats.DontRandomize(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.Timeout(Timeout),
	}, opts...)
	nc, err := nats.Connect(c.ClientURL(i), all...)
	if err != nil {
		c.t.Fatalf("connect to server %d: %v", i, err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// Servers lists the indexes of the servers, for loops.
func (c *Cluster) Servers() []int {
	out := make([]int, c.o.N)
	for i := range out {
		out[i] = i
	}
	return out
}

// Others lists every server but those named.
func (c *Cluster) Others(but ...int) []int {
	var out []int
	for i := range c.o.N {
		if !slices.Contains(but, i) {
			out = append(out, i)
		}
	}
	return out
}

// Log returns the last of what server i logged (bounded), across its
// restarts.
func (c *Cluster) Log(i int) string { return c.logs[i].String() }
