package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
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
const entryCodecV1 = 1

// ErrBadEntry is the error of decoding bytes that are not an encoded
// entry (wrapped with what was wrong).
var ErrBadEntry = errors.New("stream: bad entry")

// EncodeEntry encodes e for a Raft log. The result shares nothing with e.
func EncodeEntry(e *Entry) []byte {
	n := 3 + 3*binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 +
		len(e.Subject) + len(e.MsgID) + len(e.Header) + len(e.Data)
	b := make([]byte, 0, n)
	b = append(b, entryCodecV1, byte(e.Kind), byte(e.Rollup))
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.Time)
	b = binary.AppendVarint(b, e.TTL)
	b = appendBytes(b, e.Subject)
	b = appendBytes(b, e.MsgID)
	b = appendBytes(b, e.Header)
	return appendBytes(b, e.Data)
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
	if b[0] != entryCodecV1 {
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
