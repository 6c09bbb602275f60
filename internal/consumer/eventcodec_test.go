package consumer

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

var codecBatches = []Batch{
	{},
	{Seq: 1, Start: &State{Next: 100, FloorS: 99}},
	{Seq: 2, Start: &State{Next: 10, Delivered: 4, LastStream: 9, FloorS: 3, FloorC: 1,
		Pending: []PendingEntry{{Stream: 5, Consumer: 2, Deliveries: 1}, {Stream: 9, Consumer: 4, Deliveries: 3}},
		LastPer: []uint64{11, 40, 41}}},
	{Seq: 3, Events: []Event{
		{Kind: EventDelivered, Stream: 1, Consumer: 1, Deliveries: 1},
		{Kind: EventDelivered, Stream: 2, Consumer: 2, Deliveries: 1},
		{Kind: EventAcked, Stream: 2},
		{Kind: EventDelivered, Stream: 1, Consumer: 1, Deliveries: 2},
		{Kind: EventTerminated, Stream: 1},
	}},
	{Seq: math.MaxUint64, Events: []Event{
		{Kind: EventDelivered, Stream: math.MaxUint64, Consumer: math.MaxUint64, Deliveries: math.MaxInt32},
		{Kind: EventAcked, Stream: 1},
		{Kind: EventDelivered, Stream: 7, Consumer: 1, Deliveries: 1},
	}},
}

func TestBatchCodecRoundTrip(t *testing.T) {
	for i, bt := range codecBatches {
		got, err := DecodeBatch(EncodeBatch(&bt))
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, bt) {
			t.Fatalf("batch %d: decoded\n%+v\nwant\n%+v", i, got, bt)
		}
	}
	evs := codecBatches[3].Events
	got, err := DecodeEvents(EncodeEvents(evs))
	if err != nil || !reflect.DeepEqual(got, evs) {
		t.Fatalf("DecodeEvents = %+v, %v", got, err)
	}
}

// A burst of deliveries costs a few bytes an event, whatever the
// sequences' size.
func TestBatchCodecCompact(t *testing.T) {
	var evs []Event
	for i := range uint64(256) {
		evs = append(evs, Event{Kind: EventDelivered, Stream: 1<<40 + i, Consumer: 1<<35 + i, Deliveries: 1})
	}
	if n := len(EncodeEvents(evs)); n > 4*len(evs)+32 {
		t.Fatalf("256 deliveries take %d bytes", n)
	}
}

func TestBatchCodecRefuses(t *testing.T) {
	good := EncodeBatch(&codecBatches[2])
	tests := map[string][]byte{
		"empty":         {},
		"version":       {2, 0, 0, 0},
		"flags":         {1, 2, 0, 0},
		"trailing":      append(EncodeEvents(nil), 0),
		"huge count":    {1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"kind":          {1, 0, 0, 1, 9, 2},
		"stream 0":      {1, 0, 0, 1, byte(EventAcked), 0},
		"deliveries 0":  {1, 0, 0, 1, byte(EventDelivered), 2, 2, 0},
		"consumer 0":    {1, 0, 0, 1, byte(EventDelivered), 2, 0, 1},
		"bad varint":    {1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"pending order": EncodeBatch(&Batch{Start: &State{Pending: []PendingEntry{{Stream: 5, Consumer: 1, Deliveries: 1}, {Stream: 5, Consumer: 2, Deliveries: 1}}}}),
		"lastper order": EncodeBatch(&Batch{Start: &State{LastPer: []uint64{3, 3}}}),
	}
	for i := range good {
		tests["cut at "+string(rune('a'+i%26))+string(rune('0'+i/26))] = good[:i]
	}
	for name, b := range tests {
		if _, err := DecodeBatch(b); !errors.Is(err, ErrBadBatch) {
			t.Errorf("%s: %x decoded, err %v", name, b, err)
		}
	}
}

// FuzzConsumerEvents: the batch decoder refuses bad input with an error
// wrapping ErrBadBatch, never panics, and what it accepts re-encodes to
// an equal batch.
func FuzzConsumerEvents(f *testing.F) {
	for _, bt := range codecBatches {
		b := EncodeBatch(&bt)
		f.Add(b)
		for i := 1; i < len(b); i += 3 {
			f.Add(b[:i])
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		bt, err := DecodeBatch(b)
		if err != nil {
			if !errors.Is(err, ErrBadBatch) {
				t.Fatalf("error %v does not wrap ErrBadBatch", err)
			}
			return
		}
		again, err := DecodeBatch(EncodeBatch(&bt))
		if err != nil {
			t.Fatalf("re-encoded batch refused: %v", err)
		}
		if !reflect.DeepEqual(again, bt) {
			t.Fatalf("re-encoded batch differs:\n%+v\n%+v", again, bt)
		}
	})
}
