package snapshot

import (
	"encoding/binary"
	"errors"
	"testing"
)

// encodeDeleteMap builds nats-server's sequence set encoding (version 2:
// nodes of 2048 sequences) for seqs.
func encodeDeleteMap(seqs []uint64) []byte {
	nodes := map[uint64]*[pageWords]uint64{}
	var order []uint64
	for _, s := range seqs {
		base := s / pageSeqs * pageSeqs
		if nodes[base] == nil {
			nodes[base] = new([pageWords]uint64)
			order = append(order, base)
		}
		off := s - base
		nodes[base][off/64] |= 1 << (off % 64)
	}
	le := binary.LittleEndian
	b := []byte{blockIndexMagic, 2}
	b = le.AppendUint32(b, uint32(len(order)))
	b = le.AppendUint32(b, uint32(len(seqs)))
	for _, base := range order {
		b = le.AppendUint64(b, base)
		for _, w := range nodes[base] {
			b = le.AppendUint64(b, w)
		}
		b = le.AppendUint16(b, 1)
	}
	return b
}

type indexBlock struct {
	index, first, last uint64
	deleted            []uint64
}

// encodeStreamIndex builds a msgs/index.db (version 2) for stream.
func encodeStreamIndex(stream string, first, last uint64, blocks []indexBlock, lastBlock uint64, lastSum [8]byte) []byte {
	b := []byte{streamIndexMagic, 2}
	for _, v := range []uint64{5, 500, first} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendVarint(b, 1000)
	b = binary.AppendUvarint(b, last)
	b = binary.AppendVarint(b, 2000)
	b = binary.AppendUvarint(b, 1) // one subject
	b = binary.AppendUvarint(b, 3)
	b = append(b, "a.b"...)
	b = binary.AppendUvarint(b, 2) // total
	b = binary.AppendUvarint(b, 1) // first block
	b = binary.AppendUvarint(b, 2) // last block
	b = binary.AppendUvarint(b, uint64(len(blocks)))
	for _, blk := range blocks {
		b = binary.AppendUvarint(b, blk.index)
		b = binary.AppendUvarint(b, 100)
		b = binary.AppendUvarint(b, blk.first)
		b = binary.AppendVarint(b, 0)
		b = binary.AppendUvarint(b, blk.last)
		b = binary.AppendVarint(b, 0)
		b = binary.AppendUvarint(b, uint64(len(blk.deleted)))
		b = binary.AppendUvarint(b, 0) // TTLs
		if len(blk.deleted) > 0 {
			b = append(b, encodeDeleteMap(blk.deleted)...)
		}
	}
	b = binary.AppendUvarint(b, lastBlock)
	b = append(b, lastSum[:]...)
	h := streamHash(stream)
	h.Write(b)
	return h.Sum(b)
}

func TestDecodeStreamIndex(t *testing.T) {
	sum := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	b := encodeStreamIndex("S", 3, 5000, []indexBlock{
		{index: 1, first: 3, last: 2000, deleted: []uint64{4, 5, 2047, 2048}},
		{index: 2, first: 2001, last: 5000, deleted: []uint64{4999}},
	}, 2, sum)
	del := NewSeqSet(100)
	ix, err := DecodeStreamIndex(b, "S", del)
	if err != nil {
		t.Fatal(err)
	}
	if ix.FirstSeq != 3 || ix.LastSeq != 5000 || ix.LastBlock != 2 || ix.LastChecksum != sum {
		t.Fatalf("index %+v", ix)
	}
	if ix.Blocks[1] != (BlockInfo{3, 2000}) || ix.Blocks[2] != (BlockInfo{2001, 5000}) {
		t.Fatalf("blocks %+v", ix.Blocks)
	}
	for _, s := range []uint64{4, 5, 2047, 2048, 4999} {
		if !del.Has(s) {
			t.Fatalf("%d not deleted", s)
		}
	}
	if del.Len() != 5 || del.Has(6) || del.Has(2046) {
		t.Fatalf("deleted set of %d", del.Len())
	}

	if _, err := DecodeStreamIndex(b, "T", NewSeqSet(100)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("other stream's index: %v", err)
	}
	for n := range len(b) {
		if _, err := DecodeStreamIndex(b[:n], "S", NewSeqSet(100)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d: %v", n, err)
		}
	}
	// The deleted set's cap holds: 3 pages needed, 2 allowed.
	if _, err := DecodeStreamIndex(b, "S", NewSeqSet(2)); !errors.Is(err, ErrTooManyDeleted) {
		t.Fatalf("over the cap: %v", err)
	}
}

// nats-server 2.9's per-block index: header fields, the last record's
// checksum, then deletes as offsets from the block's first sequence.
func TestDecodeBlockIndex(t *testing.T) {
	b := []byte{blockIndexMagic, 1}
	for _, v := range []uint64{18, 1138, 2} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendVarint(b, 123)
	b = binary.AppendUvarint(b, 20)
	b = binary.AppendVarint(b, 456)
	b = binary.AppendUvarint(b, 2)
	b = append(b, make([]byte, 8)...)
	b = binary.AppendUvarint(b, 3) // 5
	b = binary.AppendUvarint(b, 9) // 11
	del := NewSeqSet(10)
	bi, err := DecodeBlockIndex(b, del)
	if err != nil {
		t.Fatal(err)
	}
	if bi != (BlockInfo{2, 20}) || del.Len() != 2 || !del.Has(5) || !del.Has(11) {
		t.Fatalf("info %+v deleted %d", bi, del.Len())
	}
	for n := range len(b) {
		if _, err := DecodeBlockIndex(b[:n], NewSeqSet(10)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d: %v", n, err)
		}
	}
}

func TestDecodeDeleteMapBounds(t *testing.T) {
	b := encodeDeleteMap([]uint64{1, 70000})
	binary.LittleEndian.PutUint32(b[2:], 1<<30) // claims a billion nodes
	if _, err := decodeDeleteMap(b, NewSeqSet(10)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge node count: %v", err)
	}
	b = encodeDeleteMap([]uint64{1, 70000})
	b[1] = 9
	if _, err := decodeDeleteMap(b, NewSeqSet(10)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unknown version: %v", err)
	}
}

func TestSeqSet(t *testing.T) {
	s := NewSeqSet(2)
	for _, seq := range []uint64{0, 1, 2047, 5, 5} {
		if err := s.Add(seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(2048); err != nil { // second page
		t.Fatal(err)
	}
	if err := s.Add(1 << 50); !errors.Is(err, ErrTooManyDeleted) { // third
		t.Fatalf("third page: %v", err)
	}
	if s.Len() != 5 || !s.Has(2047) || !s.Has(2048) || s.Has(2) || s.Has(1<<50) {
		t.Fatalf("set of %d", s.Len())
	}
}
