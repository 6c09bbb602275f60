// Package proto parses and encodes the NATS wire protocols: the client
// protocol (Parser) and the route protocol servers of a cluster speak
// (RouteParser, route.go). It knows nothing of sockets or servers: a parser
// works on a byte slice and returns one operation at a time, with arguments
// that alias the input.
package proto

import (
	"bytes"
	"fmt"
)

// Op is a client protocol operation.
type Op uint8

// The operations a client may send.
const (
	OpNone Op = iota
	OpConnect
	OpPub
	OpHPub
	OpSub
	OpUnsub
	OpPing
	OpPong
	OpInfo
	OpOK
	OpErr
)

var opNames = [...]string{"NONE", "CONNECT", "PUB", "HPUB", "SUB", "UNSUB", "PING", "PONG", "INFO", "+OK", "-ERR"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// Cmd is one parsed operation. Its slices alias the buffer given to Parse
// and are valid only until that buffer is reused.
type Cmd struct {
	Op      Op
	Subject []byte // PUB, HPUB, SUB
	Reply   []byte // PUB, HPUB; nil when absent
	Queue   []byte // SUB; nil when absent
	Sid     []byte // SUB, UNSUB
	Max     int    // UNSUB: deliveries before auto-unsubscribe; <= 0 means now
	HdrLen  int    // HPUB: header bytes at the start of Msg; 0 for PUB
	Size    int    // PUB, HPUB: header and payload bytes
	HdrArg  []byte // HPUB: the header size as the client wrote it
	SizeArg []byte // PUB, HPUB: the total size as the client wrote it
	Msg     []byte // PUB, HPUB: Size bytes followed by "\r\n"
	Arg     []byte // CONNECT, INFO, -ERR: the argument text
}

// Payload returns the message bytes after the headers, without the trailing
// CRLF.
func (c *Cmd) Payload() []byte { return c.Msg[c.HdrLen:c.Size] }

// Header returns the header block of an HPUB, nil for a PUB.
func (c *Cmd) Header() []byte { return c.Msg[:c.HdrLen] }

// Defaults as nats-server sets them.
const (
	DefaultMaxControlLine = 4096
	DefaultMaxPayload     = 1024 * 1024
)

// Parser splits client input into operations. It keeps no state between
// calls: an operation that is not yet complete is reported as such and parsed
// again, whole, once more input has arrived. Control lines are short, so the
// repeated scan is cheap, and the caller never has to copy a partial
// operation into parser-owned memory.
type Parser struct {
	MaxControlLine int // bytes of arguments on one control line
	MaxPayload     int // bytes of headers and payload in one message

	// Want is set when Parse returns 0 bytes and the operation's total length
	// is known (its control line is complete): the caller needs Want bytes
	// from the start of the operation before it can be parsed.
	Want int
}

// NewParser returns a parser with nats-server's default limits.
func NewParser() *Parser {
	return &Parser{MaxControlLine: DefaultMaxControlLine, MaxPayload: DefaultMaxPayload}
}

type keyword struct {
	word  string
	op    Op
	space bool // must be followed by a space or tab
}

var pubKeyword = &keywords['P'][0]

// keywords by upper-cased first byte. Matching is case-insensitive.
var keywords = [256][]keyword{
	'P': {{"PUB", OpPub, true}, {"PING", OpPing, false}, {"PONG", OpPong, false}},
	'H': {{"HPUB", OpHPub, true}},
	'S': {{"SUB", OpSub, true}},
	'U': {{"UNSUB", OpUnsub, true}},
	'C': {{"CONNECT", OpConnect, false}},
	'I': {{"INFO", OpInfo, true}},
	'+': {{"+OK", OpOK, false}},
	'-': {{"-ERR", OpErr, true}},
}

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}

// keywordAt identifies the operation at the start of data. It returns the
// keyword, or ok=false with err=nil if data is a strict prefix of a keyword
// and more input is needed.
func keywordAt(data []byte) (kw *keyword, ok bool, err error) {
	cands := keywords[upper(data[0])]
	if len(cands) == 0 {
		return nil, false, unknownOp(fmt.Sprintf("unexpected %q", snippet(data)))
	}
	partial := false
	for i := range cands {
		k := &cands[i]
		n := min(len(k.word), len(data))
		match := true
		for j := 1; j < n; j++ {
			if upper(data[j]) != k.word[j] {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if len(data) < len(k.word) {
			partial = true
			continue
		}
		if k.space {
			if len(data) == len(k.word) {
				partial = true
				continue
			}
			if c := data[len(k.word)]; c != ' ' && c != '\t' {
				continue
			}
		}
		return k, true, nil
	}
	if partial {
		return nil, false, nil
	}
	return nil, false, unknownOp(fmt.Sprintf("unexpected %q", snippet(data)))
}

// Parse parses the operation at the start of data into c and returns how
// many bytes it used. It returns 0 and a nil error when data holds only part
// of an operation; then p.Want tells how many bytes the whole operation takes
// if that is already known. A non-nil error is a *Error and ends the
// connection.
func (p *Parser) Parse(data []byte, c *Cmd) (int, error) {
	p.Want = 0
	if len(data) == 0 {
		return 0, nil
	}
	var kw *keyword
	if len(data) > 3 && upper(data[0]) == 'P' && upper(data[1]) == 'U' && upper(data[2]) == 'B' && (data[3] == ' ' || data[3] == '\t') {
		kw = pubKeyword // the hot path: skip the table walk
	} else {
		var ok bool
		var err error
		if kw, ok, err = keywordAt(data); err != nil || !ok {
			return 0, err
		}
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		// Bound what a client can make us hold while waiting for a newline.
		partial := trimLeft(data[len(kw.word):])
		if n := len(partial); n > 0 && partial[n-1] == '\r' {
			partial = partial[:n-1]
		}
		if len(partial) > p.MaxControlLine {
			return 0, &Error{Text: ErrTextMaxControlLine, Detail: fmt.Sprintf("%s line over %d bytes", kw.op, p.MaxControlLine)}
		}
		return 0, nil
	}
	line := data[:nl]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	arg := trimLeft(line[len(kw.word):])
	if len(arg) > p.MaxControlLine {
		return 0, &Error{Text: ErrTextMaxControlLine, Detail: fmt.Sprintf("%s arguments of %d bytes", kw.op, len(arg))}
	}
	end := nl + 1
	if kw.op == OpPub || kw.op == OpHPub {
		c.Op, c.Queue, c.Sid, c.Max, c.Arg = kw.op, nil, nil, 0, nil
		return p.parseMsg(data, end, arg, c)
	}
	*c = Cmd{Op: kw.op}
	switch kw.op {
	case OpPing, OpPong, OpOK:
		// nats-server ignores anything after these keywords.
	case OpConnect, OpInfo, OpErr:
		c.Arg = arg
	case OpSub:
		var a [3][]byte
		switch args := split(arg, a[:0]); len(args) {
		case 2:
			c.Subject, c.Sid = args[0], args[1]
		case 3:
			c.Subject, c.Queue, c.Sid = args[0], args[1], args[2]
		default:
			return 0, malformed("SUB", arg)
		}
	case OpUnsub:
		var a [2][]byte
		switch args := split(arg, a[:0]); len(args) {
		case 1:
			c.Sid = args[0]
		case 2:
			// A malformed count unsubscribes at once, as in nats-server.
			c.Sid, c.Max = args[0], parseSize(args[1])
		default:
			return 0, malformed("UNSUB", arg)
		}
	}
	return end, nil
}

// parseMsg finishes a PUB or HPUB whose control line ends at data[end-1].
func (p *Parser) parseMsg(data []byte, end int, arg []byte, c *Cmd) (int, error) {
	var a [4][]byte
	args := split(arg, a[:0])
	c.HdrLen, c.Reply, c.Msg, c.HdrArg = 0, nil, nil, nil
	if c.Op == OpPub {
		switch len(args) {
		case 2:
			c.Subject = args[0]
		case 3:
			c.Subject, c.Reply = args[0], args[1]
		default:
			return 0, malformed("PUB", arg)
		}
	} else {
		switch len(args) {
		case 3:
			c.Subject = args[0]
		case 4:
			c.Subject, c.Reply = args[0], args[1]
		default:
			return 0, malformed("HPUB", arg)
		}
		c.HdrArg = args[len(args)-2]
		c.HdrLen = parseSize(c.HdrArg)
		if c.HdrLen < 0 {
			return 0, malformed("HPUB", arg)
		}
	}
	c.SizeArg = args[len(args)-1]
	c.Size = parseSize(c.SizeArg)
	if c.Size < 0 || c.HdrLen > c.Size {
		return 0, malformed(c.Op.String(), arg)
	}
	if c.Size > p.MaxPayload {
		return 0, &Error{Text: ErrTextMaxPayload, Detail: fmt.Sprintf("%d bytes, max %d", c.Size, p.MaxPayload)}
	}
	total := end + c.Size + 2
	if len(data) < total {
		p.Want = total
		return 0, nil
	}
	if data[total-2] != '\r' || data[total-1] != '\n' {
		return 0, unknownOp(fmt.Sprintf("%s payload not followed by CRLF", c.Op))
	}
	c.Msg = data[end:total]
	return total, nil
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// split appends the space- or tab-separated fields of b to args. With more
// fields than args has room for it returns nil, which every caller treats as
// malformed; it never grows args, so callers' arrays stay on the stack.
func split(b []byte, args [][]byte) [][]byte {
	start := -1
	for i, ch := range b {
		if ch == ' ' || ch == '\t' {
			if start >= 0 {
				if len(args) == cap(args) {
					return nil
				}
				args = append(args, b[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		if len(args) == cap(args) {
			return nil
		}
		args = append(args, b[start:])
	}
	return args
}

// parseSize parses a non-negative decimal of at most 9 digits, returning -1
// for anything else. nats-server uses the same bound.
func parseSize(d []byte) int {
	if len(d) == 0 || len(d) > 9 {
		return -1
	}
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
