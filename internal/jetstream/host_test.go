package jetstream

import (
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// TestHostAssignments: the hosting side alone, driven by assignments as a
// meta group would drive it — create, update, consumer, remove — makes
// the local state match each one.
func TestHostAssignments(t *testing.T) {
	m := startManager(t)
	cfg, e := m.checkConfig(jsapi.StreamConfig{Name: "H", Subjects: []string{"h.>"}, Storage: jsapi.FileStorage}, false)
	if e != nil {
		t.Fatal(e)
	}
	created := time.Unix(1_700_000_000, 0).UTC()
	ent, err := m.hostNewStream(&streamAssignment{Config: cfg, Created: created, Peers: m.peers()})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.lookup("H"); got != ent || !ent.s.Created().Equal(created) {
		t.Fatalf("hosted %v created %v", got, ent.s.Created())
	}
	cfg.Subjects = []string{"h.>", "i.>"}
	if err := m.hostStreamUpdate(ent, &streamAssignment{Config: cfg, Created: created, Peers: m.peers()}); err != nil {
		t.Fatal(err)
	}
	if got := ent.s.Config().Subjects; len(got) != 2 {
		t.Fatalf("subjects after the update: %v", got)
	}
	if !m.api.HasInterest("i.x") {
		t.Fatal("the new subject is not subscribed")
	}
	c, err := m.hostConsumer(ent, &consumerAssignment{Stream: "H", Created: created, Peers: m.peers(),
		Config: jsapi.ConsumerConfig{Name: "C", Durable: "C", AckPolicy: jsapi.AckExplicit, DeliverPolicy: jsapi.DeliverAll, ReplayPolicy: jsapi.ReplayInstant, MaxDeliver: -1, MaxAckPending: 1000, MaxWaiting: 512}})
	if err != nil {
		t.Fatal(err)
	}
	if ent.consumer("C") != c {
		t.Fatal("consumer not hosted")
	}
	if hosted, err := m.unhostStream("H"); !hosted || err != nil {
		t.Fatalf("unhost: %v %v", hosted, err)
	}
	if m.lookup("H") != nil || m.api.HasInterest("h.x") {
		t.Fatal("stream still hosted after its removal")
	}
	if _, err := m.fs.Stat(m.streamDir("H")); err == nil {
		t.Fatal("stream directory left behind")
	}
	if hosted, _ := m.unhostStream("H"); hosted {
		t.Fatal("a second removal found the stream")
	}
}
