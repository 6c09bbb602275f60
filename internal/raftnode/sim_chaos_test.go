package raftnode

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"
)

// simSeeds returns the seeds of the randomized simulations:
// STARLING_SIM_SEEDS=n runs seeds 1..n, STARLING_SIM_SEED=s runs s alone.
func simSeeds(t *testing.T, def int) []int64 {
	if s := os.Getenv("STARLING_SIM_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("STARLING_SIM_SEED: %v", err)
		}
		return []int64{v}
	}
	n := def
	if s := os.Getenv("STARLING_SIM_SEEDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("STARLING_SIM_SEEDS: %v", err)
		}
		n = v
	}
	var seeds []int64
	for i := 1; i <= n; i++ {
		seeds = append(seeds, int64(i))
	}
	return seeds
}

var chaosNet = simConfig{
	nodes: 3, groups: 2,
	drop: 0.05, dup: 0.05, maxDelay: 3,
	snapshotEntries: 25,
}

type sentProposal struct {
	group uint64
	p     *Proposal
}

type chaosRun struct {
	c     *simCluster
	props map[int]sentProposal // by op id
}

// chaos runs a cluster through crashes (some in the middle of a save),
// restarts, partitions both ways and one way, on a network that drops,
// duplicates and reorders, while proposals go to whoever leads; then it
// heals everything and waits for every member to apply everything
// committed.
func chaos(t *testing.T, seed int64, rounds int, cfg simConfig) *chaosRun {
	c := newSimCluster(t, seed, cfg)
	r := &chaosRun{c: c, props: map[int]sentProposal{}}
	rng := c.rng
	nextID := 1
	propose := func() {
		g := c.groups[rng.Intn(len(c.groups))]
		l := c.leader(g)
		if l == 0 {
			return
		}
		id := nextID
		nextID++
		p, err := c.node(l).eng.propose(g, mustJSON(kvOp{Op: "put", K: strconv.Itoa(id % 7), V: strconv.Itoa(id), ID: id}))
		if err == nil {
			r.props[id] = sentProposal{g, p}
		}
	}
	for range rounds {
		if rng.Float64() < 0.3 {
			propose()
		}
		c.injectFaults()
		c.step()
	}
	c.recover()
	// A last proposal per group: once it applies everywhere, so has every
	// entry committed before it.
	for _, g := range c.groups {
		var p *Proposal
		c.runUntil(20000, "a barrier proposal commits", func() bool {
			if p != nil && isDone(p) {
				if _, err := p.Result(); err == nil {
					return true
				}
				p = nil
			}
			if p == nil {
				if l := c.leader(g); l != 0 {
					p, _ = c.node(l).eng.propose(g, mustJSON(kvOp{Op: "get", K: "0", ID: -1}))
				}
			}
			return false
		})
	}
	c.runUntil(20000, "convergence", c.converged)
	return r
}

// injectFaults draws this round's faults: a crash, a crash in the middle
// of the next save, a partition cutting off a minority, a one-way cut of one
// link, healing; and restarts of nodes that are down.
func (c *simCluster) injectFaults() {
	rng := c.rng
	randomNode := func() uint64 { return c.peers[rng.Intn(len(c.peers))] }
	switch x := rng.Float64(); {
	case x < 0.002:
		c.crash(randomNode())
	case x < 0.003:
		if n := c.node(randomNode()); n.eng != nil {
			n.store.CrashNextSave(rng.Intn(4))
		}
	case x < 0.005:
		// a minority (one node of three, one or two of five) cut off
		c.heal()
		side := slices.Clone(c.peers)
		rng.Shuffle(len(side), func(i, j int) { side[i], side[j] = side[j], side[i] })
		c.partition(side[:1+rng.Intn(len(side)/2)])
	case x < 0.006:
		a, b := randomNode(), randomNode()
		if a != b {
			c.blocked[[2]uint64{a, b}] = true
		}
	case x < 0.010:
		c.heal()
	}
	for _, n := range c.nodes {
		if n.eng == nil && rng.Float64() < 0.01 {
			c.start(n.id)
		}
	}
}

// recover ends the faults: the network heals, armed crashes are disarmed
// and every node is up.
func (c *simCluster) recover() {
	c.heal()
	for _, n := range c.nodes {
		n.store.CrashNextSave(-1)
		if n.eng == nil {
			c.start(n.id)
		}
	}
}

func TestSimChaos(t *testing.T) {
	five := chaosNet
	five.nodes = 5
	for _, cfg := range []simConfig{chaosNet, five} {
		for _, seed := range simSeeds(t, 4) {
			r := chaos(t, seed, 6000, cfg)
			r.check()
		}
	}
}

// check: every member applied the same entries in the same order, each
// proposal at most once; an acknowledged proposal is applied at the index
// and term it was acknowledged with; a proposal reported dropped is applied
// nowhere.
func (r *chaosRun) check() {
	c := r.c
	var acked, dropped, unknown int
	for _, g := range c.groups {
		ref := c.node(1).sms[g].Hist
		for _, n := range c.nodes[1:] {
			if !slices.Equal(ref, n.sms[g].Hist) {
				c.fatalf("group %d: node %d applied %d entries, node 1 %d, or in another order", g, n.id, len(n.sms[g].Hist), len(ref))
			}
		}
		at := map[int]histEntry{}
		for _, h := range ref {
			if h.ID < 0 {
				continue
			}
			if _, dup := at[h.ID]; dup {
				c.fatalf("group %d: proposal %d applied twice", g, h.ID)
			}
			at[h.ID] = h
		}
		for id, sp := range r.props {
			if sp.group != g {
				continue
			}
			h, applied := at[id]
			res, err := sp.p.Result()
			switch {
			case err == nil:
				acked++
				if !applied || h.Index != res.Index || h.Term != res.Term {
					c.fatalf("group %d: proposal %d acked at %d/%d, applied %v at %d/%d", g, id, res.Index, res.Term, applied, h.Index, h.Term)
				}
			case errors.Is(err, ErrDropped):
				dropped++
				if applied {
					c.fatalf("group %d: proposal %d reported dropped but applied at %d", g, id, h.Index)
				}
			default:
				unknown++
			}
		}
	}
	c.t.Logf("%d nodes, seed %d: %d acked, %d dropped, %d outcome unknown (crashed proposer or snapshot)", len(c.nodes), c.seed, acked, dropped, unknown)
	if acked == 0 {
		c.fatalf("no proposal acknowledged")
	}
}

// A seed replays exactly: the same messages delivered in the same order,
// the same entries applied.
func TestSimReplay(t *testing.T) {
	run := func() (uint64, []histEntry) {
		r := chaos(t, 42, 3000, chaosNet)
		for _, g := range r.c.groups {
			for _, h := range r.c.node(1).sms[g].Hist {
				r.c.note(h.Index, h.Term, uint64(h.ID))
			}
		}
		return r.c.trace.Sum64(), r.c.node(1).sms[r.c.groups[0]].Hist
	}
	a, ha := run()
	b, hb := run()
	if a != b || !slices.Equal(ha, hb) {
		t.Fatalf("seed 42 did not replay: trace %x vs %x", a, b)
	}
}
