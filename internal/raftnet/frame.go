package raftnet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// The wire format. Every frame is
//
//	length  uint32 big-endian: the body's length
//	crc     uint32 big-endian: CRC-32C of the kind byte and the body
//	kind    byte
//	body    length bytes
//
// The first frame on a connection is a hello; after it, batches and
// keepalives in any order. Nothing is sent back on the connection: a pair of
// servers talks over two connections, one dialled by each side.
const (
	headerLen = 9

	// Version is the protocol version a hello names. A receiver refuses any
	// other: a server speaking a newer format must not be half-understood.
	// Version 2 encodes messages in the fast form (codec.go); version 1
	// sent protobuf only.
	Version = 2

	// MaxFrameLimit is the largest frame body any configuration accepts.
	MaxFrameLimit = 256 << 20

	// maxServerID bounds the server id of a hello.
	maxServerID = 256
)

// Kind tells what a frame's body holds.
type Kind byte

const (
	KindHello     Kind = 1 // the sender's identity and protocol version
	KindBatch     Kind = 2 // raft messages of any groups
	KindKeepalive Kind = 3 // nothing: refreshes the receiver's read deadline
)

// helloMagic starts a hello body, so a connection from something else (a
// route, a client, a scanner) is told apart at its first frame.
var helloMagic = [4]byte{'S', 'R', 'F', 'T'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of the decoder. Each one ends the connection: after a bad frame the
// stream cannot be resynchronised.
var (
	ErrFrameTooLarge   = errors.New("raftnet: frame too large")
	ErrChecksum        = errors.New("raftnet: frame checksum mismatch")
	ErrUnknownKind     = errors.New("raftnet: unknown frame kind")
	ErrMalformed       = errors.New("raftnet: malformed frame")
	ErrVersion         = errors.New("raftnet: unsupported protocol version")
	ErrMessageTooLarge = errors.New("raftnet: message larger than a frame")
	// ErrUnsendable is AppendBatch's refusal of a message no receiver
	// would decode: one holding Responses, or entries too small for the
	// decoding budget (budget.go). Raft sends neither.
	ErrUnsendable = errors.New("raftnet: message a receiver would refuse")
)

// Envelope is one raft message with the group it belongs to. etcd raft's
// message has no group field (one library instance is one group), so the
// group travels beside it.
type Envelope struct {
	Group uint64
	Msg   *raftpb.Message
}

// Hello is the body of a connection's first frame.
type Hello struct {
	Version  uint16
	ServerID string // the sender's server name, for logs and checks
	NodeID   uint64 // the sender's raft node id, the same in every group
}

// Frame is one decoded frame. Body aliases the decoder's buffer and is valid
// until the next call of Next.
type Frame struct {
	Kind Kind
	Body []byte
}

// appendHeader reserves a header at the end of dst and returns its offset;
// finishFrame fills it in once the body is appended.
func appendHeader(dst []byte, k Kind) ([]byte, int) {
	off := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, byte(k))
	return dst, off
}

func finishFrame(b []byte, off int) {
	body := b[off+headerLen:]
	binary.BigEndian.PutUint32(b[off:], uint32(len(body)))
	crc := crc32.Update(0, castagnoli, b[off+8:off+9])
	crc = crc32.Update(crc, castagnoli, body)
	binary.BigEndian.PutUint32(b[off+4:], crc)
}

// AppendHello appends a hello frame to dst.
func AppendHello(dst []byte, h Hello) []byte {
	dst, off := appendHeader(dst, KindHello)
	dst = append(dst, helloMagic[:]...)
	dst = binary.BigEndian.AppendUint16(dst, h.Version)
	dst = binary.AppendUvarint(dst, h.NodeID)
	dst = binary.AppendUvarint(dst, uint64(len(h.ServerID)))
	dst = append(dst, h.ServerID...)
	finishFrame(dst, off)
	return dst
}

// AppendKeepalive appends an empty keepalive frame to dst.
func AppendKeepalive(dst []byte) []byte {
	dst, off := appendHeader(dst, KindKeepalive)
	finishFrame(dst, off)
	return dst
}

// perMessageOverhead bounds what a message costs in a batch body besides its
// encoding: two uvarints.
const perMessageOverhead = 2 * binary.MaxVarintLen64

// AppendBatch appends one batch frame to dst holding as many messages from
// the front of msgs as fit in maxBody bytes, and returns how many it took.
// When the first message alone does not fit, it appends nothing and returns
// ErrMessageTooLarge, or ErrUnsendable when it breaks the decoding budget
// (budget.go): the caller drops that message and goes on.
//
// The body is a uint32 count, then for each message its group and its
// length as uvarints and its encoding: a form byte and the fast form, or
// the protobuf encoding (codec.go).
func AppendBatch(dst []byte, msgs []Envelope, maxBody int) ([]byte, int, error) {
	if len(msgs) == 0 {
		return dst, 0, nil
	}
	start := len(dst)
	dst, off := appendHeader(dst, KindBatch)
	dst = append(dst, 0, 0, 0, 0)
	opts := proto.MarshalOptions{UseCachedSize: true}
	n, units := 0, 0
	for _, e := range msgs {
		fast := fastForm(e.Msg)
		u, ok := unitsOf(e.Msg, fast)
		if !ok {
			if n == 0 {
				return dst[:start], 0, fmt.Errorf("%w: it holds responses", ErrUnsendable)
			}
			break
		}
		var h msgHeader
		var size int
		if fast {
			h = headerOf(e.Msg)
			size = fastSize(e.Msg, &h)
		} else {
			size = 1 + proto.Size(e.Msg)
		}
		body := len(dst) - off - headerLen
		if body+perMessageOverhead+size > maxBody {
			break
		}
		before := len(dst)
		dst = binary.AppendUvarint(dst, e.Group)
		dst = binary.AppendUvarint(dst, uint64(size))
		at := len(dst)
		if fast {
			dst = appendFast(dst, e.Msg, &h)
		} else {
			var err error
			if dst, err = opts.MarshalAppend(append(dst, formProto), e.Msg); err != nil {
				return dst[:start], 0, fmt.Errorf("raftnet: encoding a message: %w", err)
			}
		}
		// A message whose size changed under the encoder (shared and
		// modified, which raft does not do) must not corrupt the stream.
		if len(dst)-at != size {
			return dst[:start], 0, fmt.Errorf("raftnet: encoding a message: %d bytes, sized %d", len(dst)-at, size)
		}
		// The batch must stay within the budget its receiver holds it
		// to; a message that breaks it goes in the next batch, or is
		// refused when it breaks it alone.
		if units+u > len(dst)-off-headerLen+budgetSlack {
			dst = dst[:before]
			if n == 0 {
				return dst[:start], 0, fmt.Errorf("%w: %d entries in %d bytes", ErrUnsendable, len(e.Msg.GetEntries()), size)
			}
			break
		}
		units += u
		n++
	}
	if n == 0 {
		return dst[:start], 0, ErrMessageTooLarge
	}
	binary.BigEndian.PutUint32(dst[off+headerLen:], uint32(n))
	finishFrame(dst, off)
	return dst, n, nil
}

// DecodeHello parses a hello body.
func DecodeHello(body []byte) (Hello, error) {
	var h Hello
	if len(body) < len(helloMagic)+2 || [4]byte(body[:4]) != helloMagic {
		return h, fmt.Errorf("%w: not a hello", ErrMalformed)
	}
	h.Version = binary.BigEndian.Uint16(body[4:])
	if h.Version != Version {
		return h, fmt.Errorf("%w: %d", ErrVersion, h.Version)
	}
	rest := body[6:]
	id, n := binary.Uvarint(rest)
	if n <= 0 {
		return h, fmt.Errorf("%w: hello node id", ErrMalformed)
	}
	h.NodeID, rest = id, rest[n:]
	l, n := binary.Uvarint(rest)
	if n <= 0 || l > maxServerID || l != uint64(len(rest)-n) {
		return h, fmt.Errorf("%w: hello server id", ErrMalformed)
	}
	h.ServerID = string(rest[n:])
	return h, nil
}

// DecodeBatch parses a batch body, appending its messages to dst. The
// messages do not alias body: their byte fields share one copy of it.
func DecodeBatch(body []byte, dst []Envelope) ([]Envelope, error) {
	if len(body) < 4 {
		return dst, fmt.Errorf("%w: batch count", ErrMalformed)
	}
	count := binary.BigEndian.Uint32(body)
	d := bodyDecoder{body: body, pos: 4, end: len(body), units: len(body) + budgetSlack}
	// Each message takes at least three bytes (group, length, form) and
	// msgUnits of the budget (budget.go), so a larger count is a lie or a
	// flood; checking first keeps a hostile count from sizing anything.
	if count == 0 || uint64(count) > uint64(len(body)-4)/3 || !d.charge(uint64(count), msgUnits) {
		return dst, fmt.Errorf("%w: batch count %d", ErrMalformed, count)
	}
	dst = slices.Grow(dst, int(count))
	for i := uint32(0); i < count; i++ {
		d.left = int(count - i)
		d.end = len(body)
		group, ok := d.uvarint()
		if !ok {
			return dst, fmt.Errorf("%w: message %d group", ErrMalformed, i)
		}
		size, ok := d.uvarint()
		if !ok || size == 0 || size > uint64(len(body)-d.pos) {
			return dst, fmt.Errorf("%w: message %d length", ErrMalformed, i)
		}
		d.end = d.pos + int(size)
		form := body[d.pos]
		d.pos++
		var m *raftpb.Message
		switch form {
		case formFast:
			if m, ok = d.fast(); !ok {
				return dst, fmt.Errorf("%w: message %d", ErrMalformed, i)
			}
		case formProto:
			if err := d.protoBudget(); err != nil {
				return dst, fmt.Errorf("%w: message %d: %w", ErrMalformed, i, err)
			}
			m = new(raftpb.Message)
			if err := proto.Unmarshal(body[d.pos:d.end], m); err != nil {
				return dst, fmt.Errorf("%w: message %d: %w", ErrMalformed, i, err)
			}
			d.pos = d.end
		default:
			return dst, fmt.Errorf("%w: message %d form %d", ErrMalformed, i, form)
		}
		dst = append(dst, Envelope{Group: group, Msg: m})
	}
	if d.pos != len(body) {
		return dst, fmt.Errorf("%w: %d bytes after the last message", ErrMalformed, len(body)-d.pos)
	}
	return dst, nil
}

// Decoder reads frames from a stream, checking each one's size, kind and
// checksum before handing it out.
type Decoder struct {
	r       io.Reader
	maxBody int
	hdr     [headerLen]byte
	buf     []byte
}

// keepBuf is the largest body buffer a decoder keeps between frames; a
// rarer larger frame gets a buffer of its own, so an idle connection does
// not pin the memory of its largest frame.
const keepBuf = 1 << 20

// NewDecoder returns a decoder of frames from r whose bodies are at most
// maxBody bytes (capped at MaxFrameLimit).
func NewDecoder(r io.Reader, maxBody int) *Decoder {
	if maxBody <= 0 || maxBody > MaxFrameLimit {
		maxBody = MaxFrameLimit
	}
	return &Decoder{r: r, maxBody: maxBody}
}

// Next reads the next frame. Errors other than io.EOF at a frame boundary
// mean the stream is broken or hostile.
func (d *Decoder) Next() (Frame, error) {
	if _, err := io.ReadFull(d.r, d.hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%w: truncated header", ErrMalformed)
		}
		return Frame{}, err
	}
	size := binary.BigEndian.Uint32(d.hdr[0:])
	sum := binary.BigEndian.Uint32(d.hdr[4:])
	k := Kind(d.hdr[8])
	if uint64(size) > uint64(d.maxBody) {
		return Frame{}, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, size)
	}
	if k < KindHello || k > KindKeepalive {
		return Frame{}, fmt.Errorf("%w: %d", ErrUnknownKind, k)
	}
	body := d.body(int(size))
	if _, err := io.ReadFull(d.r, body); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%w: truncated body", ErrMalformed)
		}
		return Frame{}, err
	}
	crc := crc32.Update(0, castagnoli, d.hdr[8:9])
	if crc32.Update(crc, castagnoli, body) != sum {
		return Frame{}, ErrChecksum
	}
	return Frame{Kind: k, Body: body}, nil
}

func (d *Decoder) body(n int) []byte {
	if n > keepBuf {
		return make([]byte, n)
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n, max(n, 4096))
	}
	return d.buf[:n]
}
