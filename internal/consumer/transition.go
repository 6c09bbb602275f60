package consumer

import (
	"cmp"
	"slices"

	"github.com/starling-mq/starling/internal/jsapi"
)

// A consumer's persisted state (State) changes only through events
// applied by deliveryState.apply: a pure function of the state, the
// event and the ack policy. The live consumer decides the events (what to deliver,
// which ack to honour, when to give up) and applies them as it goes; a
// replicated consumer will have its leader decide and every replica apply
// the same events, ending with the same State.
//
// What is not persisted stays out of this: redelivery deadlines, the
// redelivery queue, when a message was last sent, pull requests. So a NAK,
// a +WPI or an expired ack wait is no event: it only schedules the next
// delivery, whose Delivered event carries the higher count; a NAK or an
// expiry past max_deliver is a Terminated event.

// EventKind says what an event does.
type EventKind uint8

const (
	// EventDelivered: message Stream went out as consumer sequence
	// Consumer, delivery number Deliveries (1 the first time).
	EventDelivered EventKind = iota + 1
	// EventAcked: Stream was acknowledged; with ack_policy all, so is
	// everything pending below it.
	EventAcked
	// EventTerminated: the consumer gives up on Stream without an ack
	// (+TERM, max_deliver reached, the message gone from the stream).
	EventTerminated
)

// Event is one change to a consumer's delivery state.
type Event struct {
	Kind       EventKind
	Stream     uint64 // stream sequence of the message
	Consumer   uint64 // Delivered: its consumer sequence
	Deliveries int    // Delivered: the delivery count, 1 the first time
}

// deliveryState is what State persists, indexed for the consumer's use:
// the read position, the last delivery, the ack floor, and the deliveries
// awaiting an ack. A pendingAck's deadline, sent and queued fields are
// the live consumer's own; apply neither reads nor sets them.
type deliveryState struct {
	sseq       uint64 // next stream sequence to read
	dseq       uint64 // consumer sequence of the last delivery
	lastSSeq   uint64 // stream sequence of the last delivery
	floorS     uint64 // ack floor
	floorC     uint64
	pending    map[uint64]*pendingAck // by stream sequence
	lps        []uint64               // last-per-subject start set still to deliver
	redelivers int                    // pending messages delivered more than once
}

// apply applies ev under ack policy policy. It appends the sequences an
// ack removed to acked (ascending) and reports whether the state changed.
func (d *deliveryState) apply(ev Event, policy jsapi.AckPolicy, acked []uint64) ([]uint64, bool) {
	switch ev.Kind {
	case EventDelivered:
		d.delivered(ev, policy)
		return acked, true
	case EventAcked:
		n := len(acked)
		acked = d.acked(ev.Stream, policy, acked)
		return acked, len(acked) > n
	case EventTerminated:
		return acked, d.drop(ev.Stream)
	}
	return acked, false
}

func (d *deliveryState) delivered(ev Event, policy jsapi.AckPolicy) {
	seq := ev.Stream
	if ev.Deliveries <= 1 {
		d.dseq = max(d.dseq, ev.Consumer)
		// A new message moves the read position past it, or it came
		// from the last-per-subject set (ascending, all below the
		// position): it leaves the set, with the ones before it, which
		// were found gone. The live consumer took them off already when
		// it read the message, so this costs it one comparison.
		d.sseq = max(d.sseq, seq+1)
		for len(d.lps) > 0 && d.lps[0] <= seq {
			d.lps = d.lps[1:]
		}
	}
	d.lastSSeq = max(d.lastSSeq, seq)
	if policy == jsapi.AckNone {
		d.floorS, d.floorC = max(d.floorS, seq), d.dseq
		return
	}
	dc := max(ev.Deliveries, 1)
	p := d.pending[seq]
	switch {
	case p == nil:
		d.pending[seq] = &pendingAck{cseq: ev.Consumer, dc: dc}
		if dc > 1 {
			d.redelivers++
		}
	case dc > p.dc:
		if p.dc == 1 {
			d.redelivers++
		}
		p.dc = dc
	}
}

// acked removes what an ack of sseq acknowledges.
func (d *deliveryState) acked(sseq uint64, policy jsapi.AckPolicy, out []uint64) []uint64 {
	n := len(out)
	switch policy {
	case jsapi.AckNone:
		return out
	case jsapi.AckAll:
		for seq := range d.pending {
			if seq <= sseq {
				out = append(out, seq)
			}
		}
		slices.Sort(out[n:])
	default:
		if _, ok := d.pending[sseq]; ok {
			out = append(out, sseq)
		}
	}
	if len(out) == n {
		return out
	}
	for _, seq := range out[n:] {
		if d.pending[seq].dc > 1 {
			d.redelivers--
		}
		delete(d.pending, seq)
	}
	d.updateFloor()
	return out
}

// drop forgets a pending delivery that will not be acked.
func (d *deliveryState) drop(seq uint64) bool {
	p, ok := d.pending[seq]
	if !ok {
		return false
	}
	if p.dc > 1 {
		d.redelivers--
	}
	delete(d.pending, seq)
	d.updateFloor()
	return true
}

// updateFloor moves the ack floor to just below the oldest outstanding
// delivery, or to the last delivery when none is outstanding. It walks
// forward from the old floor, so acks in delivery order cost a step each
// rather than a scan of everything pending.
func (d *deliveryState) updateFloor() {
	if len(d.pending) == 0 {
		d.floorS, d.floorC = max(d.floorS, d.lastSSeq), d.dseq
		return
	}
	for seq := d.floorS + 1; seq <= d.lastSSeq; seq++ {
		if p, ok := d.pending[seq]; ok {
			if p.cseq > 0 {
				d.floorC = max(d.floorC, p.cseq-1)
			}
			return
		}
		d.floorS = seq
	}
}

// state returns the persisted form, pending deliveries by stream
// sequence.
func (d *deliveryState) state() State {
	st := State{Next: d.sseq, Delivered: d.dseq, LastStream: d.lastSSeq, FloorS: d.floorS, FloorC: d.floorC,
		LastPer: append([]uint64(nil), d.lps...)}
	for seq, p := range d.pending {
		st.Pending = append(st.Pending, PendingEntry{Stream: seq, Consumer: p.cseq, Deliveries: p.dc})
	}
	slices.SortFunc(st.Pending, func(a, b PendingEntry) int { return cmp.Compare(a.Stream, b.Stream) })
	return st
}

// restore installs a persisted state.
func (d *deliveryState) restore(s *State) {
	d.sseq, d.dseq, d.lastSSeq, d.floorS, d.floorC = s.Next, s.Delivered, s.LastStream, s.FloorS, s.FloorC
	d.lps = append([]uint64(nil), s.LastPer...)
	d.pending = make(map[uint64]*pendingAck, len(s.Pending))
	d.redelivers = 0
	for _, p := range s.Pending {
		d.pending[p.Stream] = &pendingAck{cseq: p.Consumer, dc: p.Deliveries}
		if p.Deliveries > 1 {
			d.redelivers++
		}
	}
}
