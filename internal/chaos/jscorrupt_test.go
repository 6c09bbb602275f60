package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/internal/chaos"
	"github.com/starling-mq/starling/internal/histcheck"
)

// corruptShort are the damages the short profile runs: a flip in the
// Raft log, a cut of it (the member finds its log lost acknowledged
// entries and is repaired from its peers), and a flip in the stream's
// store (which once lost acknowledged messages when the damaged member
// led: its store now starts over from the group's log). The long profile
// runs every damage.
var corruptShort = map[string]bool{"flip-raftlog": true, "cut-raftlog": true, "flip-store": true}

// TestJSCorrupt is the fault matrix's disk damage: during the workloads,
// one member that does not lead the stream is killed, its files damaged
// (chaos.DiskDamages) and started again; the workloads go on; then the
// leader is killed, so that the damaged member must take part in the
// next quorum, and started again after a while. Nothing acknowledged may
// be lost, and the damaged member may stay out of the group but never
// serve a damaged record (its direct gets are checked while the leader is
// down and at the end). Starling only: nats-server is known to serve or
// lose damaged data and is not what this judges.
func TestJSCorrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix runs real clusters for minutes")
	}
	p := profile()
	long := os.Getenv(profileEnv) == "long"
	for _, d := range chaos.DiskDamages {
		if !long && !corruptShort[d.Name] {
			continue
		}
		for s := range p.seeds {
			t.Run(fmt.Sprintf("%s/%d", d.Name, s), func(t *testing.T) {
				strict := os.Getenv(strictEnv) == "1"
				if !corruptShort[d.Name] {
					t.Logf("a long-profile scenario: replay with %s=long as well", profileEnv)
				}
				setup := starlingSetup(t)
				if strict {
					setup.caveats = jsCaveats{}
				}
				runJSWorkload(t, setup, p, func(c *chaos.Cluster, js jetstream.JetStream, w *jsWorkloads, rng *rand.Rand) int {
					return damageRound(t, c, js, w, d, p, rng)
				})
			})
		}
	}
}

// progress is how many messages the stream must gain between the steps
// of a damage round: enough that the damaged member has records to lose
// and must catch up on some.
const progress = 300

// damageRound damages one member that does not lead the stream, kills
// the leader once the stream went on, and returns the damaged member.
func damageRound(t *testing.T, c *chaos.Cluster, js jetstream.JetStream, w *jsWorkloads, d chaos.DiskDamage, p jsProfile, rng *rand.Rand) int {
	t.Helper()
	waitGrown(t, js, progress)
	var leader int
	chaos.Eventually(t, chaos.Timeout, "the stream to have a leader", func() bool {
		leader = c.StreamLeader(js, jsStream)
		return leader >= 0
	})
	others := c.Others(leader)
	victim := others[rng.IntN(len(others))]
	t.Logf("damage %s on server %d (leader %d)", d.Name, victim, leader)
	c.DamageMember(victim, d, jsStream, rng)
	waitGrown(t, js, progress)

	t.Logf("killing the leader, server %d", leader)
	c.Kill(leader)
	// While the damaged member must take part in any quorum, what it
	// answers is read and judged, and who leads is recorded.
	vc := c.Connect(victim)
	end := time.Now().Add(5 * p.plan.Hold)
	seen := ""
	for k := 0; k < 100 && time.Now().Before(end); k++ {
		ctx, cancel := context.WithTimeout(context.Background(), chaos.OpTimeout)
		got, err := chaos.ReadDirect(ctx, vc, jsStream, lastAcked(w))
		cancel()
		if err == nil {
			if bad := misread(got, ackedAt(w)); bad != "" {
				t.Errorf("the damaged server %d served %s", victim, bad)
			}
		}
		// Logged when it changes: the poll runs for seconds.
		now := fmt.Sprintf("the stream's leader is %d; the damaged server's direct gets: error %v", c.StreamLeader(js, jsStream), err)
		if now != seen {
			t.Logf("leader down, %d records read: %s", len(got), now)
			seen = now
		}
	}
	c.Restart(leader)
	c.WaitMesh()
	// The workload's client may have failed over to the damaged server
	// while the leader was down; if that server refused its meta group's
	// log it answers every API request with 503. The rest of the round
	// asks the third server first.
	third := 3 - leader - victim
	if c.N() != 3 {
		third = (victim + 1) % c.N()
	}
	js = mustJS(t, c.ConnectAny(third))
	waitGrown(t, js, progress)
	for _, l := range findings(c.Log(victim), 20) {
		t.Logf("server %d found: %s", victim, l)
	}
	checkRepaired(t, c, js, victim)
	return victim
}

// checkRepaired waits for the stream to have all its replicas current
// again: a member whose log of the stream's group was refused is taken
// out and added back empty, to replay the leader's log
// (jetstream/replica_repair.go); one whose meta group log was refused
// drops its Raft log, is taken out of every group and added back
// (jetstream/rejoin.go).
func checkRepaired(t *testing.T, c *chaos.Cluster, js jetstream.JetStream, victim int) {
	t.Helper()
	if metaRefused.MatchString(c.Log(victim)) {
		t.Logf("server %d refused its meta group's log: it rejoins from its peers", victim)
	}
	why := ""
	chaos.Eventually(t, 4*chaos.Timeout, "every replica of the stream current again", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), chaos.OpTimeout)
		defer cancel()
		s, err := js.Stream(ctx, jsStream)
		if err != nil {
			why = err.Error()
			return false
		}
		cl := s.CachedInfo().Cluster
		if cl == nil || cl.Leader == "" || len(cl.Replicas) != 2 {
			why = fmt.Sprintf("cluster %+v", cl)
			return false
		}
		for _, r := range cl.Replicas {
			if !r.Current || r.Offline {
				why = fmt.Sprintf("replica %+v", *r)
				return false
			}
		}
		return true
	})
	t.Logf("repaired: every replica current (last wait: %s)", why)
}

// metaRefused matches a log line saying the meta group's log (group 1)
// was refused, alone or with every group of a log damaged past a record
// header.
var metaRefused = regexp.MustCompile(`msg="raftlog: log damaged, every group refused"|msg="raftlog: group damaged"[^\n]* group=1 |msg="raft group stopped[^"]*"[^\n]* group=1 `)

// findings are the log messages of a server that report damage, at
// most max of them: what the damaged member made of its files.
func findings(log string, max int) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "panic:") || damageMsg.MatchString(l) {
			out = append(out, l)
			if len(out) == max {
				break
			}
		}
	}
	return out
}

// damageMsg matches a log line whose message (not its paths, which name
// the test) reports damage.
var damageMsg = regexp.MustCompile(`msg="[^"]*(?i:damage|lost|torn|corrupt|refus|out of range)`)

// waitGrown waits until the stream holds n more messages than now.
func waitGrown(t *testing.T, js jetstream.JetStream, n uint64) {
	t.Helper()
	from := uint64(0)
	chaos.Await(t, 2*chaos.Timeout, func() error {
		last, err := lastSeq(js)
		switch {
		case err != nil:
			return err
		case from == 0:
			from = last + 1 // a stream that starts empty still waits for n
			return fmt.Errorf("at %d", last)
		case last+1 < from+n:
			return fmt.Errorf("at %d, waiting for %d", last, from+n-1)
		}
		return nil
	})
}

func lastSeq(js jetstream.JetStream) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), chaos.OpTimeout)
	defer cancel()
	s, err := js.Stream(ctx, jsStream)
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().State.LastSeq, nil
}

// ackedAt maps each acknowledged sequence to the ID acknowledged at it.
func ackedAt(w *jsWorkloads) map[uint64]string {
	out := map[uint64]string{}
	for _, p := range w.pubs {
		for _, h := range p.History() {
			if h.Acked {
				out[h.Seq] = h.ID
			}
		}
	}
	return out
}

// lastAcked is the highest acknowledged sequence.
func lastAcked(w *jsWorkloads) uint64 {
	var last uint64
	for seq := range ackedAt(w) {
		last = max(last, seq)
	}
	return last
}

// misread names the first record of got that is not what was
// acknowledged at its sequence ("" when all are): a damaged record
// served. A sequence not acknowledged (yet, or a retry's) is not judged.
func misread(got []histcheck.Stored, acked map[uint64]string) string {
	for _, s := range got {
		if id, ok := acked[s.Seq]; ok && id != s.ID {
			return fmt.Sprintf("sequence %d as %q, acknowledged as %q", s.Seq, s.ID, id)
		}
	}
	return ""
}

// outName is server out's name, "" for none.
func outName(c *chaos.Cluster, out int) string {
	if out < 0 {
		return ""
	}
	return c.Spec(out).Name
}

// checkOut judges the copy of a server that may be out of the group: it
// need not answer, nor hold everything, but what it holds must be the
// leader's record at that sequence.
func checkOut(t *testing.T, i int, got []histcheck.Stored, err error, leader []histcheck.Stored) error {
	t.Helper()
	if err != nil {
		t.Logf("server %d (damaged) does not answer direct gets: %v", i, err)
		return nil
	}
	at := make(map[uint64]string, len(leader))
	for _, s := range leader {
		at[s.Seq] = s.ID
	}
	n := 0
	for _, s := range got {
		id, ok := at[s.Seq]
		if !ok || id != s.ID {
			return fmt.Errorf("server %d (damaged) holds sequence %d as %q, the leader %q", i, s.Seq, s.ID, id)
		}
		n++
	}
	// Direct gets through a connection to server i are answered by its
	// own replica when it serves the stream, by another's otherwise.
	t.Logf("direct gets via server %d (damaged): %d of the leader's %d records, all equal", i, n, len(leader))
	return nil
}
