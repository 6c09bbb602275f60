package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
)

// Record framing; see the package comment.
const (
	recordHeaderLen = 22
	checksumLen     = 8
	minRecordLen    = recordHeaderLen + checksumLen
	hasHeaderBit    = 1 << 31
	erasedBit       = 1 << 63
	tombstoneBit    = 1 << 62

	// MaxRecordLen bounds one record: a 64 MiB payload (nats' largest
	// max_payload) plus room for subject and headers. nats-server itself
	// refuses records over 32 MiB.
	MaxRecordLen = 65 << 20
)

// Record is one entry of a message block. Subject, Header and Data alias
// the reader's buffer and are valid until its next call.
type Record struct {
	Seq     uint64
	Time    int64 // unix nanoseconds
	Subject []byte
	Header  []byte // nil without headers
	Data    []byte
	// Erased: the sequence was used but holds no message.
	Erased bool
	// Tombstone: the message at Seq was deleted (it is in an earlier
	// record, usually of an earlier block).
	Tombstone bool
}

// Len is the record's encoded length.
func (r *Record) Len() int {
	n := minRecordLen + len(r.Subject) + len(r.Data)
	if len(r.Header) > 0 {
		n += 4 + len(r.Header)
	}
	return n
}

// ErrCorrupt wraps every format error, so callers can tell a damaged
// archive from an I/O failure.
var ErrCorrupt = errors.New("snapshot: corrupt archive")

// ErrUnsupported wraps errors for archives, or parts of them, in a form
// this package does not read.
var ErrUnsupported = errors.New("snapshot: unsupported archive")

// ErrCompressedBlock is returned for a block in nats-server's compressed
// block format, which its snapshots never hold (it decompresses blocks
// when it takes one).
var ErrCompressedBlock = fmt.Errorf("%w: compressed message block", ErrUnsupported)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// AppendRecord encodes r, checksummed with h, onto dst.
func AppendRecord(dst []byte, h hash.Hash64, r *Record) []byte {
	le := binary.LittleEndian
	l := uint32(r.Len())
	if len(r.Header) > 0 {
		l |= hasHeaderBit
	}
	seq := r.Seq
	if r.Erased {
		seq |= erasedBit
	}
	if r.Tombstone {
		seq |= tombstoneBit
	}
	start := len(dst)
	dst = le.AppendUint32(dst, l)
	dst = le.AppendUint64(dst, seq)
	dst = le.AppendUint64(dst, uint64(r.Time))
	dst = le.AppendUint16(dst, uint16(len(r.Subject)))
	dst = append(dst, r.Subject...)
	if len(r.Header) > 0 {
		dst = le.AppendUint32(dst, uint32(len(r.Header)))
		dst = append(dst, r.Header...)
	}
	dst = append(dst, r.Data...)
	h.Reset()
	h.Write(dst[start+4 : start+20])
	h.Write(r.Subject)
	h.Write(r.Header)
	h.Write(r.Data)
	return h.Sum(dst)
}

// RecordReader decodes the records of one block from a stream, checking
// each record's checksum. Memory is bounded by the largest record.
type RecordReader struct {
	r     io.Reader
	h     hash.Hash64
	buf   []byte
	sum   []byte
	off   int64
	first bool
}

// NewRecordReader reads block n of stream from r.
func NewRecordReader(r io.Reader, stream string, n uint32) *RecordReader {
	return &RecordReader{r: r, h: blockHash(stream, n), first: true}
}

// Offset is the offset of the next record in the block.
func (rr *RecordReader) Offset() int64 { return rr.off }

// Next decodes the next record into rec. It returns io.EOF at the clean
// end of the block, and an error wrapping ErrCorrupt for a damaged or
// truncated record.
func (rr *RecordReader) Next(rec *Record) error {
	var hdr [recordHeaderLen]byte
	n, err := io.ReadFull(rr.r, hdr[:])
	if err == io.EOF {
		return io.EOF
	}
	if err == io.ErrUnexpectedEOF {
		return corrupt("record at offset %d truncated (%d bytes)", rr.off, n)
	}
	if err != nil {
		return err
	}
	if rr.first && hdr[0] == 'c' && hdr[1] == 'm' && hdr[2] == 'p' {
		return ErrCompressedBlock
	}
	rr.first = false
	if err := rr.parse(hdr[:], rec); err != nil {
		return err
	}
	return nil
}

// bodyStep is how much of a record body is read before the buffer grows:
// a damaged length cannot make the reader allocate far more than the
// bytes that are really there.
const bodyStep = 1 << 20

// readBody reads n bytes into the reader's buffer, growing it as data
// arrives rather than trusting the record's length up front.
func (rr *RecordReader) readBody(n int) ([]byte, error) {
	if cap(rr.buf) >= n || n <= bodyStep {
		if cap(rr.buf) < n {
			rr.buf = make([]byte, n)
		}
		_, err := io.ReadFull(rr.r, rr.buf[:n])
		return rr.buf[:n], err
	}
	buf := rr.buf[:0]
	for len(buf) < n {
		step := min(n-len(buf), max(bodyStep, len(buf)))
		buf = slices.Grow(buf, step)
		got, err := io.ReadFull(rr.r, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+got]
		if err != nil {
			rr.buf = buf
			return nil, err
		}
	}
	rr.buf = buf
	return buf, nil
}

func (rr *RecordReader) parse(hdr []byte, rec *Record) error {
	le := binary.LittleEndian
	l := le.Uint32(hdr[0:])
	withHeader := l&hasHeaderBit != 0
	rl := int(l &^ hasHeaderBit)
	slen := int(le.Uint16(hdr[20:]))
	if rl < minRecordLen || rl > MaxRecordLen {
		return corrupt("record at offset %d has bad length %d", rr.off, rl)
	}
	body := rl - recordHeaderLen // subject, header, payload, checksum
	if slen > body-checksumLen {
		return corrupt("record at offset %d has bad subject length %d", rr.off, slen)
	}
	buf, err := rr.readBody(body)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return corrupt("record at offset %d truncated", rr.off)
		}
		return err
	}
	content := buf[:body-checksumLen]
	rec.Subject, rec.Header = content[:slen], nil
	rest := content[slen:]
	if withHeader {
		if len(rest) < 4 {
			return corrupt("record at offset %d has no header length", rr.off)
		}
		hl := int(le.Uint32(rest))
		if hl > len(rest)-4 {
			return corrupt("record at offset %d has bad header length %d", rr.off, hl)
		}
		rec.Header = rest[4 : 4+hl]
		rest = rest[4+hl:]
	}
	rec.Data = rest
	rr.h.Reset()
	rr.h.Write(hdr[4:20])
	rr.h.Write(rec.Subject)
	rr.h.Write(rec.Header)
	rr.h.Write(rec.Data)
	rr.sum = rr.h.Sum(rr.sum[:0])
	if !bytes.Equal(rr.sum, buf[body-checksumLen:]) {
		return corrupt("record at offset %d fails its checksum", rr.off)
	}
	seq := le.Uint64(hdr[4:])
	rec.Tombstone = seq&tombstoneBit != 0
	rec.Erased = seq&erasedBit != 0
	rec.Seq = seq &^ (tombstoneBit | erasedBit)
	rec.Time = int64(le.Uint64(hdr[12:]))
	rr.off += int64(rl)
	return nil
}
