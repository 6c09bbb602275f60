package jetstream

import (
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
)

// TestHostingFollowsAssignments: committed assignments are hosted on the
// servers their groups name, and only there; a change of group or a
// restored state moves them.
func TestHostingFollowsAssignments(t *testing.T) {
	a := startManager(t)
	h := a.Manager.Hosting("s1")
	now := time.Now().UTC()
	stream := func(name string, peers ...string) *jsmeta.Stream {
		return &jsmeta.Stream{Account: globalAccount, Created: now,
			Config: jsapi.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Storage: jsapi.FileStorage, Replicas: 1},
			Group:  jsmeta.Group{Name: "S-" + name, Peers: peers}}
	}
	st := jsmeta.New()
	apply := func(op jsmeta.Op) {
		t.Helper()
		ch, err := st.Apply(op)
		if err != nil {
			t.Fatal(err)
		}
		h.Changed(ch)
	}
	cfg := func(s *jsmeta.Stream) jsapi.StreamConfig {
		c, e := a.checkConfig(s.Config, false)
		if e != nil {
			t.Fatal(e)
		}
		s.Config = c
		return c
	}
	mine, theirs := stream("MINE", "s1"), stream("THEIRS", "s2")
	cfg(mine)
	cfg(theirs)
	apply(jsmeta.Op{Kind: jsmeta.AddStream, Stream: mine})
	apply(jsmeta.Op{Kind: jsmeta.AddStream, Stream: theirs})
	if a.lookup("MINE") == nil || a.lookup("THEIRS") != nil {
		t.Fatalf("hosted: MINE %v, THEIRS %v", a.lookup("MINE") != nil, a.lookup("THEIRS") != nil)
	}
	apply(jsmeta.Op{Kind: jsmeta.AddConsumer, Consumer: &jsmeta.Consumer{Account: globalAccount, Stream: "MINE", Name: "D", Created: now,
		Config: jsapi.ConsumerConfig{Durable: "D", Name: "D", AckPolicy: jsapi.AckExplicit, AckWait: 30 * time.Second, MaxDeliver: -1, MaxAckPending: 1000, MaxWaiting: 512},
		Group:  jsmeta.Group{Name: "C-D", Peers: []string{"s1"}}}})
	if e := a.lookup("MINE"); e == nil || e.consumer("D") == nil {
		t.Fatal("the assigned consumer is not hosted")
	}
	moved := stream("MINE", "s2")
	moved.Config = mine.Config
	apply(jsmeta.Op{Kind: jsmeta.UpdateStream, Stream: moved})
	if a.lookup("MINE") != nil {
		t.Fatal("a stream moved to another server is still hosted")
	}
	// A restored state in which THEIRS is ours and MINE is gone.
	next := jsmeta.New()
	ours := stream("THEIRS", "s1")
	ours.Config = theirs.Config
	if _, err := next.Apply(jsmeta.Op{Kind: jsmeta.AddStream, Stream: ours}); err != nil {
		t.Fatal(err)
	}
	h.Restored(next)
	if a.lookup("THEIRS") == nil || a.lookup("MINE") != nil {
		t.Fatalf("after restore: THEIRS %v, MINE %v", a.lookup("THEIRS") != nil, a.lookup("MINE") != nil)
	}
}
