// Package filestore is the file implementation of store.Store: an
// append-only log per stream, cut into segment files, with a compact
// in-memory sequence index and per-subject index, group commit, and
// recovery that verifies every record's checksum.
//
// # Files
//
// A stream's directory holds segment files named by a 16-digit hex number
// ("0000000000000001.seg"), in log order. Only the last one (the active
// segment) is appended to. Compaction writes "<name>.tmp", syncs it and
// renames it over the segment; a leftover .tmp is deleted at open. The
// indexes are rebuilt from the log at open, from the segment the index
// checkpoint ("index", checkpoint.go) names on when it is valid. Two small
// side files say what the log should hold, so lost log data is found and
// sequences never go backwards: "highwater" (highwater.go) and "segments"
// (segmap.go).
//
// # Record format
//
// Every record, whatever its type, is framed the same way (integers are
// little endian):
//
//	offset  size  field
//	0       4     length: bytes after this field (whole record - 4)
//	4       1     magic 0xF5: format version 1
//	5       1     type: 1 message, 2 skip, 3 delete, 4 meta
//	6       1     flags (messages only, 0 otherwise):
//	                0x01 header present, 0x02 TTL present,
//	                0x04 payload is S2-compressed, 0x08 erased
//	7       ...   body, by type (below)
//	len     4     CRC-32C (Castagnoli) of every byte before it,
//	              the length field included
//
// Bodies:
//
//	message  seq u64, time i64 (unix ns), [ttl i64 if 0x02],
//	         subject length u16, subject, [header length u32 if 0x01],
//	         header, payload (the rest)
//	skip     seq u64: the sequence was used without a message
//	delete   n × (first u64, count u32): those sequences are deleted
//	meta     floor u64, last u64, last time i64: every sequence below
//	         floor is gone and the log's last sequence is at least last
//
// Optional fields exist only when their flag is set and are never zero when
// present, so each record has exactly one encoding: decoding and encoding
// again gives the same bytes, which the fuzz test checks. An erased message
// keeps its framing and sequence but has its header and payload zeroed and
// its checksum recomputed, so recovery still parses past it.
//
// Every new segment starts with a meta record, and Compact appends one, so
// the first and last sequence survive even when every message is gone.
package filestore

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

const (
	recMagic = 0xF5

	recMsg    = 1
	recSkip   = 2
	recDelete = 3
	recMeta   = 4

	flagHeader = 0x01
	flagTTL    = 0x02
	flagS2     = 0x04
	flagErased = 0x08
	flagsKnown = flagHeader | flagTTL | flagS2 | flagErased

	lenSize     = 4
	frameHead   = lenSize + 3 // length, magic, type, flags
	crcSize     = 4
	frameSize   = frameHead + crcSize
	delEntry    = 12 // first u64, count u32
	maxDelBatch = 4096

	// maxRecord bounds one record: a 64 MiB payload (nats-server's largest
	// max_payload) plus subject, headers and framing, with room to spare.
	// A length above it is corruption, not a reason to allocate.
	maxRecord = 96 << 20
	// minMsgRecord is the smallest message record; it bounds how many
	// sequences a corrupt region could have held.
	minMsgRecord = frameSize + 8 + 8 + 2
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Decoding errors. errShort means the bytes end before the record does (a
// torn write at the end of a log); the others mean the bytes are not a
// valid record.
var (
	errShort    = errors.New("filestore: truncated record")
	errLength   = errors.New("filestore: bad record length")
	errMagic    = errors.New("filestore: bad record magic")
	errChecksum = errors.New("filestore: record checksum mismatch")
	errFormat   = errors.New("filestore: malformed record")
)

// record is one decoded record. Its byte slices alias the decoded buffer.
type record struct {
	typ   byte
	flags byte // only flagS2 and flagErased are read by the encoder

	seq  uint64 // message, skip; floor for meta
	ts   int64  // message time; last time for meta
	ttl  int64
	last uint64 // meta

	subj []byte
	hdr  []byte
	data []byte // as stored: compressed when flags has flagS2
	dels []byte // delete: packed (first, count) entries
}

// delRanges calls fn for each range of a delete record.
func (r *record) delRanges(fn func(first uint64, count uint32)) {
	for b := r.dels; len(b) >= delEntry; b = b[delEntry:] {
		fn(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint32(b[8:]))
	}
}

// size is the encoded length of r.
func (r *record) size() int {
	n := frameSize
	switch r.typ {
	case recMsg:
		return msgSize(len(r.subj), len(r.hdr), len(r.data), r.ttl)
	case recSkip:
		n += 8
	case recDelete:
		n += len(r.dels)
	case recMeta:
		n += 8 + 8 + 8
	}
	return n
}

// appendRecord appends r's encoding to dst.
func appendRecord(dst []byte, r *record) []byte {
	if r.typ == recMsg {
		return appendMsg(dst, r.flags, r.seq, r.ts, r.ttl, string(r.subj), r.hdr, r.data)
	}
	start := len(dst)
	le := binary.LittleEndian
	dst = le.AppendUint32(dst, uint32(r.size()-lenSize))
	dst = append(dst, recMagic, r.typ, 0) // only messages have flags
	switch r.typ {
	case recSkip:
		dst = le.AppendUint64(dst, r.seq)
	case recDelete:
		dst = append(dst, r.dels...)
	case recMeta:
		dst = le.AppendUint64(dst, r.seq)
		dst = le.AppendUint64(dst, r.last)
		dst = le.AppendUint64(dst, uint64(r.ts))
	}
	return le.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

// appendCRC seals a record whose bytes are all of b.
func appendCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// msgSize is the encoded length of a message record.
func msgSize(subj, hdr, data int, ttl int64) int {
	n := frameSize + 8 + 8 + 2 + subj + data
	if ttl != 0 {
		n += 8
	}
	if hdr > 0 {
		n += 4 + hdr
	}
	return n
}

// appendMsg appends a message record to dst. It is appendRecord for
// messages, taking the subject as a string so Append does not allocate.
func appendMsg(dst []byte, flags byte, seq uint64, ts, ttl int64, subj string, hdr, data []byte) []byte {
	start := len(dst)
	le := binary.LittleEndian
	flags &= flagS2 | flagErased
	if len(hdr) > 0 {
		flags |= flagHeader
	}
	if ttl != 0 {
		flags |= flagTTL
	}
	dst = le.AppendUint32(dst, uint32(msgSize(len(subj), len(hdr), len(data), ttl)-lenSize))
	dst = append(dst, recMagic, recMsg, flags)
	dst = le.AppendUint64(dst, seq)
	dst = le.AppendUint64(dst, uint64(ts))
	if ttl != 0 {
		dst = le.AppendUint64(dst, uint64(ttl))
	}
	dst = le.AppendUint16(dst, uint16(len(subj)))
	dst = append(dst, subj...)
	if len(hdr) > 0 {
		dst = le.AppendUint32(dst, uint32(len(hdr)))
		dst = append(dst, hdr...)
	}
	dst = append(dst, data...)
	return le.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

// appendDelete appends a delete record for the ranges in dels (packed
// entries) to dst.
func appendDelete(dst, dels []byte) []byte {
	return appendRecord(dst, &record{typ: recDelete, dels: dels})
}

// packRange appends one (first, count) entry to a packed delete body.
func packRange(dels []byte, first uint64, count uint32) []byte {
	dels = binary.LittleEndian.AppendUint64(dels, first)
	return binary.LittleEndian.AppendUint32(dels, count)
}

// recordLen reads the length field at the start of b and returns the whole
// record's size, or an error when it cannot be a record's.
func recordLen(b []byte) (int, error) {
	if len(b) < lenSize {
		return 0, errShort
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < frameSize-lenSize || n > maxRecord {
		return 0, errLength
	}
	return lenSize + n, nil
}

// decodeRecord decodes the record at the start of b and returns it and its
// length. It does not allocate: the record's slices alias b. Any input
// either decodes to a record that encodes to exactly b[:n] or returns an
// error.
func decodeRecord(b []byte) (r record, n int, err error) {
	n, err = recordLen(b)
	if err != nil {
		return r, 0, err
	}
	if len(b) < n {
		return r, 0, errShort
	}
	b = b[:n]
	le := binary.LittleEndian
	if b[lenSize] != recMagic {
		return r, 0, errMagic
	}
	if crc32.Checksum(b[:n-crcSize], crcTable) != le.Uint32(b[n-crcSize:]) {
		return r, 0, errChecksum
	}
	r.typ, r.flags = b[lenSize+1], b[lenSize+2]
	body := b[frameHead : n-crcSize]
	if r.typ != recMsg && r.flags != 0 {
		return r, 0, errFormat
	}
	switch r.typ {
	case recMsg:
		err = r.decodeMsg(body)
	case recSkip:
		if len(body) != 8 {
			return r, 0, errFormat
		}
		r.seq = le.Uint64(body)
	case recDelete:
		if len(body)%delEntry != 0 {
			return r, 0, errFormat
		}
		r.dels = body
	case recMeta:
		if len(body) != 24 {
			return r, 0, errFormat
		}
		r.seq, r.last, r.ts = le.Uint64(body), le.Uint64(body[8:]), int64(le.Uint64(body[16:]))
	default:
		return r, 0, errFormat
	}
	if err != nil {
		return r, 0, err
	}
	return r, n, nil
}

func (r *record) decodeMsg(body []byte) error {
	le := binary.LittleEndian
	if r.flags&^flagsKnown != 0 || len(body) < 18 {
		return errFormat
	}
	r.seq, r.ts = le.Uint64(body), int64(le.Uint64(body[8:]))
	body = body[16:]
	if r.flags&flagTTL != 0 {
		if len(body) < 8 {
			return errFormat
		}
		r.ttl = int64(le.Uint64(body))
		if r.ttl == 0 {
			return errFormat // would encode without the field
		}
		body = body[8:]
	}
	if len(body) < 2 {
		return errFormat
	}
	sl := int(le.Uint16(body))
	body = body[2:]
	if len(body) < sl {
		return errFormat
	}
	r.subj, body = body[:sl], body[sl:]
	if r.flags&flagHeader != 0 {
		if len(body) < 4 {
			return errFormat
		}
		hl := le.Uint32(body)
		body = body[4:]
		if hl == 0 || uint64(len(body)) < uint64(hl) {
			return errFormat
		}
		r.hdr, body = body[:hl], body[hl:]
	}
	r.data = body
	return nil
}

// eraseRecord rewrites the encoded message record b in place: header and
// payload zeroed, the erased flag set, the checksum recomputed. The length,
// sequence and subject are kept so the log still parses and recovery knows
// which sequence the record held.
func eraseRecord(b []byte) error {
	r, n, err := decodeRecord(b)
	if err != nil {
		return err
	}
	if r.typ != recMsg {
		return errFormat
	}
	clear(r.hdr)
	clear(r.data)
	b[lenSize+2] |= flagErased
	binary.LittleEndian.PutUint32(b[n-crcSize:], crc32.Checksum(b[:n-crcSize], crcTable))
	return nil
}

// peekSeq returns what would be the sequence field of a (possibly corrupt)
// record at the start of b, for guessing what a damaged record held.
func peekSeq(b []byte) (uint64, bool) {
	if len(b) < frameHead+8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[frameHead:]), true
}
