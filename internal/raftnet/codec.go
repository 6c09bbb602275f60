package raftnet

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"

	"go.etcd.io/raft/v3/raftpb"
)

// A message in a batch body starts with a form byte telling its encoding.
//
// The fast form is written and read here by hand: raftpb's generated code
// decodes every scalar into an allocation of its own, which made decoding a
// tenth of a cluster server's CPU. The protobuf form is kept for what the
// fast form does not carry: a Snapshot or Responses (a MsgSnap, rare; and
// Responses are local to a node, never sent).
//
// The fast form of a message is
//
//	flags    uvarint: which fields are present (msg* bits)
//	values   a uvarint per present scalar, in msg* bit order; an enum
//	         as its uint32 bits
//	context  if present: uvarint length, bytes
//	count    uvarint: the number of entries
//	entries  each a flags byte (ent* bits), its present scalars as
//	         uvarints in ent* bit order, and if present its data as a
//	         uvarint length and bytes
//
// Presence is exact: a field set to zero comes back set, an unset one
// unset, and an empty Context or Data comes back empty but not nil, as
// protobuf would have it. Unknown fields are not carried: raft never sets
// them.
const (
	formProto byte = 0
	formFast  byte = 1
)

const (
	msgType = 1 << iota
	msgTo
	msgFrom
	msgTerm
	msgLogTerm
	msgIndex
	msgCommit
	msgVote
	msgRejectHint
	msgReject // Reject is set; msgRejectTrue is its value
	msgRejectTrue
	msgContext
	msgAll = 1<<iota - 1

	msgScalars = 9 // fields from msgType to msgRejectHint
)

const (
	entTerm = 1 << iota
	entIndex
	entType
	entData
	entAll = 1<<iota - 1
)

// fastForm tells whether m travels in the fast form.
func fastForm(m *raftpb.Message) bool {
	return m != nil && m.Snapshot == nil && len(m.Responses) == 0
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

func bytesLen(b []byte) int { return uvarintLen(uint64(len(b))) + len(b) }

// msgHeader is a message's flags and present scalars in wire order,
// gathered once for both sizing and appending.
type msgHeader struct {
	flags uint64
	n     int
	vals  [msgScalars]uint64
}

func (h *msgHeader) add(bit uint64, p *uint64) {
	if p != nil {
		h.flags |= bit
		h.vals[h.n] = *p
		h.n++
	}
}

func headerOf(m *raftpb.Message) msgHeader {
	var h msgHeader
	if m.Type != nil {
		h.flags |= msgType
		h.vals[0] = uint64(uint32(*m.Type))
		h.n++
	}
	h.add(msgTo, m.To)
	h.add(msgFrom, m.From)
	h.add(msgTerm, m.Term)
	h.add(msgLogTerm, m.LogTerm)
	h.add(msgIndex, m.Index)
	h.add(msgCommit, m.Commit)
	h.add(msgVote, m.Vote)
	h.add(msgRejectHint, m.RejectHint)
	if m.Reject != nil {
		h.flags |= msgReject
		if *m.Reject {
			h.flags |= msgRejectTrue
		}
	}
	if m.Context != nil {
		h.flags |= msgContext
	}
	return h
}

// fastSize is the length of m's fast form, form byte included.
func fastSize(m *raftpb.Message, h *msgHeader) int {
	n := 1 + uvarintLen(h.flags) + uvarintLen(uint64(len(m.Entries)))
	for _, v := range h.vals[:h.n] {
		n += uvarintLen(v)
	}
	if m.Context != nil {
		n += bytesLen(m.Context)
	}
	for _, e := range m.Entries {
		n += entrySize(e)
	}
	return n
}

func appendFast(dst []byte, m *raftpb.Message, h *msgHeader) []byte {
	dst = append(dst, formFast)
	dst = binary.AppendUvarint(dst, h.flags)
	for _, v := range h.vals[:h.n] {
		dst = binary.AppendUvarint(dst, v)
	}
	if m.Context != nil {
		dst = binary.AppendUvarint(dst, uint64(len(m.Context)))
		dst = append(dst, m.Context...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Entries)))
	for _, e := range m.Entries {
		dst = appendEntry(dst, e)
	}
	return dst
}

// entrySize and appendEntry take a nil entry for an empty one, as protobuf
// encodes it.
func entrySize(e *raftpb.Entry) int {
	if e == nil {
		return 1
	}
	n := 1
	if e.Term != nil {
		n += uvarintLen(*e.Term)
	}
	if e.Index != nil {
		n += uvarintLen(*e.Index)
	}
	if e.Type != nil {
		n += uvarintLen(uint64(uint32(*e.Type)))
	}
	if e.Data != nil {
		n += bytesLen(e.Data)
	}
	return n
}

func appendEntry(dst []byte, e *raftpb.Entry) []byte {
	if e == nil {
		return append(dst, 0)
	}
	at := len(dst)
	dst = append(dst, 0)
	var flags byte
	if e.Term != nil {
		flags |= entTerm
		dst = binary.AppendUvarint(dst, *e.Term)
	}
	if e.Index != nil {
		flags |= entIndex
		dst = binary.AppendUvarint(dst, *e.Index)
	}
	if e.Type != nil {
		flags |= entType
		dst = binary.AppendUvarint(dst, uint64(uint32(*e.Type)))
	}
	if e.Data != nil {
		flags |= entData
		dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
		dst = append(dst, e.Data...)
	}
	dst[at] = flags
	return dst
}

// wireMessage is a decoded message together with the storage its scalar
// fields point to, so that its fields take no allocations of their own.
type wireMessage struct {
	msg  raftpb.Message
	typ  raftpb.MessageType
	rej  bool
	vals [msgScalars - 1]uint64 // To .. RejectHint
}

// wireEntry is the same for an entry; a message's entries are one slice of
// them.
type wireEntry struct {
	e     raftpb.Entry
	typ   raftpb.EntryType
	term  uint64
	index uint64
}

// bodyDecoder reads the messages of a batch body. Byte fields alias own, a
// copy of the body made at the first non-empty one, so the messages do not
// alias the caller's body while sharing one allocation among them.
type bodyDecoder struct {
	body []byte
	own  []byte
	pos  int
	end  int // the end of the message being read
	left int // messages of the batch not yet read

	// units is what is left of the batch's decoding budget (budget.go):
	// entries are charged against it before they are allocated.
	units int

	// msgs is where the next fast-form messages go: allocated a chunk at
	// a time, so a batch of small messages takes few allocations while a
	// hostile count sizes at most one chunk ahead of the bytes.
	msgs []wireMessage
}

// msgChunk is how many messages share one allocation.
const msgChunk = 32

func (d *bodyDecoder) newMessage() *wireMessage {
	if len(d.msgs) == 0 {
		d.msgs = make([]wireMessage, min(d.left, msgChunk))
	}
	w := &d.msgs[0]
	d.msgs = d.msgs[1:]
	return w
}

func (d *bodyDecoder) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(d.body[d.pos:d.end])
	if n <= 0 {
		return 0, false
	}
	d.pos += n
	return v, true
}

// enum reads an enum's uint32 bits.
func (d *bodyDecoder) enum() (int32, bool) {
	v, ok := d.uvarint()
	if !ok || v > math.MaxUint32 {
		return 0, false
	}
	return int32(uint32(v)), true
}

// bytes reads a length and that many bytes, capped so that an append to
// the result cannot write over the next field.
func (d *bodyDecoder) bytes() ([]byte, bool) {
	l, ok := d.uvarint()
	if !ok || l > uint64(d.end-d.pos) {
		return nil, false
	}
	if l == 0 {
		return []byte{}, true
	}
	if d.own == nil {
		d.own = bytes.Clone(d.body)
	}
	end := d.pos + int(l)
	b := d.own[d.pos:end:end]
	d.pos = end
	return b, true
}

// fast decodes the fast form of a message, from d.pos (past the form byte)
// to d.end. It reports false for anything malformed.
func (d *bodyDecoder) fast() (*raftpb.Message, bool) {
	flags, ok := d.uvarint()
	if !ok || flags&^msgAll != 0 || flags&(msgReject|msgRejectTrue) == msgRejectTrue {
		return nil, false
	}
	w := d.newMessage()
	m := &w.msg
	if flags&msgType != 0 {
		t, ok := d.enum()
		if !ok {
			return nil, false
		}
		w.typ = raftpb.MessageType(t)
		m.Type = &w.typ
	}
	fields := [msgScalars - 1]**uint64{&m.To, &m.From, &m.Term, &m.LogTerm, &m.Index, &m.Commit, &m.Vote, &m.RejectHint}
	for i, f := range fields {
		if flags&(msgTo<<i) == 0 {
			continue
		}
		if w.vals[i], ok = d.uvarint(); !ok {
			return nil, false
		}
		*f = &w.vals[i]
	}
	if flags&msgReject != 0 {
		w.rej = flags&msgRejectTrue != 0
		m.Reject = &w.rej
	}
	if flags&msgContext != 0 {
		if m.Context, ok = d.bytes(); !ok {
			return nil, false
		}
	}
	count, ok := d.uvarint()
	// Each entry takes a byte at least and entUnits of the budget: a
	// larger count is a lie or a flood, caught before it sizes anything.
	if !ok || count > uint64(d.end-d.pos) || !d.charge(count, entUnits) {
		return nil, false
	}
	if count > 0 && !d.entries(m, int(count)) {
		return nil, false
	}
	return m, d.pos == d.end
}

func (d *bodyDecoder) entries(m *raftpb.Message, count int) bool {
	slab := make([]wireEntry, count)
	m.Entries = make([]*raftpb.Entry, count)
	for i := range slab {
		w := &slab[i]
		e := &w.e
		m.Entries[i] = e
		flags := d.body[d.pos]
		d.pos++
		if flags&^entAll != 0 {
			return false
		}
		var ok bool
		if flags&entTerm != 0 {
			if w.term, ok = d.uvarint(); !ok {
				return false
			}
			e.Term = &w.term
		}
		if flags&entIndex != 0 {
			if w.index, ok = d.uvarint(); !ok {
				return false
			}
			e.Index = &w.index
		}
		if flags&entType != 0 {
			t, ok := d.enum()
			if !ok {
				return false
			}
			w.typ = raftpb.EntryType(t)
			e.Type = &w.typ
		}
		if flags&entData != 0 {
			if e.Data, ok = d.bytes(); !ok {
				return false
			}
		}
		if i+1 < count && d.pos >= d.end {
			return false
		}
	}
	return true
}
