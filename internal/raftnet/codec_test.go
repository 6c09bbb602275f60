package raftnet

import (
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// gen makes random messages: every message type, each field absent, zero
// or random, 0..6 entries, byte fields nil, empty or not.
type gen struct{ r *rand.Rand }

func (g gen) u64() *uint64 {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return proto.Uint64(0)
	}
	// Values of every varint length.
	return proto.Uint64(g.r.Uint64() >> g.r.IntN(64))
}

func (g gen) bytes() []byte {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	b := make([]byte, 1+g.r.IntN(300))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

// enum is mostly a known value, sometimes one no enum names (a negative
// one takes ten bytes in protobuf).
func (g gen) enum(known int) *int32 {
	switch g.r.IntN(8) {
	case 0:
		return nil
	case 1:
		v := int32(g.r.Uint32())
		return &v
	}
	v := int32(g.r.IntN(known))
	return &v
}

func (g gen) entry() *raftpb.Entry {
	e := &raftpb.Entry{Term: g.u64(), Index: g.u64(), Data: g.bytes()}
	if t := g.enum(len(raftpb.EntryType_name)); t != nil {
		e.Type = (*raftpb.EntryType)(t)
	}
	return e
}

func (g gen) message() *raftpb.Message {
	m := &raftpb.Message{
		To: g.u64(), From: g.u64(), Term: g.u64(), LogTerm: g.u64(), Index: g.u64(),
		Commit: g.u64(), Vote: g.u64(), RejectHint: g.u64(), Context: g.bytes(),
	}
	if t := g.enum(len(raftpb.MessageType_name)); t != nil {
		m.Type = (*raftpb.MessageType)(t)
	}
	if r := g.r.IntN(3); r > 0 {
		m.Reject = proto.Bool(r == 2)
	}
	for range g.r.IntN(7) {
		m.Entries = append(m.Entries, g.entry())
	}
	// The protobuf form's cases, rarely, as in a cluster.
	if g.r.IntN(10) == 0 {
		m.Snapshot = &raftpb.Snapshot{Data: g.bytes(), Metadata: &raftpb.SnapshotMetadata{Index: g.u64(), Term: g.u64()}}
	}
	return m
}

// TestCodecRoundTrip encodes batches of random messages and expects each
// decoded message proto.Equal to its original, and not to alias the body.
func TestCodecRoundTrip(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	var buf []byte
	for i := range 2000 {
		in := make([]Envelope, 1+g.r.IntN(8))
		for j := range in {
			in[j] = Envelope{Group: g.r.Uint64() >> g.r.IntN(64), Msg: g.message()}
		}
		// Messages of many tiny entries can take more than one batch
		// (budget.go).
		var out []Envelope
		for rest := in; len(rest) > 0; {
			var n int
			var err error
			buf, n, err = AppendBatch(buf[:0], rest, 1<<20)
			if err != nil || n == 0 {
				t.Fatalf("batch %d: AppendBatch n=%d err=%v", i, n, err)
			}
			body := buf[headerLen:]
			if out, err = DecodeBatch(body, out); err != nil {
				t.Fatalf("batch %d: DecodeBatch: %v", i, err)
			}
			clear(body) // the caller reuses its buffer
			rest = rest[n:]
		}
		for j := range in {
			if out[j].Group != in[j].Group || !proto.Equal(out[j].Msg, in[j].Msg) {
				t.Fatalf("batch %d message %d:\n got %d %v\nwant %d %v", i, j, out[j].Group, out[j].Msg, in[j].Group, in[j].Msg)
			}
			if !fastForm(in[j].Msg) {
				continue // protobuf's decoding copies each field
			}
			if out[j].Msg.Context != nil && cap(out[j].Msg.Context) != len(out[j].Msg.Context) {
				t.Fatalf("batch %d message %d: context has room to grow over the next field", i, j)
			}
			for _, e := range out[j].Msg.Entries {
				if cap(e.Data) != len(e.Data) {
					t.Fatalf("batch %d message %d: entry data has room to grow over the next field", i, j)
				}
			}
		}
	}
}

// TestCodecEdges covers what random messages rarely hit: a nil entry (sent
// as an empty one, as protobuf does) and a message with nothing set.
func TestCodecEdges(t *testing.T) {
	tests := []struct {
		name    string
		in, out *raftpb.Message
	}{
		{"nothing set", &raftpb.Message{}, &raftpb.Message{}},
		{"empty entries", &raftpb.Message{Entries: []*raftpb.Entry{}}, &raftpb.Message{}},
		{"nil entry", &raftpb.Message{Entries: []*raftpb.Entry{nil}}, &raftpb.Message{Entries: []*raftpb.Entry{{}}}},
		{"nil message", nil, &raftpb.Message{}},
		{"empty snapshot", &raftpb.Message{Snapshot: &raftpb.Snapshot{}}, &raftpb.Message{Snapshot: &raftpb.Snapshot{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _, err := AppendBatch(nil, []Envelope{{Group: 3, Msg: tc.in}}, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			out, err := DecodeBatch(b[headerLen:], nil)
			if err != nil || len(out) != 1 || !proto.Equal(out[0].Msg, tc.out) {
				t.Fatalf("got %v, %v; want %v", out, err, tc.out)
			}
		})
	}
}

// TestDecodeBatchAllocs holds decoding to one allocation per 32 messages,
// two per message with entries (the entries, the slice of pointers), and
// one copy of the body.
func TestDecodeBatchAllocs(t *testing.T) {
	beats := make([]Envelope, 64)
	for i := range beats {
		beats[i] = Envelope{Group: uint64(i), Msg: typicalHeartbeat(uint64(i))}
	}
	tests := []struct {
		name string
		msgs []Envelope
		max  float64
	}{
		{"MsgApp of 64 entries", []Envelope{{Group: 1, Msg: typicalApp(64, 200)}}, 4},
		{"64 heartbeats", beats, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _, _ := AppendBatch(nil, tc.msgs, 1<<20)
			out := make([]Envelope, 0, len(tc.msgs))
			n := testing.AllocsPerRun(50, func() { _, _ = DecodeBatch(b[headerLen:], out[:0]) })
			if n > tc.max {
				t.Fatalf("%v allocations, want at most %v", n, tc.max)
			}
		})
	}
}

// hasUnknown tells whether m or a message in it holds unknown fields (or
// enum values its closed enums do not name, which protobuf keeps there).
// The fast form does not carry them.
func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				found = found || hasUnknown(l.Get(i).Message())
			}
		case fd.Message() != nil:
			found = hasUnknown(v.Message())
		}
		return !found
	})
	return found
}
