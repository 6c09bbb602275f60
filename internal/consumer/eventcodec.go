package consumer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A replicated consumer's Raft entries are batches of events (one
// delivery burst is many events), so the encoding must stay readable by
// every later version of the server: a leading version byte says how the
// rest is laid out, and a layout once shipped is never changed, only
// added to under a new version. Version 1, in order:
//
//	version   1 byte (batchCodecV1)
//	flags     1 byte (bit 0: a start state follows)
//	seq       uvarint: the batch's place in the consumer's sequence of
//	          batches, from 1; 0 for events encoded without one
//	[start]   next, delivered, last stream, floor stream, floor consumer
//	          (uvarints); pending count, then per entry: stream (uvarint
//	          delta from the previous entry, ascending), consumer
//	          (uvarint), deliveries (uvarint); last-per-subject count,
//	          then each (uvarint delta, ascending)
//	count     uvarint: events
//	events    kind 1 byte; stream as a zigzag varint delta from the
//	          previous event's; Delivered only: consumer as a zigzag
//	          varint delta from the previous delivery's, deliveries
//	          (uvarint)
//
// Deltas keep a burst of deliveries to about 4 bytes an event whatever
// the sequences' size. There is no checksum: the Raft log checksums its
// records.
const batchCodecV1 = 1

const flagStart = 1

// ErrBadBatch is the error of decoding bytes that are not an encoded
// batch (wrapped with what was wrong).
var ErrBadBatch = errors.New("consumer: bad event batch")

// Batch is one replicated entry of a consumer: its events, in the order
// the leader decided them.
type Batch struct {
	// Seq numbers the batch among the consumer's batches, from 1, so a
	// replica recognises a replayed one; 0 for a bare list of events.
	Seq uint64
	// Start, when set, is the state to start from before the events:
	// a new consumer's first batch carries its starting position (the
	// read position and the last-per-subject set depend on the stream
	// the leader saw when it created the consumer).
	Start *State
	// Events: Acked and Terminated carry only Kind and Stream.
	Events []Event
}

// EncodeEvents encodes a batch of events without a sequence.
func EncodeEvents(evs []Event) []byte { return EncodeBatch(&Batch{Events: evs}) }

// DecodeEvents decodes what EncodeEvents (or EncodeBatch) made and
// returns its events.
func DecodeEvents(b []byte) ([]Event, error) {
	bt, err := DecodeBatch(b)
	return bt.Events, err
}

// EncodeBatch encodes bt for a Raft log.
func EncodeBatch(bt *Batch) []byte {
	b := make([]byte, 0, 2+binary.MaxVarintLen64*(2+3*len(bt.Events)))
	var flags byte
	if bt.Start != nil {
		flags |= flagStart
	}
	b = append(b, batchCodecV1, flags)
	b = binary.AppendUvarint(b, bt.Seq)
	if s := bt.Start; s != nil {
		b = appendState(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(bt.Events)))
	var prevS, prevC uint64
	for _, ev := range bt.Events {
		b = append(b, byte(ev.Kind))
		b = binary.AppendVarint(b, int64(ev.Stream-prevS))
		prevS = ev.Stream
		if ev.Kind == EventDelivered {
			b = binary.AppendVarint(b, int64(ev.Consumer-prevC))
			b = binary.AppendUvarint(b, uint64(ev.Deliveries))
			prevC = ev.Consumer
		}
	}
	return b
}

func appendState(b []byte, s *State) []byte {
	for _, v := range [...]uint64{s.Next, s.Delivered, s.LastStream, s.FloorS, s.FloorC} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Pending)))
	var prev uint64
	for _, p := range s.Pending {
		b = binary.AppendUvarint(b, p.Stream-prev)
		b = binary.AppendUvarint(b, p.Consumer)
		b = binary.AppendUvarint(b, uint64(p.Deliveries))
		prev = p.Stream
	}
	b = binary.AppendUvarint(b, uint64(len(s.LastPer)))
	prev = 0
	for _, seq := range s.LastPer {
		b = binary.AppendUvarint(b, seq-prev)
		prev = seq
	}
	return b
}

// DecodeBatch decodes a batch EncodeBatch made. Anything else than one
// whole batch of a known version, with valid events, is an error wrapping
// ErrBadBatch; no allocation is sized before the bytes to fill it were
// seen to be there.
func DecodeBatch(b []byte) (Batch, error) {
	var bt Batch
	if len(b) < 2 {
		return bt, fmt.Errorf("%w: %d bytes", ErrBadBatch, len(b))
	}
	if b[0] != batchCodecV1 {
		return bt, fmt.Errorf("%w: version %d", ErrBadBatch, b[0])
	}
	if b[1]&^flagStart != 0 {
		return bt, fmt.Errorf("%w: flags %#x", ErrBadBatch, b[1])
	}
	d := evDecoder{b: b[2:]}
	bt.Seq = d.uvarint()
	if b[1]&flagStart != 0 {
		bt.Start = d.state()
	}
	bt.Events = d.events()
	switch {
	case d.err != nil:
		return Batch{}, fmt.Errorf("%w: %v", ErrBadBatch, d.err)
	case len(d.b) > 0:
		return Batch{}, fmt.Errorf("%w: %d bytes after the batch", ErrBadBatch, len(d.b))
	}
	return bt, nil
}

// evDecoder reads fields from b, remembering the first error so the
// caller checks once; after an error every read returns a zero value.
type evDecoder struct {
	b   []byte
	err error
}

var (
	errShort = errors.New("truncated")
	errVar   = errors.New("bad varint")
)

func (d *evDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// varintErr says why binary.Uvarint or Varint read n <= 0 bytes.
func varintErr(n int) error {
	if n == 0 {
		return errShort
	}
	return errVar
}

func (d *evDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(varintErr(n))
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *evDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(varintErr(n))
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *evDecoder) kind() EventKind {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail(errShort)
		return 0
	}
	v := EventKind(d.b[0])
	d.b = d.b[1:]
	return v
}

// count reads a count of items of at least size bytes each, refusing
// one the remaining bytes cannot hold.
func (d *evDecoder) count(size int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/size) {
		d.fail(fmt.Errorf("count %d in %d bytes", n, len(d.b)))
		return 0
	}
	return int(n)
}

// deliveries reads a delivery count: at least 1, and an int everywhere.
func (d *evDecoder) deliveries() int {
	v := d.uvarint()
	if d.err == nil && (v == 0 || v > math.MaxInt32) {
		d.fail(fmt.Errorf("delivery count %d", v))
		return 0
	}
	return int(v)
}

func (d *evDecoder) state() *State {
	s := &State{Next: d.uvarint(), Delivered: d.uvarint(), LastStream: d.uvarint(), FloorS: d.uvarint(), FloorC: d.uvarint()}
	if n := d.count(3); n > 0 {
		s.Pending = make([]PendingEntry, 0, n)
		var prev uint64
		for range n {
			delta := d.uvarint()
			p := PendingEntry{Stream: prev + delta, Consumer: d.uvarint(), Deliveries: d.deliveries()}
			if d.err == nil && (delta == 0 || p.Stream < prev) {
				d.fail(fmt.Errorf("pending sequence %d after %d", p.Stream, prev))
			}
			if d.err != nil {
				return nil
			}
			s.Pending = append(s.Pending, p)
			prev = p.Stream
		}
	}
	if n := d.count(1); n > 0 {
		s.LastPer = make([]uint64, 0, n)
		var prev uint64
		for range n {
			delta := d.uvarint()
			seq := prev + delta
			if d.err == nil && (delta == 0 || seq < prev) {
				d.fail(fmt.Errorf("last-per-subject sequence %d after %d", seq, prev))
			}
			if d.err != nil {
				return nil
			}
			s.LastPer = append(s.LastPer, seq)
			prev = seq
		}
	}
	return s
}

func (d *evDecoder) events() []Event {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	evs := make([]Event, 0, n)
	var prevS, prevC uint64
	for range n {
		ev := Event{Kind: d.kind()}
		ev.Stream = prevS + uint64(d.varint())
		switch ev.Kind {
		case EventDelivered:
			ev.Consumer = prevC + uint64(d.varint())
			ev.Deliveries = d.deliveries()
			if d.err == nil && ev.Consumer == 0 {
				d.fail(errors.New("delivery without a consumer sequence"))
			}
			prevC = ev.Consumer
		case EventAcked, EventTerminated:
		default:
			d.fail(fmt.Errorf("event kind %d", ev.Kind))
		}
		if d.err == nil && ev.Stream == 0 {
			d.fail(errors.New("event at stream sequence 0"))
		}
		if d.err != nil {
			return nil
		}
		evs = append(evs, ev)
		prevS = ev.Stream
	}
	return evs
}
