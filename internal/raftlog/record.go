package raftlog

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// Record kinds. The numbers are on disk: never reuse one.
const (
	kindEntries   = 1 // a run of consecutive entries of one group
	kindHardState = 2 // a group's hard state
	kindSnapshot  = 3 // a group's snapshot (metadata and data)
	kindCompact   = 4 // entries up to an index are dropped
	kindRemove    = 5 // the group is gone
	kindSegment   = 6 // first record of a segment (group 0)
	kindState     = 7 // checkpoint of one group, after a segment header
	kindMax       = kindState
)

const (
	headSize  = 17 // length u32, kind u8, group u64, header CRC u32
	crcSize   = 4
	minRecord = headSize + crcSize

	entryHead = 16 // term u64, size u32, CRC u32

	stateHS      = 0x01 // hard state present
	stateSnap    = 0x02 // snapshot present
	stateDamaged = 0x04 // the group was found damaged before
	stateKnown   = stateHS | stateSnap | stateDamaged
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

var le = binary.LittleEndian

// beginRecord reserves a record's header in dst; the body is appended after
// it and finishRecord frames the whole.
func beginRecord(dst []byte, kind byte, group uint64) ([]byte, int) {
	start := len(dst)
	dst = append(dst, make([]byte, headSize)...)
	dst[start+4] = kind
	le.PutUint64(dst[start+5:], group)
	return dst, start
}

// finishRecord fills the length and header checksum of the record begun at
// start and appends its checksum.
func finishRecord(dst []byte, start int) []byte {
	total := len(dst) - start + crcSize
	le.PutUint32(dst[start:], uint32(total-4))
	le.PutUint32(dst[start+13:], crc(dst[start:start+13]))
	return le.AppendUint32(dst, crc(dst[start:]))
}

// record is one framed record as read from a segment; body aliases the
// buffer it was read from.
type record struct {
	kind  byte
	group uint64
	body  []byte
}

// scanStatus says what nextRecord found.
type scanStatus int

const (
	scanOK        scanStatus = iota
	scanEnd                  // no bytes left
	scanTorn                 // the buffer ends inside a record: a write cut by a crash
	scanBadHeader            // the header is damaged: the record cannot be framed
	scanBadBody              // framed, but the checksum fails: n skips it, group is known
)

// nextRecord reads the record at the start of buf. The header has its own
// checksum so that a damaged body still names its group and length: the
// damage is then confined to one group and the scan goes on.
func nextRecord(buf []byte, maxRecord int) (rec record, n int, st scanStatus) {
	if len(buf) == 0 {
		return rec, 0, scanEnd
	}
	if len(buf) < headSize {
		return rec, 0, scanTorn
	}
	if crc(buf[:13]) != le.Uint32(buf[13:]) {
		return rec, 0, scanBadHeader
	}
	total := int64(le.Uint32(buf)) + 4
	rec.kind = buf[4]
	rec.group = le.Uint64(buf[5:])
	if total < minRecord || total > int64(maxRecord) || rec.kind == 0 || rec.kind > kindMax {
		return rec, 0, scanBadHeader
	}
	if total > int64(len(buf)) {
		return rec, 0, scanTorn
	}
	n = int(total)
	if crc(buf[:n-crcSize]) != le.Uint32(buf[n-crcSize:]) {
		return rec, n, scanBadBody
	}
	rec.body = buf[headSize : n-crcSize]
	return rec, n, scanOK
}

var errBody = errors.New("raftlog: malformed record body")

// entryRef locates one entry inside an entries record's body.
type entryRef struct {
	term uint64
	off  int // of the encoded entry within the body
	size int
	crc  uint32
}

// appendEntriesBody encodes entries first.. from their encoded forms.
func appendEntriesBody(dst []byte, first uint64, terms []uint64, encoded [][]byte) []byte {
	dst = le.AppendUint64(dst, first)
	dst = le.AppendUint32(dst, uint32(len(encoded)))
	for i, e := range encoded {
		dst = le.AppendUint64(dst, terms[i])
		dst = le.AppendUint32(dst, uint32(len(e)))
		dst = le.AppendUint32(dst, crc(e))
		dst = append(dst, e...)
	}
	return dst
}

// decodeEntries parses an entries body into refs (appended to refs[:0]).
// It checks the structure only: the entries' own checksums are checked when
// an entry is read.
func decodeEntries(body []byte, refs []entryRef) (first uint64, _ []entryRef, _ error) {
	if len(body) < 12 {
		return 0, nil, errBody
	}
	first = le.Uint64(body)
	count := le.Uint32(body[8:])
	if first == 0 || count == 0 || uint64(count) > uint64(len(body))/entryHead || first+uint64(count) < first {
		return 0, nil, errBody
	}
	refs = refs[:0]
	p := 12
	for range count {
		if len(body)-p < entryHead {
			return 0, nil, errBody
		}
		r := entryRef{term: le.Uint64(body[p:]), size: int(le.Uint32(body[p+8:])), crc: le.Uint32(body[p+12:])}
		p += entryHead
		if r.size > len(body)-p {
			return 0, nil, errBody
		}
		r.off = p
		p += r.size
		refs = append(refs, r)
	}
	if p != len(body) {
		return 0, nil, errBody
	}
	return first, refs, nil
}

// hardState is raft's HardState as stored.
type hardState struct{ term, vote, commit uint64 }

func appendHardState(dst []byte, hs hardState) []byte {
	dst = le.AppendUint64(dst, hs.term)
	dst = le.AppendUint64(dst, hs.vote)
	return le.AppendUint64(dst, hs.commit)
}

func decodeHardState(b []byte) (hardState, []byte, error) {
	if len(b) < 24 {
		return hardState{}, nil, errBody
	}
	return hardState{le.Uint64(b), le.Uint64(b[8:]), le.Uint64(b[16:])}, b[24:], nil
}

// snapState is a snapshot as stored: the conf state stays encoded (raft's
// protobuf) so a record has one encoding whatever the library does.
type snapState struct {
	index, term uint64
	conf        []byte
	data        []byte
}

func appendSnap(dst []byte, s snapState) []byte {
	dst = le.AppendUint64(dst, s.index)
	dst = le.AppendUint64(dst, s.term)
	dst = le.AppendUint32(dst, uint32(len(s.conf)))
	dst = append(dst, s.conf...)
	return append(dst, s.data...)
}

// decodeSnap takes the rest of b: data runs to the end.
func decodeSnap(b []byte) (snapState, error) {
	if len(b) < 20 {
		return snapState{}, errBody
	}
	s := snapState{index: le.Uint64(b), term: le.Uint64(b[8:])}
	n := le.Uint32(b[16:])
	if uint64(n) > uint64(len(b)-20) || s.index == 0 {
		return snapState{}, errBody
	}
	s.conf = b[20 : 20+n]
	s.data = b[20+n:]
	return s, nil
}

// mark is a compaction mark: entries up to index are gone, index had term.
type mark struct{ index, term uint64 }

func appendMark(dst []byte, m mark) []byte {
	return le.AppendUint64(le.AppendUint64(dst, m.index), m.term)
}

func decodeMark(b []byte) (mark, error) {
	if len(b) != 16 {
		return mark{}, errBody
	}
	return mark{le.Uint64(b), le.Uint64(b[8:])}, nil
}

// segHeader opens every segment: ngroups state records follow it.
type segHeader struct {
	seq     uint64
	ngroups uint32
	flags   byte // segLogDamaged
}

const segLogDamaged = 0x01 // records of unknown groups were lost before

func appendSegHeader(dst []byte, h segHeader) []byte {
	return append(le.AppendUint32(le.AppendUint64(dst, h.seq), h.ngroups), h.flags)
}

func decodeSegHeader(b []byte) (segHeader, error) {
	if len(b) != 13 || b[12]&^segLogDamaged != 0 {
		return segHeader{}, errBody
	}
	return segHeader{le.Uint64(b), le.Uint32(b[8:]), b[12]}, nil
}

// Snapshot record modes.
const (
	snapApply  = 1 // raft's ApplySnapshot: the log restarts after it
	snapCreate = 2 // the state machine's own snapshot: entries stay
)

func appendSnapRecord(dst []byte, mode byte, s snapState) []byte {
	return appendSnap(append(dst, mode), s)
}

func decodeSnapRecord(b []byte) (byte, snapState, error) {
	if len(b) < 1 || (b[0] != snapApply && b[0] != snapCreate) {
		return 0, snapState{}, errBody
	}
	s, err := decodeSnap(b[1:])
	return b[0], s, err
}

// groupState is a checkpoint of one group: everything but its entries.
// The entries (offset, last] are wherever they were written; last lets a
// replay cut entries a deleted segment had replaced.
type groupState struct {
	flags   byte
	hs      hardState
	offset  mark // the log holds entries offset.index+1 .. last
	last    uint64
	snap    snapState
	hasSnap bool
}

func appendGroupState(dst []byte, g groupState) []byte {
	dst = append(dst, g.flags)
	dst = appendHardState(dst, g.hs)
	dst = appendMark(dst, g.offset)
	dst = le.AppendUint64(dst, g.last)
	if g.flags&stateSnap != 0 {
		dst = appendSnap(dst, g.snap)
	}
	return dst
}

func decodeGroupState(b []byte) (groupState, error) {
	var g groupState
	if len(b) < 1+24+16+8 || b[0]&^stateKnown != 0 {
		return g, errBody
	}
	g.flags = b[0]
	g.hs, _, _ = decodeHardState(b[1:])
	g.offset = mark{le.Uint64(b[25:]), le.Uint64(b[33:])}
	g.last = le.Uint64(b[41:])
	rest := b[49:]
	if g.last < g.offset.index {
		return g, errBody
	}
	if g.flags&stateHS == 0 && g.hs != (hardState{}) {
		return g, errBody
	}
	if g.flags&stateSnap == 0 {
		if len(rest) != 0 {
			return g, errBody
		}
		return g, nil
	}
	s, err := decodeSnap(rest)
	if err != nil {
		return g, err
	}
	g.snap, g.hasSnap = s, true
	return g, nil
}
