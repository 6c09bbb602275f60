package raftnet

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// typicalApp is a leader's MsgApp as raft builds it: every header field
// set, n entries of size bytes each.
func typicalApp(n, size int) *raftpb.Message {
	m := &raftpb.Message{
		Type: raftpb.MsgApp.Enum(), To: proto.Uint64(2), From: proto.Uint64(1),
		Term: proto.Uint64(7), LogTerm: proto.Uint64(7), Index: proto.Uint64(100_000),
		Commit: proto.Uint64(99_990),
	}
	for i := range n {
		m.Entries = append(m.Entries, &raftpb.Entry{
			Term: proto.Uint64(7), Index: proto.Uint64(100_001 + uint64(i)),
			Type: raftpb.EntryNormal.Enum(), Data: make([]byte, size),
		})
	}
	return m
}

func typicalAppResp(group uint64) *raftpb.Message {
	return &raftpb.Message{
		Type: raftpb.MsgAppResp.Enum(), To: proto.Uint64(1), From: proto.Uint64(2),
		Term: proto.Uint64(7), Index: proto.Uint64(100_064 + group), Commit: proto.Uint64(100_000),
	}
}

func typicalHeartbeat(group uint64) *raftpb.Message {
	return &raftpb.Message{
		Type: raftpb.MsgHeartbeat.Enum(), To: proto.Uint64(2), From: proto.Uint64(1),
		Term: proto.Uint64(7), Commit: proto.Uint64(99_990 + group),
	}
}

// BenchmarkCodec measures one batch's encoding and decoding, as a writer
// and a reader do them: a MsgApp of 64 entries of 200 bytes, and 64 groups'
// MsgAppResps or heartbeats in one batch.
func BenchmarkCodec(b *testing.B) {
	many := func(f func(uint64) *raftpb.Message) []Envelope {
		es := make([]Envelope, 64)
		for g := range es {
			es[g] = Envelope{Group: uint64(g), Msg: f(uint64(g))}
		}
		return es
	}
	for _, bc := range []struct {
		name string
		msgs []Envelope
	}{
		{"app64x200B", []Envelope{{Group: 1, Msg: typicalApp(64, 200)}}},
		{"appresp64", many(typicalAppResp)},
		{"heartbeat64", many(typicalHeartbeat)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf, _, _ := AppendBatch(nil, bc.msgs, 1<<20)
			var out []Envelope
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, _, err = AppendBatch(buf[:0], bc.msgs, 1<<20)
				if err != nil {
					b.Fatal(err)
				}
				if out, err = DecodeBatch(buf[headerLen:], out[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
