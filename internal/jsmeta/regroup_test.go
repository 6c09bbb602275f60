package jsmeta

import (
	"slices"
	"testing"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Scaling a replicated stream's group keeps its founders and marks every
// member added later as a joiner; a stream created with one replica gets
// a group founded by its server, unless it is kept in memory.
func TestPlanScaleStream(t *testing.T) {
	st := New()
	c := cluster("s1", "s2", "s3", "s4", "s5")
	cfg := jsapi.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3}
	op, _, e := PlanAddStream(st, c, "A", cfg, now, rng(1))
	if e != nil {
		t.Fatal(e)
	}
	mustApply(t, st, op)
	founders := st.Stream("A", "ORDERS").Group.Peers

	steps := []struct {
		replicas int
		check    func(g Group)
	}{
		{5, func(g Group) {
			if !slices.Equal(g.Peers[:3], founders) || len(g.Peers) != 5 || !slices.Equal(g.Joiners, g.Peers[3:]) {
				t.Fatalf("R3 to R5: %+v", g)
			}
		}},
		{1, func(g Group) {
			if !slices.Equal(g.Peers, founders[:1]) || !g.Replicated() || g.JoinsEmpty(founders[0]) {
				t.Fatalf("R5 to R1: %+v", g)
			}
		}},
		{3, func(g Group) {
			if len(g.Peers) != 3 || g.Peers[0] != founders[0] {
				t.Fatalf("R1 to R3: %+v", g)
			}
			// Founders removed and added back start empty, like anyone new.
			for _, p := range g.Peers[1:] {
				if !g.JoinsEmpty(p) {
					t.Fatalf("%s does not join empty: %+v", p, g)
				}
			}
		}},
	}
	for _, s := range steps {
		next := cfg
		next.Replicas = s.replicas
		op, e := PlanUpdateStream(st, c, "A", next, rng(uint64(s.replicas)))
		if e != nil {
			t.Fatalf("to R%d: %v", s.replicas, e)
		}
		mustApply(t, st, op)
		g := st.Stream("A", "ORDERS").Group
		if !slices.Equal(g.Founders, founders) {
			t.Fatalf("founders changed: %+v", g)
		}
		s.check(g)
	}

	moved := cfg
	moved.Placement = &jsapi.Placement{Cluster: "elsewhere"}
	if _, e := PlanUpdateStream(st, c, "A", moved, rng(3)); e == nil || e.ErrCode != uint16(jsapi.ErrClusterUnSupportFeature) {
		t.Fatalf("a move: %v", e)
	}

	one := jsapi.StreamConfig{Name: "ONE", Subjects: []string{"one"}, Replicas: 1}
	op, _, e = PlanAddStream(st, c, "A", one, now, rng(7))
	if e != nil {
		t.Fatal(e)
	}
	mustApply(t, st, op)
	holder := op.Stream.Group.Peers[0]
	if op.Stream.Group.Replicated() {
		t.Fatalf("R1 at create: %+v", op.Stream.Group)
	}
	one.Replicas = 3
	op, e = PlanUpdateStream(st, c, "A", one, rng(8))
	if g := op.Stream.Group; e != nil || !g.Replicated() || !slices.Equal(g.FoundedBy(), []string{holder}) ||
		g.JoinsEmpty(holder) || len(g.Joiners) != 2 {
		t.Fatalf("R1 to R3: %+v %v", op.Stream, e)
	}
	mem := jsapi.StreamConfig{Name: "MEM", Subjects: []string{"mem"}, Replicas: 1, Storage: jsapi.MemoryStorage}
	op, _, e = PlanAddStream(st, c, "A", mem, now, rng(9))
	if e != nil {
		t.Fatal(e)
	}
	mustApply(t, st, op)
	mem.Replicas = 3
	if _, e := PlanUpdateStream(st, c, "A", mem, rng(10)); e == nil || e.ErrCode != uint16(jsapi.ErrStreamReplicasNotUpdatable) {
		t.Fatalf("R1 memory stream to R3: %v", e)
	}
}

func TestPlanRemoveStreamPeer(t *testing.T) {
	st := New()
	cfg := jsapi.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3}
	op, _, e := PlanAddStream(st, cluster("s1", "s2", "s3"), "A", cfg, now, rng(1))
	if e != nil {
		t.Fatal(e)
	}
	mustApply(t, st, op)
	peers := st.Stream("A", "ORDERS").Group.Peers
	victim := peers[1]

	if _, _, e := PlanRemoveStreamPeer(st, cluster("s1", "s2", "s3"), "A", "ORDERS", "s9", false, rng(2)); e == nil || e.ErrCode != uint16(jsapi.ErrClusterPeerNotMember) {
		t.Fatalf("not a member: %v", e)
	}
	if _, _, e := PlanRemoveStreamPeer(st, cluster("s1", "s2", "s3"), "A", "NOPE", victim, false, rng(2)); e == nil || e.ErrCode != uint16(jsapi.ErrStreamNotFound) {
		t.Fatalf("no stream: %v", e)
	}
	// No fourth server: the group shrinks, and the answer says no
	// replacement was found.
	op, replaced, e := PlanRemoveStreamPeer(st, cluster("s1", "s2", "s3"), "A", "ORDERS", victim, false, rng(2))
	if e != nil || replaced || op.Kind != UpdateStream || len(op.Stream.Group.Peers) != 2 || slices.Contains(op.Stream.Group.Peers, victim) {
		t.Fatalf("shrink: %+v %v %v", op, replaced, e)
	}
	if op.Stream.Group.Regrow {
		t.Fatalf("an operator's removal is not grown back: %+v", op.Stream.Group)
	}
	// A member asking for its own repair: the group is marked to grow
	// back, and growing clears the mark.
	op, _, e = PlanRemoveStreamPeer(st, cluster("s1", "s2", "s3"), "A", "ORDERS", victim, true, rng(2))
	if e != nil || !op.Stream.Group.Regrow {
		t.Fatalf("repair: %+v %v", op.Stream, e)
	}
	shrunk := New()
	mustApply(t, shrunk, Op{Kind: AddStream, Stream: st.Stream("A", "ORDERS")})
	mustApply(t, shrunk, op)
	op2, e := PlanUpdateStream(shrunk, cluster("s1", "s2", "s3"), "A", cfg, rng(5))
	if g := op2.Stream.Group; e != nil || g.Regrow || len(g.Peers) != 3 || !g.JoinsEmpty(victim) {
		t.Fatalf("grown back: %+v %v", op2.Stream, e)
	}
	// A fourth server takes the removed one's place and joins empty.
	op, replaced, e = PlanRemoveStreamPeer(st, cluster("s1", "s2", "s3", "s4"), "A", "ORDERS", victim, false, rng(2))
	g := op.Stream.Group
	if e != nil || !replaced || len(g.Peers) != 3 || !slices.Contains(g.Peers, "s4") || !g.JoinsEmpty("s4") || slices.Contains(g.Peers, victim) {
		t.Fatalf("replace: %+v %v %v", op, replaced, e)
	}

	one := jsapi.StreamConfig{Name: "ONE", Subjects: []string{"one"}, Replicas: 1}
	op, _, e = PlanAddStream(st, cluster("s1"), "A", one, now, rng(3))
	if e != nil {
		t.Fatal(e)
	}
	mustApply(t, st, op)
	if op, _, e := PlanRemoveStreamPeer(st, cluster("s1", "s2"), "A", "ONE", "s1", false, rng(4)); e != nil || op.Kind != 0 {
		t.Fatalf("the only copy of a stream is not moved: %+v %v", op, e)
	}
}
