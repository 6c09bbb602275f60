package jscluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/stream"
)

// outcome is what a publisher heard.
type outcome struct {
	ans *stream.Answer
	err error
}

func (o outcome) String() string {
	switch {
	case o.err != nil:
		return "error " + o.err.Error()
	case o.ans.Err != nil:
		return fmt.Sprintf("refused %d", o.ans.Err.ErrCode)
	}
	return fmt.Sprintf("seq %d", o.ans.Seq)
}

// publishAsync publishes through g and returns where the outcome lands.
func publishAsync(g *StreamGroup, subject string, hdr []byte, data string) <-chan outcome {
	ch := make(chan outcome, 1)
	g.PublishAsync(subject, hdr, []byte(data), func(a *stream.Answer, err error) { ch <- outcome{a, err} })
	return ch
}

func await(t *testing.T, what string, ch <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(30 * time.Second):
		t.Fatalf("no answer to %s", what)
		return outcome{}
	}
}

func expectSubjSeq(seq uint64) []byte {
	return fmt.Appendf(nil, "NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: %d\r\n\r\n", seq)
}

var casConfig = jsapi.StreamConfig{Subjects: []string{"kv.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
	MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1}

// TestStreamGroupCASWaitsForWriteInFlight: a compare-and-set made while
// another client's write on its subject is in flight is decided once that
// write is applied (refused, rightly), and a publish made after it is
// stored after it.
func TestStreamGroupCASWaitsForWriteInFlight(t *testing.T) {
	cfg := casConfig
	cfg.Name = "CAS"
	rs := startStreamGroup(t, 110, cfg, false, "c1", "c2", "c3")
	lg := rs.lead()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ans, err := lg.Publish(ctx, "kv.a", nil, []byte("v1")); err != nil || ans.Err != nil || ans.Seq != 1 {
		t.Fatalf("first write: %+v %v", ans, err)
	}
	w := publishAsync(lg, "kv.a", expectSubjSeq(1), "v2")
	cas := publishAsync(lg, "kv.a", expectSubjSeq(1), "v2'")
	after := publishAsync(lg, "kv.b", nil, "after")
	o := await(t, "the CAS", cas)
	if last := rs.streams[rs.leader].Store().State().LastSeq; last < 2 {
		t.Fatalf("the CAS was answered (%s) before the write it conflicts with was applied (last sequence %d)", o, last)
	}
	got := fmt.Sprint(await(t, "the write", w), ", ", o, ", ", await(t, "the publish after", after))
	want := fmt.Sprintf("seq 2, refused %d, seq 3", jsapi.ErrStreamWrongLastSequence)
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestStreamGroupCASAfterDroppedWrite: the leader is cut off with a
// write in flight, and a compare-and-set on the same subject, expecting
// what is committed, arrives: the write is never committed, so the CAS
// must not be refused as if it had been. It is decided once the write is
// dropped (the healed old leader learns the new leader's log) or the
// leader has lost its lease: either way the publisher hears "try again",
// and the new leader then takes the same CAS.
func TestStreamGroupCASAfterDroppedWrite(t *testing.T) {
	cfg := casConfig
	cfg.Name = "DROP"
	rs := startStreamGroup(t, 111, cfg, false, "d1", "d2", "d3")
	old := rs.lead()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ans, err := old.Publish(ctx, "kv.a", nil, []byte("v1")); err != nil || ans.Err != nil || ans.Seq != 1 {
		t.Fatalf("first write: %+v %v", ans, err)
	}

	heal := rs.cut(t, rs.leader)
	w := publishAsync(old, "kv.a", expectSubjSeq(1), "lost")
	cas := publishAsync(old, "kv.a", expectSubjSeq(1), "cas")
	var next int
	waitUntil(t, "a new leader among the others", func() bool {
		for i, g := range rs.groups {
			if st, err := g.Status(ctx); i != rs.leader && err == nil && st.Leader == rs.nodes[i].ID {
				next = i
				return true
			}
		}
		return false
	})
	// The new leader's first entry takes the index the lost write had.
	if ans, err := rs.groups[next].Publish(ctx, "kv.other", nil, []byte("x")); err != nil || ans.Err != nil {
		t.Fatalf("publish on the new leader: %+v %v", ans, err)
	}
	heal()

	if o := await(t, "the lost write", w); o.err == nil {
		t.Fatalf("the cut-off leader's write: %s, want an error", o)
	}
	o := await(t, "the CAS", cas)
	t.Logf("the cut-off leader's CAS: %s", o)
	if o.err == nil && o.ans.Err != nil && o.ans.Err.ErrCode == uint16(jsapi.ErrStreamWrongLastSequence) {
		t.Fatalf("the CAS was refused on a write that was dropped: %s", o)
	}
	if o.err == nil && o.ans.Err == nil {
		t.Fatalf("the cut-off leader stored the CAS: %s", o)
	}
	if ans, err := rs.groups[next].Publish(ctx, "kv.a", expectSubjSeq(1), []byte("cas")); err != nil || ans.Err != nil {
		t.Fatalf("the CAS on the new leader: %+v %v", ans, err)
	}
}

// cut partitions member i from the others, both ways, and returns what
// heals it.
func (rs *replicatedStream) cut(t *testing.T, i int) (heal func()) {
	t.Helper()
	for j, n := range rs.nodes {
		if j != i {
			n.Transport().RemovePeer(rs.nodes[i].ID)
			rs.nodes[i].Transport().RemovePeer(n.ID)
		}
	}
	return func() {
		for j, n := range rs.nodes {
			if j == i {
				continue
			}
			if err := n.Transport().AddPeer(rs.nodes[i].ID, rs.nodes[i].srv.ClusterAddr().String()); err != nil {
				t.Fatal(err)
			}
			if err := rs.nodes[i].Transport().AddPeer(n.ID, n.srv.ClusterAddr().String()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestStreamGroupCASWaitIsBounded: a CAS resting on a write in flight
// that is never decided (the leader stays cut off) is answered within
// settleFor anyway, and not with a refusal: the cut-off member has lost
// its lease.
func TestStreamGroupCASWaitIsBounded(t *testing.T) {
	cfg := casConfig
	cfg.Name = "BOUND"
	rs := startStreamGroup(t, 112, cfg, false, "b1", "b2", "b3")
	old := rs.lead()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ans, err := old.Publish(ctx, "kv.a", nil, []byte("v1")); err != nil || ans.Err != nil || ans.Seq != 1 {
		t.Fatalf("first write: %+v %v", ans, err)
	}
	rs.cut(t, rs.leader)
	publishAsync(old, "kv.a", nil, "stuck")
	o := await(t, "the CAS", publishAsync(old, "kv.a", expectSubjSeq(1), "cas"))
	if o.err != nil || o.ans.Err == nil || o.ans.Err.ErrCode != uint16(jsapi.ErrClusterNotAvail) {
		t.Fatalf("the cut-off leader's CAS: %s, want refused %d", o, jsapi.ErrClusterNotAvail)
	}
}
