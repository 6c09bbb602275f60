package chaos_test

import (
	"fmt"
	"testing"

	"github.com/starling-mq/starling/internal/chaos"
)

// TestPartitionHeals: one server is cut off from the others and healed.
// Its subscriber gets the others' messages again afterwards, including on
// a subject it subscribed to during the partition, and a subscription it
// dropped during the partition is gone from the others' view: the
// interest resyncs. No message arrives twice or out of its publisher's
// order; what was published during the cut may be lost.
func TestPartitionHeals(t *testing.T) {
	c := chaos.New(t, chaos.Options{N: 3, Embedded: true})
	rng := c.Rand(1)
	victim := rng.IntN(c.N())
	others := c.Others(victim)
	per := scale(300, 50) + rng.IntN(100)
	t.Logf("seed %d: cutting server %d, %d messages per publisher and phase", c.Seed(), victim, per)

	sc := c.Connect(victim)
	kept := subscribe(t, sc, "part.kept")
	gone, err := sc.SubscribeSync("part.gone")
	if err != nil {
		t.Fatal(err)
	}
	sc.Flush()
	var pubs, later []*publisher
	for _, o := range others {
		nc := c.Connect(o)
		pubs = append(pubs, newPublisher(t, nc, fmt.Sprintf("s%d", o), "part.kept", 64))
		later = append(later, newPublisher(t, nc, fmt.Sprintf("s%d", o), "part.new", 64))
		c.WaitInterest(o, victim, "part.kept")
		c.WaitInterest(o, victim, "part.gone")
	}

	// Before: everything arrives.
	for _, p := range pubs {
		from, to := p.publish(per)
		waitAll(t, kept, "before the cut", p.name, from, to)
	}

	c.Isolate(victim)
	c.WaitRoutes(chaos.Isolated(victim))
	// During: publishing goes on (and is lost), and the victim's client
	// changes its interest.
	for _, p := range pubs {
		p.publish(per)
	}
	newer := subscribe(t, sc, "part.new")
	if err := gone.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	sc.Flush()

	c.HealAll()
	c.WaitMesh()
	for _, o := range others {
		c.WaitInterest(o, victim, "part.kept")
		c.WaitInterest(o, victim, "part.new")
		c.WaitNoInterest(o, victim, "part.gone")
	}
	// After: everything arrives again, on the old subject and the new.
	for k, p := range pubs {
		from, to := p.publish(per)
		waitAll(t, kept, "after healing", p.name, from, to)
		from, to = later[k].publish(per)
		waitAll(t, newer, "new interest after healing", later[k].name, from, to)
	}
	checkLedger(t, "part.kept", kept)
	checkLedger(t, "part.new", newer)
}

// TestKilledServerRejoins: a server killed with SIGKILL and restarted on
// the same ports rejoins the mesh; its clients reconnect and resubscribe,
// and the others see their interest: messages flow both ways again.
func TestKilledServerRejoins(t *testing.T) {
	c := chaos.New(t, chaos.Options{N: 3})
	rng := c.Rand(2)
	victim := rng.IntN(c.N())
	others := c.Others(victim)
	per := scale(300, 50) + rng.IntN(100)
	t.Logf("seed %d: killing server %d, %d messages per publisher", c.Seed(), victim, per)

	vc := c.Connect(victim)
	in := subscribe(t, vc, "kill.in")
	outs := map[int]*chaos.Ledger{}
	for _, o := range others {
		outs[o] = subscribe(t, c.Connect(o), "kill.out")
		c.WaitInterest(o, victim, "kill.in")
		c.WaitInterest(victim, o, "kill.out")
	}
	oldID := c.ID(victim)

	c.Kill(victim)
	c.WaitRoutes(chaos.Isolated(victim))
	c.Restart(victim)
	c.WaitMesh()
	if c.ID(victim) == oldID {
		t.Logf("server %d kept its ID %s across the restart", victim, oldID)
	}
	chaos.Eventually(t, chaos.Timeout, "the victim's client to reconnect", vc.IsConnected)
	for _, o := range others {
		c.WaitInterest(o, victim, "kill.in")
		c.WaitInterest(victim, o, "kill.out")
	}

	for _, o := range others {
		p := newPublisher(t, c.Connect(o), fmt.Sprintf("s%d", o), "kill.in", 128)
		from, to := p.publish(per)
		waitAll(t, in, "into the restarted server", p.name, from, to)
	}
	vp := newPublisher(t, vc, "victim", "kill.out", 128)
	from, to := vp.publish(per)
	for _, o := range others {
		waitAll(t, outs[o], fmt.Sprintf("from the restarted server to server %d", o), vp.name, from, to)
		checkLedger(t, fmt.Sprintf("kill.out on server %d", o), outs[o])
	}
	checkLedger(t, "kill.in on the restarted server", in)
}

// TestStoppedServerDoesNotStall: while one server is frozen (SIGSTOP),
// the others keep exchanging messages in full. Their routes to it cannot
// drain; each must be bounded (closed as a slow consumer or by the ping
// timeout) rather than hold the senders back, and is eventually closed.
// After SIGCONT the mesh forms again and the frozen server's subscriber
// is served again.
func TestStoppedServerDoesNotStall(t *testing.T) {
	c := chaos.New(t, chaos.Options{N: 3})
	rng := c.Rand(3)
	victim := rng.IntN(c.N())
	others := c.Others(victim)
	round := scale(200, 50) + rng.IntN(50)
	const size = 1024
	t.Logf("seed %d: stopping server %d, rounds of %d messages of %d bytes", c.Seed(), victim, round, size)

	vc := c.Connect(victim)
	frozen := subscribe(t, vc, "stall")
	victimID := c.ID(victim)
	ledgers := map[int]*chaos.Ledger{}
	pubs := map[int]*publisher{}
	for _, o := range others {
		nc := c.Connect(o)
		ledgers[o] = subscribe(t, nc, "stall")
		pubs[o] = newPublisher(t, nc, fmt.Sprintf("s%d", o), "stall", size)
	}
	for _, o := range others {
		c.WaitInterest(o, victim, "stall")
		for _, p := range others {
			if p != o {
				c.WaitInterest(o, p, "stall")
			}
		}
	}

	c.Stop(victim)
	// Rounds until both healthy servers have dropped their route to the
	// frozen one, and at least a few after the stop: each round must
	// arrive in full on both healthy servers, from both publishers.
	routed := func() (n int) {
		for _, o := range others {
			v, err := c.Routez(o, false)
			if err != nil {
				t.Fatalf("server %d: %v", o, err)
			}
			for _, r := range v.Routes {
				if r.RemoteID == victimID {
					n++
				}
			}
		}
		return n
	}
	rounds := 0
	chaos.Await(t, chaos.Timeout, func() error {
		rounds++
		for _, o := range others {
			from, to := pubs[o].publish(round)
			for _, s := range others {
				waitAll(t, ledgers[s], fmt.Sprintf("round %d on server %d", rounds, s), pubs[o].name, from, to)
			}
		}
		if n := routed(); n > 0 || rounds < 5 {
			return fmt.Errorf("after %d rounds, %d routes to the stopped server remain", rounds, n)
		}
		return nil
	})
	t.Logf("%d rounds while server %d was stopped", rounds, victim)

	c.Cont(victim)
	c.WaitMesh()
	for _, o := range others {
		c.WaitInterest(o, victim, "stall")
		from, to := pubs[o].publish(round)
		waitAll(t, frozen, "on the resumed server", pubs[o].name, from, to)
	}
	for _, o := range others {
		checkLedger(t, fmt.Sprintf("server %d", o), ledgers[o])
	}
	checkLedger(t, "the resumed server", frozen)
}

// TestFlappingRouteLosesNothingElsewhere: one link drops its connections
// at random (seeded) points while every server publishes to subscribers
// on every server. Between servers whose link is healthy, and on each
// server itself, every message arrives exactly once and in order; across
// the flapping link messages may be lost, but none arrives twice or out
// of order.
func TestFlappingRouteLosesNothingElsewhere(t *testing.T) {
	c := chaos.New(t, chaos.Options{N: 3, Embedded: true})
	rng := c.Rand(4)
	pairs := chaos.Pairs(c.N())
	flap := pairs[rng.IntN(len(pairs))]
	prob := 0.02 + rng.Float64()*0.08
	round := scale(100, 30) + rng.IntN(50)
	wantDrops := int64(scale(3, 2))
	t.Logf("seed %d: link %v drops with p=%.3f per chunk, rounds of %d messages", c.Seed(), flap, prob, round)

	ledgers := make([]*chaos.Ledger, c.N())
	pubs := make([]*publisher, c.N())
	for i := range c.N() {
		nc := c.Connect(i)
		ledgers[i] = subscribe(t, nc, "flap")
		pubs[i] = newPublisher(t, nc, fmt.Sprintf("s%d", i), "flap", 32+rng.IntN(200))
	}
	for i := range c.N() {
		for j := range c.N() {
			if i != j {
				c.WaitInterest(i, j, "flap")
			}
		}
	}
	healthy := func(i, j int) bool { return chaos.PairOf(i, j) != flap }

	link := c.Link(flap.I, flap.J)
	link.Drop(prob)
	rounds := 0
	chaos.Await(t, chaos.Timeout, func() error {
		rounds++
		for i, p := range pubs {
			from, to := p.publish(round)
			for s := range c.N() {
				if healthy(i, s) {
					waitAll(t, ledgers[s], fmt.Sprintf("round %d on server %d", rounds, s), p.name, from, to)
				}
			}
		}
		if d := link.Stats().Drops; d < wantDrops {
			return fmt.Errorf("after %d rounds the link dropped %d connections, want %d", rounds, d, wantDrops)
		}
		return nil
	})
	t.Logf("%d rounds, link stats %+v", rounds, link.Stats())

	link.Heal()
	c.WaitMesh()
	c.WaitInterest(flap.I, flap.J, "flap")
	c.WaitInterest(flap.J, flap.I, "flap")
	for _, p := range pubs {
		from, to := p.publish(round)
		for s := range c.N() {
			waitAll(t, ledgers[s], fmt.Sprintf("after healing, on server %d", s), p.name, from, to)
		}
	}
	for s, l := range ledgers {
		checkLedger(t, fmt.Sprintf("server %d", s), l)
	}
}
