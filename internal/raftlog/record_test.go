package raftlog

import (
	"bytes"
	"testing"
)

// sampleRecords is one record of every kind, framed back to back.
func sampleRecords() []byte {
	var b []byte
	add := func(kind byte, group uint64, body []byte) {
		var start int
		b, start = beginRecord(b, kind, group)
		b = finishRecord(append(b, body...), start)
	}
	add(kindSegment, 0, appendSegHeader(nil, segHeader{seq: 1, ngroups: 1}))
	add(kindState, 5, appendGroupState(nil, groupState{flags: stateHS | stateSnap, hs: hardState{2, 1, 3},
		offset: mark{3, 2}, last: 9, snap: snapState{index: 3, term: 2, conf: []byte{8, 1}, data: []byte("sm")}}))
	add(kindEntries, 5, appendEntriesBody(nil, 10, []uint64{2, 3}, [][]byte{[]byte("a"), []byte("bcd")}))
	add(kindHardState, 5, appendHardState(nil, hardState{3, 1, 10}))
	add(kindSnapshot, 6, appendSnapRecord(nil, snapApply, snapState{index: 4, term: 1, data: []byte("x")}))
	add(kindCompact, 5, appendMark(nil, mark{8, 2}))
	add(kindRemove, 6, nil)
	return b
}

// reencode decodes a record's body by kind and encodes it again; ok is
// false when the body does not decode.
func reencode(rec record) (out []byte, ok bool) {
	switch rec.kind {
	case kindEntries:
		first, refs, err := decodeEntries(rec.body, nil)
		if err != nil {
			return nil, false
		}
		terms := make([]uint64, len(refs))
		encs := make([][]byte, len(refs))
		for i, r := range refs {
			terms[i], encs[i] = r.term, rec.body[r.off:r.off+r.size]
			if r.crc != crc(encs[i]) {
				return nil, false
			}
		}
		return appendEntriesBody(nil, first, terms, encs), true
	case kindHardState:
		hs, rest, err := decodeHardState(rec.body)
		if err != nil || len(rest) != 0 {
			return nil, false
		}
		return appendHardState(nil, hs), true
	case kindSnapshot:
		mode, s, err := decodeSnapRecord(rec.body)
		if err != nil {
			return nil, false
		}
		return appendSnapRecord(nil, mode, s), true
	case kindCompact:
		m, err := decodeMark(rec.body)
		if err != nil {
			return nil, false
		}
		return appendMark(nil, m), true
	case kindRemove:
		return nil, len(rec.body) == 0
	case kindSegment:
		h, err := decodeSegHeader(rec.body)
		if err != nil {
			return nil, false
		}
		return appendSegHeader(nil, h), true
	case kindState:
		g, err := decodeGroupState(rec.body)
		if err != nil {
			return nil, false
		}
		return appendGroupState(nil, g), true
	}
	return nil, false
}

func TestRecordsRoundTrip(t *testing.T) {
	b := sampleRecords()
	kinds := []byte{kindSegment, kindState, kindEntries, kindHardState, kindSnapshot, kindCompact, kindRemove}
	for i, off := 0, 0; ; i++ {
		rec, n, st := nextRecord(b[off:], 1<<20)
		if st == scanEnd {
			if i != len(kinds) {
				t.Fatalf("%d records, want %d", i, len(kinds))
			}
			return
		}
		if st != scanOK || rec.kind != kinds[i] {
			t.Fatalf("record %d: status %d kind %d", i, st, rec.kind)
		}
		if out, ok := reencode(rec); !ok || !bytes.Equal(out, rec.body) {
			t.Fatalf("record %d (kind %d) does not re-encode: %x vs %x", i, rec.kind, out, rec.body)
		}
		off += n
	}
}

// TestRecordDamage: every cut is torn, every flipped bit is caught, in
// the header (unframeable) or the body (framed, group known).
func TestRecordDamage(t *testing.T) {
	var b []byte
	b, start := beginRecord(b, kindEntries, 42)
	b = finishRecord(appendEntriesBody(b, 1, []uint64{1}, [][]byte{[]byte("payload")}), start)
	for cut := 1; cut < len(b); cut++ {
		if _, _, st := nextRecord(b[:cut], 1<<20); st != scanTorn {
			t.Fatalf("cut at %d: status %d", cut, st)
		}
	}
	for bit := 0; bit < len(b)*8; bit++ {
		d := bytes.Clone(b)
		d[bit/8] ^= 1 << (bit % 8)
		rec, n, st := nextRecord(d, 1<<20)
		switch {
		case bit/8 < headSize:
			if st != scanBadHeader {
				t.Fatalf("bit %d in the header: status %d", bit, st)
			}
		case st != scanBadBody || rec.group != 42 || n != len(b):
			t.Fatalf("bit %d in the body: status %d group %d n %d", bit, st, rec.group, n)
		}
	}
}

// FuzzRecord feeds arbitrary bytes to the record scanner and decoders: no
// panic, no read outside the buffer, and every record that decodes
// encodes back to the same bytes (one encoding per record).
func FuzzRecord(f *testing.F) {
	b := sampleRecords()
	f.Add(b)
	for off := 0; off < len(b); {
		rec, n, _ := nextRecord(b[off:], 1<<20)
		f.Add(rec.body)
		off += n
	}
	for cut := 0; cut < len(b); cut += 7 {
		f.Add(b[:cut])
		f.Add(b[cut:])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The body decoders directly: the checksums keep random bytes
		// from reaching them through the scanner.
		for kind := byte(1); kind <= kindMax; kind++ {
			if out, ok := reencode(record{kind: kind, body: data}); ok && !bytes.Equal(out, data) {
				t.Fatalf("kind %d: %x re-encodes as %x", kind, data, out)
			}
		}
		for off, i := 0, 0; i < 1000; i++ {
			rec, n, st := nextRecord(data[off:], 1<<16)
			if st == scanBadBody {
				off += n
				continue
			}
			if st != scanOK {
				return
			}
			if n < minRecord || n > len(data)-off {
				t.Fatalf("record length %d at %d of %d", n, off, len(data))
			}
			if out, ok := reencode(rec); ok && !bytes.Equal(out, rec.body) {
				t.Fatalf("kind %d: %x re-encodes as %x", rec.kind, rec.body, out)
			}
			// The framing is one encoding too.
			var fr []byte
			fr, start := beginRecord(fr, rec.kind, rec.group)
			fr = finishRecord(append(fr, rec.body...), start)
			if !bytes.Equal(fr, data[off:off+n]) {
				t.Fatalf("record at %d re-frames differently", off)
			}
			off += n
		}
	})
}
