package raftnet

import (
	"errors"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
)

// The decoding budget. A peer past the cluster's authentication can still
// send anything, and decoding turns a few bytes into a whole structure: an
// entry encoded in one byte became a 120-byte entry, some 2 GB of heap for
// one 16 MiB frame. So a batch of L body bytes (its count included) may
// hold M messages and E entries only when
//
//	msgUnits*M + entUnits*E + protoEntUnits*P <= L + budgetSlack
//
// where P are the entries of messages in the protobuf form, and it may hold
// no Responses. The decoder charges each unit before it allocates what it
// pays for; AppendBatch holds its batches to the same rule, so what it
// writes is never refused, and what raft sends always fits: every message
// it sends names its Type, To and From (eight bytes with the group, length,
// form, flags and count), every entry it appends to its log has a Term and
// an Index (three bytes with the flags; a ReadIndex entry is 18 bytes), and
// Responses never leave a node. doc.go gives the resulting bound.
const (
	msgUnits      = 8
	entUnits      = 3
	protoEntUnits = 6

	// budgetSlack lets a small batch of odd messages (an empty one, an
	// empty entry) through at a constant cost.
	budgetSlack = 64
)

// Field numbers of raftpb.Message in the protobuf form.
const (
	protoEntries   protowire.Number = 7
	protoResponses protowire.Number = 14
)

var errResponses = errors.New("responses in a batch")

// unitsOf is what m costs of its batch's budget, and false when it holds
// Responses.
func unitsOf(m *raftpb.Message, fast bool) (int, bool) {
	if len(m.GetResponses()) > 0 {
		return 0, false
	}
	if fast {
		return msgUnits + entUnits*len(m.GetEntries()), true
	}
	return msgUnits + protoEntUnits*len(m.GetEntries()), true
}

// charge takes n items of per units each from the budget, reporting false
// when they do not fit.
func (d *bodyDecoder) charge(n uint64, per int) bool {
	if n > uint64(d.units)/uint64(per) {
		return false
	}
	d.units -= int(n) * per
	return true
}

// protoBudget charges the entries of the protobuf-form message at d.pos..
// d.end before protobuf's decoder allocates them, reading only its top
// level: a Snapshot is one field, and Responses are refused.
func (d *bodyDecoder) protoBudget() error {
	b := d.body[d.pos:d.end]
	var entries uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch num {
		case protoEntries:
			entries++
		case protoResponses:
			return errResponses
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	if !d.charge(entries, protoEntUnits) {
		return errors.New("entries beyond the batch's budget")
	}
	return nil
}
