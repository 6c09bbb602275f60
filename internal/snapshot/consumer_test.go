package snapshot

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestConsumerStateRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 0)
	sec := int64(time.Second)
	tests := []struct {
		name string
		st   ConsumerState
	}{
		{"fresh", ConsumerState{}},
		{"started late", ConsumerState{Delivered: SequencePair{0, 99}, AckFloor: SequencePair{0, 99}}},
		{"all acked", ConsumerState{Delivered: SequencePair{10, 40}, AckFloor: SequencePair{10, 40}}},
		{"pending and redelivered", ConsumerState{
			Delivered: SequencePair{12, 50}, AckFloor: SequencePair{5, 20},
			Pending:     map[uint64]Pending{21: {6, 1699999990 * sec}, 30: {9, 1700000000 * sec}, 50: {12, 1700000001 * sec}},
			Redelivered: map[uint64]uint64{21: 3, 30: 1},
		}},
	}
	for _, tt := range tests {
		b := EncodeConsumerState(&tt.st, now)
		got, err := DecodeConsumerState(b)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(*got, tt.st) {
			t.Fatalf("%s: got %+v, want %+v", tt.name, *got, tt.st)
		}
		// Deterministic: the same state encodes to the same bytes.
		if again := EncodeConsumerState(got, now); string(again) != string(b) {
			t.Fatalf("%s: encoding not deterministic", tt.name)
		}
		// Every strict prefix is refused, never half-read.
		for n := range len(b) {
			if _, err := DecodeConsumerState(b[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: prefix of %d bytes: %v", tt.name, n, err)
			}
		}
	}
}

// Version 1 (nats-server 2.2 era) stored the next sequences relative to
// the ack floor and pending times as offsets up from the base.
func TestConsumerStateVersion1(t *testing.T) {
	b := []byte{blockIndexMagic, 1}
	for _, v := range []uint64{4, 10, 3, 5} { // floor c4 s10; next c3 s5 past the floor
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendUvarint(b, 1)         // one pending
	b = binary.AppendVarint(b, 1700000000) // base
	b = binary.AppendUvarint(b, 2)         // stream 12
	b = binary.AppendVarint(b, 5)          // base + 5 s
	b = binary.AppendUvarint(b, 0)         // no redelivered
	st, err := DecodeConsumerState(b)
	if err != nil {
		t.Fatal(err)
	}
	want := ConsumerState{Delivered: SequencePair{6, 14}, AckFloor: SequencePair{4, 10},
		Pending: map[uint64]Pending{12: {0, 1700000005 * int64(time.Second)}}}
	if !reflect.DeepEqual(*st, want) {
		t.Fatalf("got %+v, want %+v", *st, want)
	}
}

func TestConsumerStateRefused(t *testing.T) {
	huge := []byte{blockIndexMagic, 2, 0, 0, 0, 0}
	huge = binary.AppendUvarint(huge, 1<<40) // a trillion pending in a few bytes
	backwards := []byte{blockIndexMagic, 2}
	backwards = binary.AppendUvarint(backwards, 0)
	backwards = binary.AppendUvarint(backwards, 1<<63)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"bad magic":     {1, 2, 0, 0, 0, 0, 0, 0},
		"bad version":   {blockIndexMagic, 3, 0, 0, 0, 0, 0, 0},
		"huge pending":  huge,
		"ran backwards": backwards,
	} {
		if _, err := DecodeConsumerState(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want corrupt", name, err)
		}
	}
}
