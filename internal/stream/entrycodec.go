package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The encoded form of an Entry is what a replicated stream puts in its
// Raft log, so it must stay readable by every later version of the
// server: a leading version byte says how the rest is laid out, and a
// layout once shipped is never changed, only added to under a new
// version. Version 1, in order:
//
//	version  1 byte (entryCodecV1)
//	kind     1 byte (EntryKind)
//	rollup   1 byte (Rollup)
//	seq      uvarint, never 0
//	time     varint (unix nanoseconds)
//	ttl      varint (nanoseconds)
//	subject  uvarint length, bytes
//	msg id   uvarint length, bytes
//	header   uvarint length, bytes
//	data     uvarint length, bytes
//
// Varints keep the fixed part of a typical entry to about 20 bytes. There
// is no checksum: the Raft log checksums its records.
//
// Version 2 carries the entries that change stored messages without a
// sequence of their own (EntryDelete and after); version 1 carries
// EntryMsg and EntrySkip only, as it always did, so logs written before
// version 2 existed decode unchanged. Version 2, in order:
//
//	version  1 byte (entryCodecV2)
//	kind     1 byte (EntryDelete, EntryPurge, EntryExpire, EntryConfig)
//	seq      uvarint (the last sequence decided, may be 0)
//	time     varint (unix nanoseconds, the leader's clock)
//	then by kind:
//	delete   target uvarint, erase 1 byte (0 or 1)
//	purge    subject uvarint length, bytes; seq uvarint; keep uvarint
//	expire   target uvarint; markers uvarint; count uvarint; count gaps uvarint, each
//	         the distance (at least 1) from the sequence before (from 0)
//	config   uvarint length, bytes
//
// Version 3 is version 1 for a guarded EntryMsg or EntrySkip (Entry.
// Guarded): the same fields, then
//
//	after    uvarint (the stream's last sequence the entry requires)
const (
	entryCodecV1 = 1
	entryCodecV2 = 2
	entryCodecV3 = 3
)

// ErrBadEntry is the error of decoding bytes that are not an encoded
// entry (wrapped with what was wrong).
var ErrBadEntry = errors.New("stream: bad entry")

// EncodeEntry encodes e for a Raft log. The result shares nothing with e.
func EncodeEntry(e *Entry) []byte {
	if e.Kind > EntrySkip {
		return encodeOp(e)
	}
	n := 3 + 3*binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 +
		len(e.Subject) + len(e.MsgID) + len(e.Header) + len(e.Data)
	version := byte(entryCodecV1)
	if e.Guarded {
		version = entryCodecV3
		n += binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = append(b, version, byte(e.Kind), byte(e.Rollup))
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.Time)
	b = binary.AppendVarint(b, e.TTL)
	b = appendBytes(b, e.Subject)
	b = appendBytes(b, e.MsgID)
	b = appendBytes(b, e.Header)
	b = appendBytes(b, e.Data)
	if e.Guarded {
		b = binary.AppendUvarint(b, e.After)
	}
	return b
}

func appendBytes[T string | []byte](b []byte, v T) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// DecodeEntry decodes an entry EncodeEntry made. Header and Data alias b
// (apply copies what it keeps); empty ones are nil. Anything else than
// one whole entry of a known version is an error wrapping ErrBadEntry.
func DecodeEntry(b []byte) (Entry, error) {
	var e Entry
	if len(b) < 3 {
		return e, fmt.Errorf("%w: %d bytes", ErrBadEntry, len(b))
	}
	if b[0] == entryCodecV2 {
		return decodeOp(b)
	}
	if b[0] != entryCodecV1 && b[0] != entryCodecV3 {
		return e, fmt.Errorf("%w: version %d", ErrBadEntry, b[0])
	}
	e.Kind, e.Rollup = EntryKind(b[1]), Rollup(b[2])
	if e.Kind > EntrySkip {
		return e, fmt.Errorf("%w: kind %d", ErrBadEntry, e.Kind)
	}
	if e.Rollup > RollupAll {
		return e, fmt.Errorf("%w: rollup %d", ErrBadEntry, e.Rollup)
	}
	d := decoder{b: b[3:]}
	e.Seq = d.uvarint()
	e.Time = d.varint()
	e.TTL = d.varint()
	e.Subject = string(d.bytes())
	e.MsgID = string(d.bytes())
	e.Header = d.bytes()
	e.Data = d.bytes()
	if b[0] == entryCodecV3 {
		e.Guarded, e.After = true, d.uvarint()
	}
	switch {
	case d.err != nil:
		return Entry{}, fmt.Errorf("%w: %v", ErrBadEntry, d.err)
	case len(d.b) > 0:
		return Entry{}, fmt.Errorf("%w: %d bytes after the entry", ErrBadEntry, len(d.b))
	case e.Seq == 0:
		return Entry{}, fmt.Errorf("%w: sequence 0", ErrBadEntry)
	case e.TTL < 0:
		return Entry{}, fmt.Errorf("%w: ttl %d", ErrBadEntry, e.TTL)
	}
	return e, nil
}

// decoder reads fields from b, remembering the first error so the caller
// checks once; after an error every read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated or overlong number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated or overlong number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes reads a length-prefixed field; the length is checked against
// what is left before anything is sliced.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("field of %d bytes, %d left", n, len(d.b))
		return nil
	}
	if n == 0 {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

// encodeOp encodes a version 2 entry. Seqs are written in ascending
// order without repeats whatever their order in e.
func encodeOp(e *Entry) []byte {
	n := 2 + 4*binary.MaxVarintLen64 + len(e.Purge.Subject) + len(e.Config) + len(e.Seqs)*3
	b := make([]byte, 0, n)
	b = append(b, entryCodecV2, byte(e.Kind))
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.Time)
	switch e.Kind {
	case EntryDelete:
		b = binary.AppendUvarint(b, e.Target)
		erase := byte(0)
		if e.Erase {
			erase = 1
		}
		b = append(b, erase)
	case EntryPurge:
		b = appendBytes(b, e.Purge.Subject)
		b = binary.AppendUvarint(b, e.Purge.Seq)
		b = binary.AppendUvarint(b, e.Purge.Keep)
	case EntryExpire:
		b = binary.AppendUvarint(b, e.Target)
		b = binary.AppendUvarint(b, e.Markers)
		seqs := slices.Compact(slices.Sorted(slices.Values(e.Seqs)))
		if len(seqs) > 0 && seqs[0] == 0 {
			seqs = seqs[1:] // no message has sequence 0
		}
		b = binary.AppendUvarint(b, uint64(len(seqs)))
		prev := uint64(0)
		for _, q := range seqs {
			b = binary.AppendUvarint(b, q-prev)
			prev = q
		}
	case EntryConfig:
		b = appendBytes(b, e.Config)
	}
	return b
}

// decodeOp decodes a version 2 entry; b[0] is its version byte.
func decodeOp(b []byte) (Entry, error) {
	e := Entry{Kind: EntryKind(b[1])}
	if e.Kind <= EntrySkip || e.Kind > EntryConfig {
		return Entry{}, fmt.Errorf("%w: kind %d in version 2", ErrBadEntry, e.Kind)
	}
	d := decoder{b: b[2:]}
	e.Seq = d.uvarint()
	e.Time = d.varint()
	switch e.Kind {
	case EntryDelete:
		e.Target = d.uvarint()
		switch erase := d.byte(); erase {
		case 0, 1:
			e.Erase = erase == 1
		default:
			d.fail(fmt.Errorf("erase flag %d", erase))
		}
	case EntryPurge:
		e.Purge.Subject = string(d.bytes())
		e.Purge.Seq = d.uvarint()
		e.Purge.Keep = d.uvarint()
	case EntryExpire:
		e.Target = d.uvarint()
		e.Markers = d.uvarint()
		e.Seqs = d.gaps()
	case EntryConfig:
		e.Config = d.bytes()
	}
	switch {
	case d.err != nil:
		return Entry{}, fmt.Errorf("%w: %v", ErrBadEntry, d.err)
	case len(d.b) > 0:
		return Entry{}, fmt.Errorf("%w: %d bytes after the entry", ErrBadEntry, len(d.b))
	}
	return e, nil
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errors.New("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// gaps reads a count and that many ascending sequences written as gaps.
// Each gap takes a byte at least, so the count is checked against what
// is left before anything is allocated.
func (d *decoder) gaps() []uint64 {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(fmt.Errorf("%d sequences, %d bytes left", n, len(d.b)))
		return nil
	}
	seqs := make([]uint64, 0, n)
	prev := uint64(0)
	for range n {
		gap := d.uvarint()
		if d.err != nil {
			return nil
		}
		if gap == 0 || prev+gap < prev {
			d.fail(fmt.Errorf("sequence gap %d after %d", gap, prev))
			return nil
		}
		prev += gap
		seqs = append(seqs, prev)
	}
	return seqs
}
