package raftnet

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// hostile builds batch bodies as a hostile peer would: as many messages or
// entries as the decoding budget lets through (plus extra beyond it), the
// rest of each message padded with context or data.
type hostile struct{ extra int }

// batch frames msgs (each a form byte and its encoding) with group 1.
func batchOf(msgs ...[]byte) []byte {
	body := binary.BigEndian.AppendUint32(nil, uint32(len(msgs)))
	for _, m := range msgs {
		body = binary.AppendUvarint(body, 1)
		body = binary.AppendUvarint(body, uint64(len(m)))
		body = append(body, m...)
	}
	return body
}

// fastEntries is one fast message of n one-byte entries after a context of
// pad bytes.
func fastEntries(n, pad int) []byte {
	m := binary.AppendUvarint([]byte{formFast}, msgContext)
	m = binary.AppendUvarint(m, uint64(pad))
	m = append(m, make([]byte, pad)...)
	m = binary.AppendUvarint(m, uint64(n))
	return append(m, make([]byte, n)...)
}

// protoEntries is one protobuf-form message of n empty entries after a
// context of pad bytes.
func protoEntriesMsg(n, pad int) []byte {
	m := []byte{formProto}
	m = protoAppendBytes(m, 11, make([]byte, pad))
	for range n {
		m = append(m, byte(protoEntries)<<3|2, 0)
	}
	return m
}

func protoAppendBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// padded is the shortest body build makes, as pad grows, of units bytes
// at least: exactly what the budget lets through.
func padded(units int, build func(pad int) []byte) []byte {
	pad := 0
	for range 10 {
		b := build(pad)
		if len(b) >= units {
			return b
		}
		pad += units - len(b)
	}
	panic("padding does not converge")
}

// hostileBatches are bodies of about size bytes each at the edge of the
// budget: with extra > 0 they break it.
func hostileBatches(size, extra int) map[string][]byte {
	n := size / entUnits
	pn := size / protoEntUnits
	msgs := make([][]byte, size/msgUnits+budgetSlack/msgUnits+extra)
	for i := range msgs {
		// To as three bytes, no entries: 8 bytes with group and length;
		// beyond the budget, 7.
		msgs[i] = []byte{formFast, msgTo, 0x80, 0x80, 0x01, 0}
		if extra > 0 {
			msgs[i] = []byte{formFast, msgTo, 0x80, 0x01, 0}
		}
	}
	return map[string][]byte{
		"fast: one-byte entries": padded(msgUnits+entUnits*n-budgetSlack, func(pad int) []byte { return batchOf(fastEntries(n+extra, pad)) }),
		"fast: empty messages":   batchOf(msgs...),
		"proto: empty entries":   padded(msgUnits+protoEntUnits*pn-budgetSlack, func(pad int) []byte { return batchOf(protoEntriesMsg(pn+extra, pad)) }),
	}
}

// TestDecodeBudget holds decoding at the budget's edge under the bound
// doc.go states, and one step beyond it to ErrMalformed.
func TestDecodeBudget(t *testing.T) {
	const size = 1 << 20
	const bound = 42 // bytes of heap per body byte, doc.go
	for name, body := range hostileBatches(size, 0) {
		t.Run(name, func(t *testing.T) {
			got, err := allocated(body)
			if err != nil {
				t.Fatalf("at the budget's edge: %v", err)
			}
			t.Logf("%d body bytes: %d allocated, %.1f per byte", len(body), got, float64(got)/float64(len(body)))
			if got > bound*uint64(len(body))+64<<10 {
				t.Fatalf("%d bytes allocated for %d, more than %d per byte", got, len(body), bound)
			}
		})
	}
	for name, body := range hostileBatches(size, 1) {
		t.Run(name+" beyond", func(t *testing.T) {
			if _, err := DecodeBatch(body, nil); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want %v", err, ErrMalformed)
			}
		})
	}
}

func allocated(body []byte) (uint64, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := DecodeBatch(body, nil)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(out)
	return after.TotalAlloc - before.TotalAlloc, err
}

// TestAppendBatchBudget checks that the writer never makes what the budget
// refuses: Responses and a lone message of too many empty entries are
// unsendable, and a batch ends before a message that would break it.
func TestAppendBatchBudget(t *testing.T) {
	tiny := func(n int) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MsgApp.Enum(), Entries: make([]*raftpb.Entry, n)}
	}
	resp := &raftpb.Message{Responses: []*raftpb.Message{{}}}
	for name, m := range map[string]*raftpb.Message{"responses": resp, "empty entries": tiny(100)} {
		if _, n, err := AppendBatch(nil, []Envelope{{Group: 1, Msg: m}}, 1<<20); n != 0 || !errors.Is(err, ErrUnsendable) {
			t.Fatalf("%s: n=%d err=%v, want %v", name, n, err, ErrUnsendable)
		}
	}
	b, n, err := AppendBatch(nil, []Envelope{{Group: 1, Msg: typicalApp(3, 5)}, {Group: 1, Msg: tiny(100)}}, 1<<20)
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v, want the first message alone", n, err)
	}
	if _, err := DecodeBatch(b[headerLen:], nil); err != nil {
		t.Fatal(err)
	}
}
