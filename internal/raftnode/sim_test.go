package raftnode

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"log/slog"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// The simulation runs whole clusters in one goroutine: every host is an
// engine over a MemStorage, the network is a queue of messages with
// delivery rounds drawn from a seeded source, and time is a round counter
// (a Raft tick every roundsPerTick rounds). Nothing reads a real clock and
// every iteration visits nodes and groups in a fixed order, so a seed
// replays exactly (TestSimReplay checks it).

type simConfig struct {
	nodes           int
	groups          int
	drop, dup       float64 // probability per message
	maxDelay        int     // rounds; a random delay reorders messages
	roundsPerTick   int
	snapshotEntries uint64
}

type simMsg struct {
	at       int64
	seq      uint64
	from, to uint64
	env      Envelope
}

type simNode struct {
	id          uint64
	boot        []uint64 // the voters a group starts with; nil: join (members.go)
	store       *MemStorage
	eng         *engine // nil while down
	sms         map[uint64]*kvSM
	incarnation uint64
}

type simCluster struct {
	t       testing.TB
	seed    int64
	cfg     simConfig
	rng     *rand.Rand
	nodes   []*simNode // index i is node id i+1
	groups  []uint64
	peers   []uint64 // every node, members or not
	round   int64
	msgs    []simMsg
	seq     uint64
	blocked map[[2]uint64]bool // from→to links that lose everything
	leaders map[[2]uint64]uint64
	trace   hash.Hash64
	watches []watch
	// before runs at the start of every round (a workload, say).
	before func()
}

// watch calls ok when p succeeds, checked after every round.
type watch struct {
	p  *Proposal
	ok func(Result)
}

func (c *simCluster) watch(p *Proposal, ok func(Result)) {
	c.watches = append(c.watches, watch{p, ok})
}

func (c *simCluster) settleWatches() {
	kept := c.watches[:0]
	for _, w := range c.watches {
		if !isDone(w.p) {
			kept = append(kept, w)
			continue
		}
		if r, err := w.p.Result(); err == nil {
			w.ok(r)
		}
	}
	c.watches = kept
}

func newSimCluster(t testing.TB, seed int64, cfg simConfig) *simCluster {
	if cfg.roundsPerTick == 0 {
		cfg.roundsPerTick = 4
	}
	c := &simCluster{
		t: t, seed: seed, cfg: cfg,
		rng:     rand.New(rand.NewSource(seed)),
		blocked: map[[2]uint64]bool{},
		leaders: map[[2]uint64]uint64{},
		trace:   fnv.New64a(),
	}
	for i := range cfg.groups {
		c.groups = append(c.groups, uint64(100+i))
	}
	for i := range cfg.nodes {
		c.peers = append(c.peers, uint64(i+1))
	}
	for _, id := range c.peers {
		c.nodes = append(c.nodes, &simNode{id: id, boot: slices.Clone(c.peers), store: NewMemStorage()})
		c.start(id)
	}
	return c
}

func (c *simCluster) fatalf(format string, args ...any) {
	c.t.Helper()
	args = append(args, c.seed, c.round)
	c.t.Fatalf(format+" (seed %d, round %d)", args...)
}

func (c *simCluster) node(id uint64) *simNode { return c.nodes[id-1] }

type simTransport struct {
	c    *simCluster
	from uint64
}

func (s simTransport) Send(envs []Envelope) { s.c.send(s.from, envs) }

func (c *simCluster) send(from uint64, envs []Envelope) {
	for _, env := range envs {
		to := env.Msg.GetTo()
		if c.blocked[[2]uint64{from, to}] || c.rng.Float64() < c.cfg.drop {
			continue
		}
		copies := 1
		if c.rng.Float64() < c.cfg.dup {
			copies = 2
		}
		for range copies {
			c.seq++
			// A clone, as a wire would give: the receiver shares nothing.
			m := proto.Clone(env.Msg).(*raftpb.Message)
			at := c.round + 1 + int64(c.rng.Intn(c.cfg.maxDelay+1))
			c.msgs = append(c.msgs, simMsg{at: at, seq: c.seq, from: from, to: to, env: Envelope{Group: env.Group, Msg: m}})
		}
	}
}

// start runs the node's engine over its storage: a fresh node bootstraps,
// a restarted one recovers from what its storage kept.
func (c *simCluster) start(id uint64) {
	n := c.node(id)
	n.incarnation++
	opts := DefaultOptions()
	opts.NodeID = id
	opts.Storage = n.store
	opts.Transport = simTransport{c, id}
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.SnapshotEntries = c.cfg.snapshotEntries
	opts.MaxSizePerMsg = 4 << 10
	opts.MaxInflightMsgs = 16
	opts.ProposalIDBase = n.incarnation << 40
	opts.Seed = c.seed*1000 + int64(id)*10 + int64(n.incarnation)
	if err := opts.Validate(); err != nil {
		c.fatalf("options: %v", err)
	}
	n.eng = newEngine(opts)
	n.sms = map[uint64]*kvSM{}
	for _, g := range c.groups {
		sm := newKV()
		if err := n.eng.addGroup(g, n.boot, sm); err != nil {
			c.fatalf("node %d: add group %d: %v", id, g, err)
		}
		n.sms[g] = sm
	}
}

// crash stops the node at once: what its storage saved survives, the rest
// (its engine's memory, proposals in flight) is gone.
func (c *simCluster) crash(id uint64) {
	n := c.node(id)
	if n.eng == nil {
		return
	}
	n.eng.stop()
	n.eng, n.sms = nil, nil
}

func (c *simCluster) up(id uint64) bool { return c.node(id).eng != nil }

// step runs one round: due messages are delivered, the clock may tick,
// and every live node runs one iteration of its loop.
func (c *simCluster) step() {
	if c.before != nil {
		c.before()
	}
	c.round++
	var due []simMsg
	rest := c.msgs[:0]
	for _, m := range c.msgs {
		if m.at <= c.round {
			due = append(due, m)
		} else {
			rest = append(rest, m)
		}
	}
	c.msgs = rest
	slices.SortFunc(due, func(a, b simMsg) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	for _, m := range due {
		n := c.node(m.to)
		if n.eng == nil {
			continue
		}
		c.note(m.env.Group, m.from, m.to, uint64(m.env.Msg.GetType()), m.env.Msg.GetTerm(), m.env.Msg.GetIndex())
		n.eng.step(m.env)
	}
	tick := c.round%int64(c.cfg.roundsPerTick) == 0
	for _, n := range c.nodes {
		if n.eng == nil {
			continue
		}
		if tick {
			n.eng.tick()
		}
		if err := n.eng.process(); err != nil {
			// The log failed mid-save: the node is down until restarted.
			c.crash(n.id)
		}
	}
	c.checkLeaders()
	c.settleWatches()
}

// note feeds the replay trace.
func (c *simCluster) note(vals ...uint64) {
	var b [8]byte
	for _, v := range vals {
		binary.LittleEndian.PutUint64(b[:], v)
		c.trace.Write(b[:])
	}
}

// checkLeaders fails the test if two nodes ever lead a group in the same
// term.
func (c *simCluster) checkLeaders() {
	for _, n := range c.nodes {
		if n.eng == nil {
			continue
		}
		for _, g := range c.groups {
			st, err := n.eng.status(g)
			if err != nil || st.State != raft.StateLeader.String() {
				continue
			}
			k := [2]uint64{g, st.Term}
			if prev, ok := c.leaders[k]; ok && prev != n.id {
				c.fatalf("group %d term %d has two leaders: %d and %d", g, st.Term, prev, n.id)
			}
			c.leaders[k] = n.id
		}
	}
}

// newSettledSim starts a quiet three-node cluster, runs it until it
// converges, and returns it with its first group, that group's leader and
// one of its followers.
func newSettledSim(t testing.TB, seed int64) (c *simCluster, g, l, f uint64) {
	t.Helper()
	c = newSimCluster(t, seed, quietNet)
	g = c.groups[0]
	c.runUntil(2000, "convergence", c.converged)
	l = c.leader(g)
	return c, g, l, l%3 + 1
}

// leader returns the live node that leads g in the highest term, 0 if none.
func (c *simCluster) leader(g uint64) uint64 {
	var best, term uint64
	for _, n := range c.nodes {
		if n.eng == nil {
			continue
		}
		st, err := n.eng.status(g)
		if err == nil && st.State == raft.StateLeader.String() && st.Term > term {
			best, term = n.id, st.Term
		}
	}
	return best
}

// runUntil steps until cond holds, failing after max rounds.
func (c *simCluster) runUntil(max int, what string, cond func() bool) {
	c.t.Helper()
	for range max {
		if cond() {
			return
		}
		c.step()
	}
	if !cond() {
		c.fatalf("%s: not reached in %d rounds; %s", what, max, c.describe())
	}
}

func (c *simCluster) run(rounds int) {
	for range rounds {
		c.step()
	}
}

func (c *simCluster) heal() {
	clear(c.blocked)
}

// isolate cuts every link between the two sides, both ways.
func (c *simCluster) partition(side []uint64) {
	for _, a := range c.peers {
		for _, b := range c.peers {
			if slices.Contains(side, a) != slices.Contains(side, b) {
				c.blocked[[2]uint64{a, b}] = true
			}
		}
	}
}

// converged reports whether every node is up and every member has
// applied, in every group, as far as the highest commit index any of them
// knows. Nodes outside the leader's configuration (removed, or not yet
// added) are left out.
func (c *simCluster) converged() bool {
	for _, g := range c.groups {
		var commit uint64
		for _, n := range c.nodes {
			if n.eng == nil {
				return false
			}
			st, _ := n.eng.status(g)
			commit = max(commit, st.Commit)
		}
		l := c.leader(g)
		if l == 0 {
			return false
		}
		lst, _ := c.node(l).eng.status(g)
		for _, n := range c.nodes {
			if !slices.Contains(lst.Members.Voters, n.id) {
				continue
			}
			st, _ := n.eng.status(g)
			if st.Applied < commit {
				return false
			}
		}
	}
	return true
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// describe lists every member's view of every group, for failures.
func (c *simCluster) describe() string {
	var b strings.Builder
	for _, g := range c.groups {
		for _, n := range c.nodes {
			if n.eng == nil {
				fmt.Fprintf(&b, "\n  group %d node %d: down", g, n.id)
				continue
			}
			st, err := n.eng.status(g)
			fmt.Fprintf(&b, "\n  group %d node %d: %s term %d lead %d commit %d applied %d %v %v", g, n.id, st.State, st.Term, st.Leader, st.Commit, st.Applied, st.Progress, err)
		}
	}
	return b.String()
}
