package snapshot

import (
	"bytes"
	"encoding/binary"
)

// nats-server keeps, beside its blocks, an index of what was deleted
// without a record in the blocks: messages removed from the head of a
// block (limits, purges) move the block's first sequence, and messages
// removed from its middle by limits go to its delete map. 2.10 and later
// write one msgs/index.db per stream; 2.9 wrote msgs/<n>.idx per block.
// A restore that ignored them would bring such messages back.

// BlockInfo is what an index says about one block.
type BlockInfo struct {
	First, Last uint64 // sequences below First are deleted
}

// StreamIndex is msgs/index.db, without its per-subject part.
type StreamIndex struct {
	Msgs, Bytes         uint64
	FirstSeq, LastSeq   uint64
	FirstTime, LastTime int64 // unix nanoseconds, 0 for none
	Blocks              map[uint32]BlockInfo
	// LastBlock and LastChecksum name the last block and the checksum of
	// its last record when the index was written: when they match the
	// archive, the index describes exactly its blocks.
	LastBlock    uint32
	LastChecksum [checksumLen]byte
}

const (
	streamIndexMagic = 11
	blockIndexMagic  = 22 // also consumer state and delete maps
	minStreamIndex   = 32
)

// varints reads the uvarints and varints these formats are made of; the
// first failure sticks, so a decoder checks once at the end.
type varints struct {
	b   []byte
	off int
	bad bool
}

func (v *varints) u64() uint64 {
	if v.bad {
		return 0
	}
	x, n := binary.Uvarint(v.b[v.off:])
	if n <= 0 {
		v.bad = true
		return 0
	}
	v.off += n
	return x
}

func (v *varints) i64() int64 {
	if v.bad {
		return 0
	}
	x, n := binary.Varint(v.b[v.off:])
	if n <= 0 {
		v.bad = true
		return 0
	}
	v.off += n
	return x
}

// skip passes n bytes.
func (v *varints) skip(n uint64) {
	if v.bad || n > uint64(len(v.b)-v.off) {
		v.bad = true
		return
	}
	v.off += int(n)
}

func (v *varints) rest() []byte { return v.b[v.off:] }

// DecodeStreamIndex decodes msgs/index.db of stream, adding every block's
// deleted sequences to deleted.
func DecodeStreamIndex(b []byte, stream string, deleted *SeqSet) (*StreamIndex, error) {
	if len(b) < minStreamIndex {
		return nil, corrupt("msgs/index.db too short (%d bytes)", len(b))
	}
	body, sum := b[:len(b)-checksumLen], b[len(b)-checksumLen:]
	h := streamHash(stream)
	h.Write(body)
	if !bytes.Equal(h.Sum(nil), sum) {
		return nil, corrupt("msgs/index.db fails its checksum")
	}
	if body[0] != streamIndexMagic || body[1] < 1 || body[1] > 2 {
		return nil, corrupt("msgs/index.db has unknown magic or version %d.%d", body[0], body[1])
	}
	version := body[1]
	v := &varints{b: body, off: 2}
	ix := &StreamIndex{Blocks: map[uint32]BlockInfo{}}
	ix.Msgs, ix.Bytes, ix.FirstSeq = v.u64(), v.u64(), v.u64()
	base := v.i64()
	ix.FirstTime = base
	ix.LastSeq, ix.LastTime = v.u64(), v.i64()
	// Per-subject counts: not needed, the blocks say the same.
	for n := v.u64(); n > 0 && !v.bad; n-- {
		v.skip(v.u64())
		if total := v.u64(); total > 1 {
			v.u64()
		}
		v.u64()
	}
	nblocks := v.u64()
	if nblocks > uint64(len(body)) { // each block takes bytes
		return nil, corrupt("msgs/index.db claims %d blocks", nblocks)
	}
	for ; nblocks > 0 && !v.bad; nblocks-- {
		index, _, first := v.u64(), v.u64(), v.u64()
		v.i64()
		last := v.u64()
		v.i64()
		numDeleted := v.u64()
		if version >= 2 {
			v.u64() // messages with a TTL
		}
		if v.bad {
			break
		}
		if index > 1<<32-1 {
			return nil, corrupt("msgs/index.db has block number %d", index)
		}
		ix.Blocks[uint32(index)] = BlockInfo{First: first, Last: last}
		if numDeleted > 0 {
			n, err := decodeDeleteMap(v.rest(), deleted)
			if err != nil {
				return nil, err
			}
			v.off += n
		}
	}
	lastBlock := v.u64()
	if v.bad || len(v.rest()) < checksumLen || lastBlock > 1<<32-1 {
		return nil, corrupt("msgs/index.db truncated")
	}
	ix.LastBlock = uint32(lastBlock)
	copy(ix.LastChecksum[:], v.rest())
	return ix, nil
}

// DecodeBlockIndex decodes a nats-server 2.9 msgs/<n>.idx, adding the
// block's deleted sequences to deleted.
func DecodeBlockIndex(b []byte, deleted *SeqSet) (BlockInfo, error) {
	var bi BlockInfo
	if len(b) < 2 || b[0] != blockIndexMagic || b[1] < 1 || b[1] > 2 {
		return bi, corrupt("block index has unknown magic or version")
	}
	v := &varints{b: b, off: 2}
	v.u64() // messages
	v.u64() // bytes
	bi.First = v.u64() &^ erasedBit
	v.i64()
	bi.Last = v.u64() &^ erasedBit
	v.i64()
	numDeleted := v.u64()
	v.skip(checksumLen) // the last record's checksum
	if v.bad {
		return bi, corrupt("block index truncated")
	}
	if numDeleted == 0 {
		return bi, nil
	}
	if b[1] == 2 {
		if _, err := decodeDeleteMap(v.rest(), deleted); err != nil {
			return bi, err
		}
		return bi, nil
	}
	if numDeleted > uint64(len(v.rest())) { // at least a byte each
		return bi, corrupt("block index claims %d deletes", numDeleted)
	}
	for ; numDeleted > 0; numDeleted-- {
		d := v.u64()
		if v.bad {
			return bi, corrupt("block index delete map truncated")
		}
		if err := deleted.Add(bi.First + d); err != nil {
			return bi, err
		}
	}
	return bi, nil
}

// decodeDeleteMap decodes nats-server's encoded sequence set (a tree of
// fixed-size bitmaps) into deleted and returns the bytes it used.
func decodeDeleteMap(b []byte, deleted *SeqSet) (int, error) {
	const hdr = 10 // magic, version, node count u32, size u32
	if len(b) < hdr || b[0] != blockIndexMagic {
		return 0, corrupt("delete map has unknown magic")
	}
	var words uint64
	switch b[1] {
	case 1:
		words = 64
	case 2:
		words = 32
	default:
		return 0, corrupt("delete map has unknown version %d", b[1])
	}
	le := binary.LittleEndian
	nodes := uint64(le.Uint32(b[2:]))
	nodeLen := (words+1)*8 + 2 // base, bitmap words, height
	if nodes > uint64(len(b)-hdr)/nodeLen {
		return 0, corrupt("delete map truncated (%d nodes)", nodes)
	}
	off := hdr
	for ; nodes > 0; nodes-- {
		base := le.Uint64(b[off:])
		for w := range words {
			bits := le.Uint64(b[off+8+int(w)*8:])
			for pos := uint64(0); bits != 0; pos, bits = pos+1, bits>>1 {
				if bits&1 == 0 {
					continue
				}
				if err := deleted.Add(base + w*64 + pos); err != nil {
					return 0, err
				}
			}
		}
		off += int(nodeLen)
	}
	return off, nil
}
