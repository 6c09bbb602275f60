package snapshot

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Every decoder takes any bytes without panicking or allocating beyond
// its bounds; what it accepts must be well formed.

func FuzzRecordReader(f *testing.F) {
	h := blockHash("S", 1)
	var block []byte
	block = AppendRecord(block, h, &Record{Seq: 1, Time: 2, Subject: []byte("a.b"), Data: []byte("x")})
	block = AppendRecord(block, h, &Record{Seq: 2, Time: 3, Subject: []byte("a"), Header: []byte("NATS/1.0\r\n\r\n"), Data: []byte("y")})
	block = AppendRecord(block, h, &Record{Seq: 3, Erased: true})
	block = AppendRecord(block, h, &Record{Seq: 1, Tombstone: true})
	for i := range len(block) {
		f.Add(block[:i])
	}
	f.Add(block)
	f.Fuzz(func(t *testing.T, b []byte) {
		rr := NewRecordReader(bytes.NewReader(b), "S", 1)
		for {
			var rec Record
			err := rr.Next(&rec)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			// What decodes encodes to a record that decodes the same (the
			// input may set flags redundantly, as an empty header).
			enc := AppendRecord(nil, h, &rec)
			var again Record
			if err := NewRecordReader(bytes.NewReader(enc), "S", 1).Next(&again); err != nil || !recordsEqual(&rec, &again) {
				t.Fatalf("record does not survive re-encoding: %v", err)
			}
		}
	})
}

func FuzzConsumerState(f *testing.F) {
	f.Add(EncodeConsumerState(&ConsumerState{}, time.Unix(0, 0)))
	f.Add(EncodeConsumerState(&ConsumerState{Delivered: SequencePair{5, 9}, AckFloor: SequencePair{2, 3},
		Pending: map[uint64]Pending{4: {3, 0}, 9: {5, 0}}, Redelivered: map[uint64]uint64{4: 1}}, time.Unix(100, 0)))
	f.Add([]byte{blockIndexMagic, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := DecodeConsumerState(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(st.Pending) > len(b) || len(st.Redelivered) > len(b) {
			t.Fatalf("decoded more entries than bytes")
		}
	})
}

func FuzzStreamIndex(f *testing.F) {
	f.Add(encodeStreamIndex("S", 3, 5000, []indexBlock{{index: 1, first: 3, last: 2000, deleted: []uint64{4, 2048}}}, 1, [8]byte{}))
	f.Add(encodeStreamIndex("S", 0, 0, nil, 0, [8]byte{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Re-sealed, so the fuzzer reaches past the checksum.
		if len(b) >= checksumLen {
			h := streamHash("S")
			h.Write(b[:len(b)-checksumLen])
			b = h.Sum(b[:len(b)-checksumLen])
		}
		if _, err := DecodeStreamIndex(b, "S", NewSeqSet(64)); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

func FuzzBlockIndex(f *testing.F) {
	f.Add([]byte{blockIndexMagic, 1, 18, 0xf2, 8, 2, 1, 20, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 3})
	f.Add(append([]byte{blockIndexMagic, 2, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, encodeDeleteMap([]uint64{3})...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeBlockIndex(b, NewSeqSet(64)); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}

// FuzzScan feeds whole archives: the nats-server ones from testdata and
// one of Starling's, damaged by the fuzzer. Scan and Replay either refuse
// them as corrupt or agree with each other.
func FuzzScan(f *testing.F) {
	for _, name := range []string{"nats-server-2.9.10", "nats-server-2.11.8"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name+".tar.s2")); err == nil {
			f.Add(b, "ORDERS")
		}
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, jsapi.StreamConfig{Name: "F"}, time.Unix(1, 0))
	_ = w.Append(2, 1, "a", []byte("NATS/1.0\r\n\r\n"), []byte("x"))
	_ = w.Append(4, 2, "b", nil, []byte("y"))
	_ = w.EndMessages(6, 3)
	_ = w.AddConsumer(&ConsumerMeta{Name: "C", Config: jsapi.ConsumerConfig{Durable: "C"}}, &ConsumerState{Delivered: SequencePair{1, 2}}, time.Unix(1, 0))
	_ = w.Close()
	f.Add(buf.Bytes(), "F")
	lim := Limits{MaxMetaLen: 4096, MaxStateLen: 4096, MaxIndexLen: 1 << 16, MaxDeletedPages: 64, MaxConsumers: 8}
	f.Fuzz(func(t *testing.T, b []byte, stream string) {
		m, err := Scan(bytes.NewReader(b), stream, lim)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		var n uint64
		var last uint64
		err = Replay(bytes.NewReader(b), m, stream, func(r *Record) error {
			if r.Seq <= last || r.Seq > m.LastSeq {
				t.Fatalf("replayed %d after %d (last %d)", r.Seq, last, m.LastSeq)
			}
			last = r.Seq
			n++
			return nil
		})
		if err != nil {
			t.Fatalf("scan accepted what replay refused: %v", err)
		}
		if n > m.Records {
			t.Fatalf("replayed %d of %d records", n, m.Records)
		}
	})
}
