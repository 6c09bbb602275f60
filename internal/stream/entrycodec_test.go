package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/starling-mq/starling/internal/store"
)

// codecEntries are entries every field of which must survive encoding.
var codecEntries = []Entry{
	{Kind: EntryMsg, Seq: 1},
	{Kind: EntryMsg, Seq: 7, Time: 1_700_000_000_123_456_789, Subject: "S.a", Header: []byte("NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n"), Data: []byte("hello"), MsgID: "x", TTL: 5e9, Rollup: RollupSubject},
	{Kind: EntrySkip, Seq: math.MaxUint64, Time: math.MinInt64, Subject: "S.b", MsgID: "y"},
	{Kind: EntryMsg, Seq: 2, Time: math.MaxInt64, TTL: math.MaxInt64, Rollup: RollupAll, Data: bytes.Repeat([]byte{0}, 300)},
	{Kind: EntryMsg, Seq: 3, Time: -1, Subject: "ü.\x00", MsgID: string(bytes.Repeat([]byte("i"), 200))},
	{Kind: EntryDelete, Seq: 9, Time: 1_700_000_000_000_000_000, Target: 4},
	{Kind: EntryDelete, Target: math.MaxUint64, Erase: true},
	{Kind: EntryPurge, Seq: 12, Purge: store.PurgeRequest{Subject: "S.*", Keep: 3}},
	{Kind: EntryPurge, Seq: math.MaxUint64, Time: -5, Purge: store.PurgeRequest{Seq: 7}},
	{Kind: EntryPurge, Seq: 1},
	{Kind: EntryExpire, Seq: 300, Time: 42, Target: 17, Markers: 2},
	{Kind: EntryExpire, Seq: 300, Seqs: []uint64{18, 19, 200, 1 << 40, math.MaxUint64}},
	{Kind: EntryConfig, Seq: 5, Config: []byte(`{"name":"S","max_msgs":2}`)},
	{Kind: EntryConfig},
	{Kind: EntryMsg, Seq: 8, Subject: "S.m", Data: []byte("m"), Guarded: true, After: 7},
	{Kind: EntryMsg, Seq: 1, Guarded: true},
	{Kind: EntrySkip, Seq: 5, Guarded: true, After: math.MaxUint64},
}

func TestEntryCodecRoundTrip(t *testing.T) {
	for i, e := range codecEntries {
		b := EncodeEntry(&e)
		got, err := DecodeEntry(b)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("entry %d: decoded\n%+v\nwant\n%+v", i, got, e)
		}
		// Every strict prefix is refused: a truncated record is never
		// read as a shorter entry.
		for n := range len(b) {
			if _, err := DecodeEntry(b[:n]); !errors.Is(err, ErrBadEntry) {
				t.Fatalf("entry %d cut at %d of %d: err %v", i, n, len(b), err)
			}
		}
	}
}

func TestEntryCodecCopies(t *testing.T) {
	e := Entry{Kind: EntryMsg, Seq: 1, Subject: "S.a", Header: []byte("h"), Data: []byte("d")}
	b := EncodeEntry(&e)
	e.Header[0], e.Data[0] = 'x', 'x'
	got, err := DecodeEntry(b)
	if err != nil || string(got.Header) != "h" || string(got.Data) != "d" {
		t.Fatalf("encoding shares the entry's buffers: %+v %v", got, err)
	}
}

func TestEntryCodecRejects(t *testing.T) {
	good := EncodeEntry(&Entry{Kind: EntryMsg, Seq: 1, Subject: "S.a", Data: []byte("x")})
	with := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	cases := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"version 0", with(0, 0)},
		{"version 2", with(0, 2)},
		{"kind", with(1, 2)},
		{"rollup", with(2, 3)},
		{"sequence 0", with(3, 0)},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"length past the end", []byte{1, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"overlong number", append([]byte{1, 0, 0}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"negative ttl", EncodeEntry(&Entry{Seq: 1, TTL: -1})},
		{"version 1 delete", with(1, byte(EntryDelete))},
		{"version 2 message", append([]byte{2, 0}, good[3:]...)},
		{"version 2 unknown kind", []byte{2, 6, 0, 0}},
		{"erase flag", []byte{2, byte(EntryDelete), 0, 0, 1, 2}},
		{"delete trailing byte", []byte{2, byte(EntryDelete), 0, 0, 1, 0, 0}},
		{"expire gap 0", []byte{2, byte(EntryExpire), 0, 0, 0, 0, 2, 5, 0}},
		{"expire count past the end", []byte{2, byte(EntryExpire), 0, 0, 0, 0, 0xff, 0xff, 0x03, 1}},
		{"expire sequence past 2^64", append([]byte{2, byte(EntryExpire), 0, 0, 0, 0, 2, 5}, binary.AppendUvarint(nil, math.MaxUint64)...)},
		{"config length past the end", []byte{2, byte(EntryConfig), 0, 0, 9, '{'}},
		{"version 3 without its guard", with(0, 3)},
		{"version 3 delete", append(with(1, byte(EntryDelete)), 0)},
	}
	for _, c := range cases {
		if e, err := DecodeEntry(c.b); !errors.Is(err, ErrBadEntry) {
			t.Errorf("%s: decoded %+v, err %v", c.name, e, err)
		}
	}
}

// FuzzStreamEntry checks that DecodeEntry never panics, and that what it
// accepts, of either version (publishes, removals, configuration
// updates), encodes back to an entry that decodes the same.
func FuzzStreamEntry(f *testing.F) {
	for _, e := range codecEntries {
		b := EncodeEntry(&e)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1, 2, 0x80, 0x80, 0x01})
	f.Add([]byte{2, byte(EntryExpire), 0, 0, 0, 1, 3, 1, 1, 0x80})
	f.Add([]byte{2, byte(EntryDelete), 0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			if !errors.Is(err, ErrBadEntry) {
				t.Fatalf("error %v does not wrap ErrBadEntry", err)
			}
			return
		}
		again, err := DecodeEntry(EncodeEntry(&e))
		if err != nil {
			t.Fatalf("re-encoded entry refused: %v", err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("re-encoded entry differs:\n%+v\n%+v", again, e)
		}
	})
}
