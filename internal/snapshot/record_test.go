package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

func recordsEqual(a, b *Record) bool {
	return a.Seq == b.Seq && a.Time == b.Time && a.Erased == b.Erased && a.Tombstone == b.Tombstone &&
		bytes.Equal(a.Subject, b.Subject) && bytes.Equal(a.Header, b.Header) && bytes.Equal(a.Data, b.Data)
}

func TestRecordRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100_000)
	tests := []struct {
		name string
		rec  Record
	}{
		{"plain", Record{Seq: 1, Time: 1700000000000000000, Subject: []byte("orders.1"), Data: []byte("hello")}},
		{"header", Record{Seq: 2, Time: 5, Subject: []byte("a"), Header: []byte("NATS/1.0\r\nX: y\r\n\r\n"), Data: []byte("p")}},
		{"empty payload", Record{Seq: 3, Time: 6, Subject: []byte("a.b")}},
		{"header only", Record{Seq: 4, Time: 7, Subject: []byte("a"), Header: []byte("NATS/1.0\r\n\r\n")}},
		{"large", Record{Seq: 1 << 40, Time: -1, Subject: []byte("big"), Data: big}},
		{"erased", Record{Seq: 9, Time: 8, Erased: true}},
		{"tombstone", Record{Seq: 7, Time: 9, Tombstone: true}},
	}
	var block []byte
	h := blockHash("S", 3)
	for _, tt := range tests {
		block = AppendRecord(block, h, &tt.rec)
	}
	rr := NewRecordReader(bytes.NewReader(block), "S", 3)
	for _, tt := range tests {
		var got Record
		if err := rr.Next(&got); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !recordsEqual(&got, &tt.rec) {
			t.Fatalf("%s: got %+v, want %+v", tt.name, got, tt.rec)
		}
	}
	var rec Record
	if err := rr.Next(&rec); err != io.EOF {
		t.Fatalf("end: %v, want EOF", err)
	}
	if rr.Offset() != int64(len(block)) {
		t.Fatalf("offset %d, want %d", rr.Offset(), len(block))
	}
}

// The checksum key is the stream name and block number: a block read as
// another block, or another stream's, fails.
func TestRecordChecksumKeyed(t *testing.T) {
	block := AppendRecord(nil, blockHash("S", 1), &Record{Seq: 1, Subject: []byte("a"), Data: []byte("b")})
	for _, tt := range []struct {
		stream string
		n      uint32
	}{{"S", 2}, {"T", 1}} {
		var rec Record
		err := NewRecordReader(bytes.NewReader(block), tt.stream, tt.n).Next(&rec)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s/%d: %v, want corrupt", tt.stream, tt.n, err)
		}
	}
}

func TestRecordCompressedBlock(t *testing.T) {
	var rec Record
	err := NewRecordReader(bytes.NewReader([]byte("cmp\x01\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")), "S", 1).Next(&rec)
	if !errors.Is(err, ErrCompressedBlock) || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("compressed block: %v", err)
	}
}

func TestRecordDamage(t *testing.T) {
	good := AppendRecord(nil, blockHash("S", 1), &Record{Seq: 1, Subject: []byte("a"), Header: []byte("NATS/1.0\r\n\r\n"), Data: []byte("payload")})
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		b    []byte
	}{
		{"flipped payload byte", mutate(func(b []byte) []byte { b[len(b)-10] ^= 1; return b })},
		{"flipped checksum", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
		{"truncated header", good[:10]},
		{"truncated body", good[:len(good)-3]},
		{"length too small", mutate(func(b []byte) []byte { b[0], b[1] = 5, 0; return b })},
		{"length too large", mutate(func(b []byte) []byte { b[3] = 0x7f; return b })},
		{"subject longer than record", mutate(func(b []byte) []byte { b[20], b[21] = 0xff, 0xff; return b })},
		{"header length too large", mutate(func(b []byte) []byte { b[22+1] = 0xff; return b })},
	}
	for _, tt := range tests {
		var rec Record
		err := NewRecordReader(bytes.NewReader(tt.b), "S", 1).Next(&rec)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want corrupt", tt.name, err)
		}
	}
}

// A damaged length cannot make the reader allocate the size it claims
// before the bytes are there: a 60 MiB record cut short costs about the
// bytes that arrived, and a whole large record still round-trips.
func TestRecordLengthNotTrustedUpFront(t *testing.T) {
	h := blockHash("S", 1)
	big := AppendRecord(nil, h, &Record{Seq: 1, Subject: []byte("a"), Data: bytes.Repeat([]byte("x"), 3<<20+17)})
	var rec Record
	if err := NewRecordReader(bytes.NewReader(big), "S", 1).Next(&rec); err != nil || len(rec.Data) != 3<<20+17 {
		t.Fatalf("large record: %v, %d bytes", err, len(rec.Data))
	}

	claim := make([]byte, recordHeaderLen+100)
	binary.LittleEndian.PutUint32(claim, 60<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := NewRecordReader(bytes.NewReader(claim), "S", 1).Next(&rec)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated record: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Fatalf("reading a 100-byte record that claims 60 MiB allocated %d bytes", grew)
	}
}
