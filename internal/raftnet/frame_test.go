package raftnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func msg(typ raftpb.MessageType, from, to, index uint64, data ...[]byte) *raftpb.Message {
	m := &raftpb.Message{Type: typ.Enum(), From: proto.Uint64(from), To: proto.Uint64(to), Index: proto.Uint64(index), Term: proto.Uint64(3)}
	for i, d := range data {
		m.Entries = append(m.Entries, &raftpb.Entry{Index: proto.Uint64(index + uint64(i) + 1), Term: proto.Uint64(3), Data: d})
	}
	return m
}

func sampleBatch() []Envelope {
	return []Envelope{
		{Group: 1, Msg: msg(raftpb.MsgHeartbeat, 1, 2, 0)},
		{Group: 1 << 40, Msg: msg(raftpb.MsgApp, 1, 2, 7, []byte("a"), []byte("bc"))},
		{Group: 0, Msg: msg(raftpb.MsgVote, 1, 2, 9)},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	in := sampleBatch()
	b, n, err := AppendBatch(nil, in, 1<<20)
	if err != nil || n != len(in) {
		t.Fatalf("AppendBatch: n=%d err=%v", n, err)
	}
	d := NewDecoder(bytes.NewReader(b), 1<<20)
	f, err := d.Next()
	if err != nil || f.Kind != KindBatch {
		t.Fatalf("Next: %v kind %d", err, f.Kind)
	}
	out, err := DecodeBatch(f.Body, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d messages, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Group != in[i].Group || !proto.Equal(out[i].Msg, in[i].Msg) {
			t.Fatalf("message %d: got %v/%v, want %v/%v", i, out[i].Group, out[i].Msg, in[i].Group, in[i].Msg)
		}
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want EOF", err)
	}
}

func TestHelloRoundTrip(t *testing.T) {
	in := Hello{Version: Version, ServerID: "srv-a", NodeID: 42}
	b := AppendHello(nil, in)
	f, err := NewDecoder(bytes.NewReader(b), 1024).Next()
	if err != nil || f.Kind != KindHello {
		t.Fatalf("Next: %v kind %d", err, f.Kind)
	}
	got, err := DecodeHello(f.Body)
	if err != nil || got != in {
		t.Fatalf("got %+v, %v; want %+v", got, err, in)
	}
}

// TestAppendBatchSplits checks that a batch larger than a frame is cut at a
// message boundary and that a message larger than any frame is refused.
func TestAppendBatchSplits(t *testing.T) {
	big := bytes.Repeat([]byte{'x'}, 300)
	msgs := []Envelope{
		{Group: 1, Msg: msg(raftpb.MsgApp, 1, 2, 1, big)},
		{Group: 2, Msg: msg(raftpb.MsgApp, 1, 2, 1, big)},
		{Group: 3, Msg: msg(raftpb.MsgApp, 1, 2, 1, big)},
	}
	h := headerOf(msgs[0].Msg)
	one := fastSize(msgs[0].Msg, &h) + perMessageOverhead
	for want := 1; want <= 3; want++ {
		limit := 4 + want*one + one/2
		_, n, err := AppendBatch(nil, msgs, limit)
		if err != nil || n != want {
			t.Fatalf("%d-byte frames: n=%d err=%v, want %d messages", limit, n, err, want)
		}
	}
	b, n, err := AppendBatch([]byte("keep"), msgs, 100)
	if !errors.Is(err, ErrMessageTooLarge) || n != 0 || string(b) != "keep" {
		t.Fatalf("100-byte frames: n=%d err=%v buf=%q", n, err, b)
	}
}

// frameOf builds a frame by hand with a correct checksum, for bodies the
// encoder would never produce.
func frameOf(k Kind, body []byte) []byte {
	b, off := appendHeader(nil, k)
	b = append(b, body...)
	finishFrame(b, off)
	return b
}

func TestDecodeRejects(t *testing.T) {
	good, _, _ := AppendBatch(nil, sampleBatch(), 1<<20)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-1] ^= 1
	huge := bytes.Clone(good)
	binary.BigEndian.PutUint32(huge, 1<<30)
	count := func(n uint32, rest ...byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, n), rest...)
	}
	// fast frames one message of group 1 in the fast form, b after the
	// form byte.
	fast := func(b ...byte) []byte {
		return frameOf(KindBatch, count(1, append([]byte{1, byte(len(b) + 1), formFast}, b...)...))
	}
	hello := AppendHello(nil, Hello{Version: Version, ServerID: "s", NodeID: 1})
	helloBody := hello[headerLen:]
	older := bytes.Clone(helloBody)
	older[5] = Version - 1
	newer := bytes.Clone(helloBody)
	newer[5] = Version + 1

	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"truncated header", good[:5], ErrMalformed},
		{"truncated body", good[:len(good)-1], ErrMalformed},
		{"bad checksum", badCRC, ErrChecksum},
		{"too large", huge, ErrFrameTooLarge},
		{"unknown kind", frameOf(9, nil), ErrUnknownKind},
		{"kind zero", frameOf(0, nil), ErrUnknownKind},
		{"empty batch", frameOf(KindBatch, count(0)), ErrMalformed},
		{"short count", frameOf(KindBatch, []byte{0, 1}), ErrMalformed},
		{"count beyond body", frameOf(KindBatch, count(1000, 1, 0)), ErrMalformed},
		{"length beyond body", frameOf(KindBatch, count(1, 1, 50, 8)), ErrMalformed},
		{"bad varint", frameOf(KindBatch, count(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), ErrMalformed},
		{"bad protobuf", frameOf(KindBatch, count(1, 1, 3, formProto, 0xff, 0xff)), ErrMalformed},
		{"trailing bytes", frameOf(KindBatch, count(1, 1, 1, formProto, 7)), ErrMalformed},
		{"empty message", frameOf(KindBatch, count(1, 1, 0, 7, 7)), ErrMalformed},
		{"unknown form", frameOf(KindBatch, count(1, 1, 1, 9, 0)), ErrMalformed},
		{"fast: unknown flag", fast(0x80, 0x40, 0), ErrMalformed},
		{"fast: reject value without reject", fast(0x80, 0x08, 0), ErrMalformed},
		{"fast: value missing", fast(msgTo), ErrMalformed},
		{"fast: enum beyond 32 bits", fast(msgType, 0x80, 0x80, 0x80, 0x80, 0x10, 0), ErrMalformed},
		{"fast: context beyond message", fast(0x80, 0x10, 5, 'a', 'b'), ErrMalformed},
		{"fast: entry count beyond message", fast(0, 50, 0), ErrMalformed},
		{"fast: entry count overflows", fast(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrMalformed},
		{"fast: unknown entry flag", fast(0, 1, 0x10), ErrMalformed},
		{"fast: entry data beyond message", fast(0, 1, entData, 9, 'x'), ErrMalformed},
		{"fast: entries cut short", fast(0, 2, entTerm, 5), ErrMalformed},
		{"fast: bytes after entries", fast(0, 0, 7), ErrMalformed},
		{"hello without magic", frameOf(KindHello, []byte("XXXX\x00\x01\x01\x00")), ErrMalformed},
		{"hello of an older version", frameOf(KindHello, older), ErrVersion},
		{"hello of a newer version", frameOf(KindHello, newer), ErrVersion},
		{"hello server id too long", frameOf(KindHello, append(bytes.Clone(helloBody[:7]), 0xff, 0x7f)), ErrMalformed},
		{"hello truncated", frameOf(KindHello, helloBody[:len(helloBody)-1]), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeAll(tc.input, 1<<20)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// decodeAll decodes every frame of input, returning the first error other
// than a clean end.
func decodeAll(input []byte, maxBody int) error {
	d := NewDecoder(bytes.NewReader(input), maxBody)
	for {
		f, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch f.Kind {
		case KindHello:
			_, err = DecodeHello(f.Body)
		case KindBatch:
			_, err = DecodeBatch(f.Body, nil)
		}
		if err != nil {
			return err
		}
	}
}

// TestAppendBatchAllocs holds the writer's encoding to no allocation once
// its buffer has grown.
func TestAppendBatchAllocs(t *testing.T) {
	msgs := sampleBatch()
	buf, _, _ := AppendBatch(nil, msgs, 1<<20)
	if n := testing.AllocsPerRun(100, func() { buf, _, _ = AppendBatch(buf[:0], msgs, 1<<20) }); n != 0 {
		t.Fatalf("AppendBatch allocates %v times per call", n)
	}
}

func BenchmarkAppendBatch(b *testing.B) {
	msgs := make([]Envelope, 64)
	for i := range msgs {
		msgs[i] = Envelope{Group: uint64(i), Msg: msg(raftpb.MsgApp, 1, 2, uint64(i), make([]byte, 128))}
	}
	buf, _, _ := AppendBatch(nil, msgs, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _, _ = AppendBatch(buf[:0], msgs, 1<<20)
	}
}

func BenchmarkDecodeBatch(b *testing.B) {
	msgs := make([]Envelope, 64)
	for i := range msgs {
		msgs[i] = Envelope{Group: uint64(i), Msg: msg(raftpb.MsgApp, 1, 2, uint64(i), make([]byte, 128))}
	}
	buf, _, _ := AppendBatch(nil, msgs, 1<<20)
	body := buf[headerLen:]
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(body, nil); err != nil {
			b.Fatal(err)
		}
	}
}
