package raftnet

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// FuzzFrame feeds arbitrary bytes to the decoder: it must return an error
// or frames, never panic; it must see the same frames when the input comes
// one byte per read (every split of a frame across reads); and a batch it
// accepts must encode again into a batch that decodes to the same number
// of messages (checkBatch).
func FuzzFrame(f *testing.F) {
	hello := AppendHello(nil, Hello{Version: Version, ServerID: "seed", NodeID: 7})
	batch, _, _ := AppendBatch(nil, sampleBatch(), 1<<20)
	keep := AppendKeepalive(nil)
	stream := append(append(append([]byte{}, hello...), batch...), keep...)
	f.Add(stream)
	f.Add(hello)
	f.Add(batch)
	f.Add(keep)
	// Every prefix of a good stream: truncation at each byte offset.
	for i := range stream {
		f.Add(stream[:i])
	}
	snap := &raftpb.Message{Type: raftpb.MsgSnap.Enum(), Snapshot: &raftpb.Snapshot{Data: []byte("state")}}
	s, _, _ := AppendBatch(nil, []Envelope{{Group: 5, Msg: snap}}, 1<<20)
	f.Add(s)
	// Random messages in both forms, as TestCodecRoundTrip makes them.
	g := gen{rand.New(rand.NewPCG(3, 4))}
	for range 20 {
		b, _, _ := AppendBatch(nil, []Envelope{{Group: 9, Msg: g.message()}, {Group: 1, Msg: g.message()}}, 1<<20)
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, input []byte) {
		d := NewDecoder(bytes.NewReader(input), 1<<16)
		slow := NewDecoder(iotest.OneByteReader(bytes.NewReader(input)), 1<<16)
		for range 1000 {
			fr, err := d.Next()
			sfr, serr := slow.Next()
			if (err == nil) != (serr == nil) || fr.Kind != sfr.Kind || !bytes.Equal(fr.Body, sfr.Body) {
				t.Fatalf("one byte per read differs: %v/%v, %v/%v", fr.Kind, err, sfr.Kind, serr)
			}
			if err != nil {
				return
			}
			switch fr.Kind {
			case KindHello:
				_, _ = DecodeHello(fr.Body)
			case KindBatch:
				checkBatch(t, fr.Body)
			}
		}
	})
}

// FuzzBatch feeds arbitrary bodies to DecodeBatch directly: behind a
// frame's checksum, almost every mutation of FuzzFrame's input stops at the
// checksum and never reaches the message decoder.
func FuzzBatch(f *testing.F) {
	g := gen{rand.New(rand.NewPCG(5, 6))}
	for range 20 {
		b, _, _ := AppendBatch(nil, []Envelope{{Group: 9, Msg: g.message()}, {Group: 1, Msg: g.message()}}, 1<<20)
		f.Add(b[headerLen:])
	}
	b, _, _ := AppendBatch(nil, []Envelope{{Group: 1, Msg: typicalApp(3, 5)}, {Group: 2, Msg: typicalHeartbeat(2)}}, 1<<20)
	f.Add(b[headerLen:])
	f.Fuzz(checkBatch)
}

// checkBatch decodes body; a batch it accepts must encode again into a
// batch that decodes to the same messages, each proto.Equal to the one
// decoded (unless it holds unknown fields, which the fast form does not
// carry).
func checkBatch(t *testing.T, body []byte) {
	msgs, err := DecodeBatch(body, nil)
	if err != nil {
		return
	}
	again, n, err := AppendBatch(nil, msgs, 1<<20)
	if err != nil || n != len(msgs) {
		t.Fatalf("re-encoding %d decoded messages: n=%d err=%v", len(msgs), n, err)
	}
	back, err := DecodeBatch(again[headerLen:], nil)
	if err != nil || len(back) != len(msgs) {
		t.Fatalf("decoding the re-encoded batch: %d messages, %v", len(back), err)
	}
	for i := range msgs {
		if hasUnknown(msgs[i].Msg.ProtoReflect()) {
			continue
		}
		if back[i].Group != msgs[i].Group || !proto.Equal(back[i].Msg, msgs[i].Msg) {
			t.Fatalf("message %d changed in a round trip:\n got %v\nwant %v", i, back[i].Msg, msgs[i].Msg)
		}
	}
}
