package jsmeta

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/placement"
)

func cluster(ids ...string) Cluster {
	c := Cluster{Name: "c1"}
	for _, id := range ids {
		c.Servers = append(c.Servers, placement.Server{ID: id, Name: id, Cluster: "c1"})
	}
	return c
}

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 3)) }

var now = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

func TestPlanAddStream(t *testing.T) {
	st := New()
	c := cluster("s1", "s2", "s3", "s4", "s5")
	cfg := jsapi.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3}
	op, existing, e := PlanAddStream(st, c, "A", cfg, now, rng(1))
	if e != nil || existing {
		t.Fatalf("%v %v", e, existing)
	}
	if len(op.Stream.Group.Peers) != 3 || !regexp.MustCompile(`^S-R3F-[A-Za-z0-9]{8}$`).MatchString(op.Stream.Group.Name) {
		t.Fatalf("group %+v", op.Stream.Group)
	}
	mustApply(t, st, op)
	if _, existing, e := PlanAddStream(st, c, "A", cfg, now, rng(2)); e != nil || !existing {
		t.Fatalf("the same create again: %v %v", e, existing)
	}
	other := cfg
	other.Subjects = []string{"x"}
	if _, _, e := PlanAddStream(st, c, "A", other, now, rng(2)); e == nil || e.ErrCode != uint16(jsapi.ErrStreamNameExist) {
		t.Fatalf("another configuration: %v", e)
	}
	// Another account's ORDERS is another stream.
	if _, existing, e := PlanAddStream(st, c, "B", other, now, rng(2)); e != nil || existing {
		t.Fatalf("B's ORDERS: %v %v", e, existing)
	}
	big := jsapi.StreamConfig{Name: "BIG", Replicas: 7}
	if _, _, e := PlanAddStream(st, c, "A", big, now, rng(2)); e == nil || e.ErrCode != uint16(jsapi.ErrClusterNoPeers) ||
		e.Description != "no suitable peers for placement" {
		t.Fatalf("R7 on five servers: %v", e)
	}
	tagged := jsapi.StreamConfig{Name: "T", Replicas: 1, Placement: &jsapi.Placement{Tags: []string{"gpu"}}}
	if _, _, e := PlanAddStream(st, c, "A", tagged, now, rng(2)); e == nil || e.Description != "no suitable peers for placement, tags not matched ['gpu']" {
		t.Fatalf("tags nobody has: %v", e)
	}
}

func TestPlanAddConsumer(t *testing.T) {
	st := New()
	c := cluster("s1", "s2", "s3")
	op, _, _ := PlanAddStream(st, c, "A", jsapi.StreamConfig{Name: "S", Replicas: 3}, now, rng(1))
	mustApply(t, st, op)
	speers := op.Stream.Group.Peers
	tests := []struct {
		cfg   jsapi.ConsumerConfig
		peers []string
		err   jsapi.ErrorID
	}{
		{jsapi.ConsumerConfig{Durable: "d"}, speers, 0},
		{jsapi.ConsumerConfig{Durable: "one", Replicas: 1}, speers[:1], 0},
		{jsapi.ConsumerConfig{Durable: "five", Replicas: 5}, nil, jsapi.ErrConsumerReplicasExceedsStream},
		{jsapi.ConsumerConfig{Durable: "neg", Replicas: -1}, nil, jsapi.ErrReplicasCountCannotBeNegative},
	}
	for _, tt := range tests {
		op, e := PlanAddConsumer(st, "A", "S", tt.cfg, now, rng(2))
		if tt.err != 0 {
			if e == nil || e.ErrCode != uint16(tt.err) {
				t.Fatalf("%s: %v, want %d", tt.cfg.Durable, e, tt.err)
			}
			continue
		}
		if e != nil || !slices.Equal(op.Consumer.Group.Peers, tt.peers) {
			t.Fatalf("%s: %+v %v", tt.cfg.Durable, op.Consumer, e)
		}
		mustApply(t, st, op)
	}
	// An update keeps the consumer's group.
	before := st.Consumer("A", "S", "d").Group
	op, e := PlanAddConsumer(st, "A", "S", jsapi.ConsumerConfig{Durable: "d", Description: "new"}, now.Add(time.Hour), rng(9))
	if e != nil || op.Consumer.Group.Name != before.Name || !op.Consumer.Created.Equal(now) {
		t.Fatalf("update: %+v %v", op.Consumer, e)
	}
	if _, e := PlanAddConsumer(st, "A", "NONE", jsapi.ConsumerConfig{Durable: "x"}, now, rng(1)); e == nil || e.ErrCode != uint16(jsapi.ErrStreamNotFound) {
		t.Fatalf("no stream: %v", e)
	}
}

func TestPlanRemovePeer(t *testing.T) {
	st := New()
	c := cluster("s1", "s2", "s3", "s4")
	op, _, _ := PlanAddStream(st, c, "A", jsapi.StreamConfig{Name: "S", Replicas: 3}, now, rng(1))
	mustApply(t, st, op)
	cop, _ := PlanAddConsumer(st, "A", "S", jsapi.ConsumerConfig{Durable: "d"}, now, rng(1))
	mustApply(t, st, cop)
	gone := op.Stream.Group.Peers[1]
	rop := PlanRemovePeer(st, c, gone, rng(5))
	mustApply(t, st, rop)
	sa, ca := st.Stream("A", "S"), st.Consumer("A", "S", "d")
	if len(sa.Group.Peers) != 3 || slices.Contains(sa.Group.Peers, gone) {
		t.Fatalf("stream group after removing %s: %v", gone, sa.Group.Peers)
	}
	if !slices.Equal(sa.Group.Peers, ca.Group.Peers) {
		t.Fatalf("the consumer did not follow its stream: %v vs %v", ca.Group.Peers, sa.Group.Peers)
	}
	// With no server left to take its place, the group shrinks.
	small := cluster("s1", "s2", "s3")
	st2 := New()
	op, _, _ = PlanAddStream(st2, small, "A", jsapi.StreamConfig{Name: "S", Replicas: 3}, now, rng(1))
	mustApply(t, st2, op)
	mustApply(t, st2, PlanRemovePeer(st2, small, "s2", rng(1)))
	if got := st2.Stream("A", "S").Group.Peers; len(got) != 2 || slices.Contains(got, "s2") {
		t.Fatalf("no replacement: %v", got)
	}
}

// TestPlanRejoin: a server that lost its Raft log leaves every group that
// runs Raft (replaced, or the group shrinks and is marked to grow back),
// keeps the streams it stores alone, and may be added back.
func TestPlanRejoin(t *testing.T) {
	const lost = "s2"
	plain := &Stream{Account: "A", Config: jsapi.StreamConfig{Name: "P", Replicas: 1},
		Group: Group{Name: "S-R1F-plain", Peers: []string{lost}, Storage: "file"}}
	one := &Stream{Account: "A", Config: jsapi.StreamConfig{Name: "ONE", Replicas: 1},
		Group: Group{Name: "S-R1F-one", Peers: []string{lost}, Founders: []string{"s1", lost, "s3"}, Storage: "file"}}
	cases := []struct {
		name     string
		servers  []string
		replaced bool
	}{
		{"no server to take its place", []string{"s1", "s2", "s3"}, false},
		{"a fourth server takes its place", []string{"s1", "s2", "s3", "s4"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := New()
			c := cluster(tc.servers...)
			op, _, _ := PlanAddStream(st, c, "A", jsapi.StreamConfig{Name: "S", Replicas: 3}, now, rng(1))
			op.Stream.Group.Peers = []string{"s1", lost, "s3"}
			mustApply(t, st, op)
			mustApply(t, st, Op{Kind: AddStream, Stream: plain})
			mustApply(t, st, Op{Kind: AddStream, Stream: one})
			rop := PlanRejoin(st, c, lost, rng(5))
			ch, err := st.Apply(rop)
			if err != nil {
				t.Fatal(err)
			}
			if !ch.Repair || ch.Peer != lost {
				t.Fatalf("change %+v, want a repair of %s", ch, lost)
			}
			sa := st.Stream("A", "S")
			if slices.Contains(sa.Group.Peers, lost) {
				t.Fatalf("S still names %s: %v", lost, sa.Group.Peers)
			}
			if want := map[bool]int{true: 3, false: 2}[tc.replaced]; len(sa.Group.Peers) != want || sa.Group.Regrow == tc.replaced {
				t.Fatalf("S after the repair: %+v", sa.Group)
			}
			if got := st.Stream("A", "P").Group; !slices.Equal(got.Peers, []string{lost}) || got.Replicated() {
				t.Fatalf("a stream stored by %s alone moved: %+v", lost, got)
			}
			if got := st.Stream("A", "ONE").Group; !slices.Equal(got.Peers, []string{lost}) || got.Replicated() || got.Name != one.Group.Name {
				t.Fatalf("a group of one on %s is not a plain stream again: %+v", lost, got)
			}
		})
	}
}
