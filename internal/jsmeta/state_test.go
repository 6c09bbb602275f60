package jsmeta

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/starling-mq/starling/internal/jsapi"
)

func stream(acc, name string, peers ...string) *Stream {
	return &Stream{Account: acc, Config: jsapi.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name)}},
		Group: Group{Name: "S-" + acc + "-" + name, Peers: peers, Storage: "file"}}
}

func consumer(acc, st, name string, peers ...string) *Consumer {
	return &Consumer{Account: acc, Stream: st, Name: name, Config: jsapi.ConsumerConfig{Durable: name},
		Group: Group{Name: "C-" + acc + "-" + st + "-" + name, Peers: peers, Storage: "file"}}
}

// TestApplyTranscript drives one state through a transcript of
// operations, each with its expected error and the state it leaves
// (written as the servers hosting each asset).
func TestApplyTranscript(t *testing.T) {
	steps := []struct {
		op   Op
		err  error
		want string // "account/stream[peers] account/stream/consumer[peers] ..."
	}{
		{Op{Kind: AddStream, Stream: stream("A", "ORDERS", "s1", "s2", "s3")}, nil, "A/ORDERS[s1 s2 s3]"},
		{Op{Kind: AddStream, Stream: stream("B", "ORDERS", "s2")}, nil, "A/ORDERS[s1 s2 s3] B/ORDERS[s2]"},
		{Op{Kind: AddStream, Stream: stream("A", "ORDERS", "s1")}, ErrStreamExists, "A/ORDERS[s1 s2 s3] B/ORDERS[s2]"},
		{Op{Kind: AddConsumer, Consumer: consumer("A", "ORDERS", "c1", "s1", "s2", "s3")}, nil,
			"A/ORDERS[s1 s2 s3] A/ORDERS/c1[s1 s2 s3] B/ORDERS[s2]"},
		{Op{Kind: AddConsumer, Consumer: consumer("A", "NONE", "c1", "s1")}, ErrStreamNotFound,
			"A/ORDERS[s1 s2 s3] A/ORDERS/c1[s1 s2 s3] B/ORDERS[s2]"},
		{Op{Kind: RemovePeer, Peer: "s2", Replace: map[string]string{"S-A-ORDERS": "s4"}}, nil,
			"A/ORDERS[s1 s4 s3] A/ORDERS/c1[s1 s3] B/ORDERS[]"},
		{Op{Kind: UpdateStream, Stream: stream("B", "ORDERS", "s1", "s3", "s4")}, nil,
			"A/ORDERS[s1 s4 s3] A/ORDERS/c1[s1 s3] B/ORDERS[s1 s3 s4]"},
		{Op{Kind: UpdateStream, Stream: stream("C", "X", "s1")}, ErrStreamNotFound,
			"A/ORDERS[s1 s4 s3] A/ORDERS/c1[s1 s3] B/ORDERS[s1 s3 s4]"},
		{Op{Kind: RemoveConsumer, Consumer: consumer("A", "ORDERS", "nope")}, ErrConsumerNotFound,
			"A/ORDERS[s1 s4 s3] A/ORDERS/c1[s1 s3] B/ORDERS[s1 s3 s4]"},
		{Op{Kind: RemoveStream, Stream: stream("A", "ORDERS")}, nil, "B/ORDERS[s1 s3 s4]"},
		{Op{Kind: RemoveStream, Stream: stream("A", "ORDERS")}, ErrStreamNotFound, "B/ORDERS[s1 s3 s4]"},
		{Op{Kind: AddStream}, ErrBadOp, "B/ORDERS[s1 s3 s4]"},
	}
	s := New()
	for i, st := range steps {
		_, err := s.Apply(st.op)
		if !errors.Is(err, st.err) {
			t.Fatalf("step %d: %v, want %v", i, err, st.err)
		}
		if got := describe(s); got != st.want {
			t.Fatalf("step %d:\n got %s\nwant %s", i, got, st.want)
		}
	}
}

// TestChanges: what Apply reports, for the servers to host or unhost.
func TestChanges(t *testing.T) {
	s := New()
	mustApply(t, s, Op{Kind: AddStream, Stream: stream("A", "S", "s1", "s2")})
	mustApply(t, s, Op{Kind: AddConsumer, Consumer: consumer("A", "S", "c2", "s1")})
	mustApply(t, s, Op{Kind: AddConsumer, Consumer: consumer("A", "S", "c1", "s2")})
	ch := mustApply(t, s, Op{Kind: UpdateStream, Stream: stream("A", "S", "s1", "s3")})
	if !slices.Equal(ch.Regrouped, []string{"S-A-S"}) {
		t.Fatalf("regrouped %v", ch.Regrouped)
	}
	ch = mustApply(t, s, Op{Kind: RemoveStream, Stream: stream("A", "S")})
	if len(ch.Removed) != 2 || ch.Removed[0].Name != "c1" || ch.Removed[1].Name != "c2" {
		t.Fatalf("removed with the stream: %+v", ch.Removed)
	}
	if ch.Stream == nil || ch.Stream.Config.Name != "S" {
		t.Fatalf("removed stream %+v", ch.Stream)
	}
}

// TestHosted: a server's share of the assignments.
func TestHosted(t *testing.T) {
	s := New()
	mustApply(t, s, Op{Kind: AddStream, Stream: stream("A", "S1", "s1", "s2")})
	mustApply(t, s, Op{Kind: AddStream, Stream: stream("A", "S2", "s2", "s3")})
	mustApply(t, s, Op{Kind: AddConsumer, Consumer: consumer("A", "S2", "c", "s1")})
	streams, consumers := s.Hosted("s1")
	if len(streams) != 1 || streams[0].Config.Name != "S1" || len(consumers) != 1 || consumers[0].Name != "c" {
		t.Fatalf("s1 hosts %v %v", streams, consumers)
	}
}

// TestReplicas: random operations applied to two states, one of which is
// restored from the other's snapshot half-way, end in the same bytes; a
// failing seed replays.
func TestReplicas(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 99))
		a, b := New(), New()
		for i := range 300 {
			op := randomOp(rng)
			_, ea := a.Apply(op)
			_, eb := b.Apply(op)
			if !errors.Is(ea, eb) && !(ea == nil && eb == nil) {
				t.Fatalf("seed %d op %d: %v vs %v", seed, i, ea, eb)
			}
			if i == 150 {
				snap, err := a.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				b = New()
				if err := b.Restore(snap); err != nil {
					t.Fatalf("seed %d: restore: %v", seed, err)
				}
			}
		}
		sa, _ := a.Snapshot()
		sb, _ := b.Snapshot()
		if !bytes.Equal(sa, sb) {
			t.Fatalf("seed %d: the replicas differ", seed)
		}
	}
}

func randomOp(rng *rand.Rand) Op {
	acc := []string{"A", "B"}[rng.IntN(2)]
	name := fmt.Sprintf("S%d", rng.IntN(4))
	peers := []string{"s1", "s2", "s3", "s4", "s5"}
	rng.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	peers = peers[:1+rng.IntN(3)]
	switch rng.IntN(6) {
	case 0:
		return Op{Kind: AddStream, Stream: stream(acc, name, peers...)}
	case 1:
		return Op{Kind: UpdateStream, Stream: stream(acc, name, peers...)}
	case 2:
		return Op{Kind: RemoveStream, Stream: stream(acc, name)}
	case 3:
		return Op{Kind: AddConsumer, Consumer: consumer(acc, name, fmt.Sprintf("c%d", rng.IntN(3)), peers...)}
	case 4:
		return Op{Kind: RemoveConsumer, Consumer: consumer(acc, name, fmt.Sprintf("c%d", rng.IntN(3)))}
	}
	return Op{Kind: RemovePeer, Peer: peers[0], Replace: map[string]string{"S-" + acc + "-" + name: "s9"}}
}

// TestCodec: operations survive the log; bad entries are errors.
func TestCodec(t *testing.T) {
	op := Op{Kind: AddConsumer, Consumer: consumer("A", "S", "c", "s1")}
	b, err := Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil || back.Kind != op.Kind || back.Consumer.Name != "c" || back.Consumer.Group.Peers[0] != "s1" {
		t.Fatalf("%+v %v", back, err)
	}
	for _, bad := range []string{"", "{", `{"op":0}`, `{"op":99}`, `[]`} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrBadOp) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := New().Restore([]byte(`{"streams":[],"consumers":[{"account":"A","stream":"X","name":"c"}]}`)); !errors.Is(err, ErrBadOp) {
		t.Errorf("a consumer without its stream restored: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	op, _ := Encode(Op{Kind: AddStream, Stream: stream("A", "S", "s1")})
	f.Add(op)
	f.Add([]byte(`{"op":6,"peer":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := Decode(b)
		if err != nil {
			return
		}
		s := New()
		_, _ = s.Apply(op) // must not panic whatever the entry says
		if _, err := s.Snapshot(); err != nil {
			t.Fatal(err)
		}
	})
}

func mustApply(t *testing.T, s *State, op Op) Change {
	t.Helper()
	ch, err := s.Apply(op)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// describe writes the state as "account/stream[peers] account/stream/consumer[peers]".
func describe(s *State) string {
	var parts []string
	for _, sa := range s.Streams("") {
		parts = append(parts, fmt.Sprintf("%s/%s%v", sa.Account, sa.Config.Name, sa.Group.Peers))
		for _, ca := range s.Consumers(sa.Account, sa.Config.Name) {
			parts = append(parts, fmt.Sprintf("%s/%s/%s%v", ca.Account, ca.Stream, ca.Name, ca.Group.Peers))
		}
	}
	return strings.Join(parts, " ")
}
