package raftnet

import (
	"bytes"
	"testing"
	"testing/iotest"

	"go.etcd.io/raft/v3/raftpb"
)

// FuzzFrame feeds arbitrary bytes to the decoder: it must return an error
// or frames, never panic; it must see the same frames when the input comes
// one byte per read (every split of a frame across reads); and a batch it
// accepts must encode again into a batch that decodes to the same number
// of messages.
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
				msgs, err := DecodeBatch(fr.Body, nil)
				if err != nil {
					continue
				}
				again, n, err := AppendBatch(nil, msgs, 1<<20)
				if err != nil || n != len(msgs) {
					t.Fatalf("re-encoding %d decoded messages: n=%d err=%v", len(msgs), n, err)
				}
				back, err := DecodeBatch(again[headerLen:], nil)
				if err != nil || len(back) != len(msgs) {
					t.Fatalf("decoding the re-encoded batch: %d messages, %v", len(back), err)
				}
			}
		}
	})
}
