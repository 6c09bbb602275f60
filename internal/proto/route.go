package proto

import (
	"bytes"
	"fmt"
)

// The route protocol is what servers of one cluster send each other: the
// same INFO, CONNECT, PING, PONG, +OK and -ERR as clients, plus interest
// (RS+, RS-) and messages (RMSG, HMSG) qualified by account. LS+, LS- and
// LMSG are the same operations for interest and messages that entered the
// cluster through a leafnode, carrying the leafnode's cluster name (the
// "origin"). The parser follows what nats-server 2.9 to 2.11 send and
// accept; docs/clustering.md describes the forms.

// RouteOp is a route protocol operation.
type RouteOp uint8

// The operations a route peer may send.
const (
	RouteOpNone      RouteOp = iota
	RouteOpInfo              // INFO {json}
	RouteOpConnect           // CONNECT {json}
	RouteOpPing              // PING
	RouteOpPong              // PONG
	RouteOpOK                // +OK
	RouteOpErr               // -ERR text
	RouteOpSub               // RS+ [account] subject [queue weight]
	RouteOpUnsub             // RS- [account] subject [queue]
	RouteOpLeafSub           // LS+ origin [account] subject [queue weight]
	RouteOpLeafUnsub         // LS- [origin] [account] subject [queue]
	RouteOpMsg               // RMSG [account] subject [reply | + reply queues | '|' queues] size
	RouteOpHMsg              // HMSG as RMSG with a header size before the size
	RouteOpLeafMsg           // LMSG origin, then as HMSG
)

var routeOpNames = [...]string{"NONE", "INFO", "CONNECT", "PING", "PONG", "+OK", "-ERR", "RS+", "RS-", "LS+", "LS-", "RMSG", "HMSG", "LMSG"}

func (o RouteOp) String() string {
	if int(o) < len(routeOpNames) {
		return routeOpNames[o]
	}
	return fmt.Sprintf("RouteOp(%d)", o)
}

// Limits and defaults of the route parser. nats-server applies neither
// max_control_line nor max_payload to routes: a routed message was
// already checked against the publishing server's own limit, which may be
// larger than ours, and an RS+ line is a client's subject with an account
// in front. So the route defaults are ceilings against a broken peer, not
// the client limits.
const (
	// DefaultRouteMaxControlLine bounds the arguments of one route line.
	DefaultRouteMaxControlLine = 64 * 1024
	// DefaultRouteMaxPayload is nats-server's default max_pending, which
	// bounds any max_payload it accepts unless max_pending is raised too.
	DefaultRouteMaxPayload = 64 * 1024 * 1024
	// MaxRouteQueues bounds the queue groups one routed message may name.
	// nats-server has no limit, but one message matching more than this
	// many distinct queue groups on one server is not a real workload.
	MaxRouteQueues = 1024
)

// inlineQueues is how many queue names a RouteCmd holds without
// allocating; more spill into a slice the RouteCmd keeps for reuse.
const inlineQueues = 16

// RouteCmd is one parsed route operation. Its slices alias the buffer given
// to Parse and are valid only until that buffer is reused; Queues is also
// overwritten by the next Parse into the same RouteCmd.
type RouteCmd struct {
	Op RouteOp

	// Origin is the leafnode cluster of LS+, LMSG, and of LS- when the
	// parser expects it (RouteParser.LeafUnsubOrigin).
	Origin []byte
	// Account of interest and messages: from the line, or the parser's
	// pinned account.
	Account []byte
	Subject []byte
	// Queue and Weight: the queue group of RS+, RS-, LS+, LS- (nil for plain
	// interest), and for RS+ and LS+ how many members the sender has in it.
	Queue  []byte
	Weight int

	// Reply, Queues and sizes of RMSG, HMSG and LMSG. Queues are the queue
	// groups the sending server picked this one to deliver to; a message
	// with queues goes only to those groups and to plain subscribers.
	Reply   []byte
	Queues  [][]byte
	HdrLen  int    // header bytes at the start of Msg; 0 for RMSG
	Size    int    // header and payload bytes
	HdrArg  []byte // HMSG, LMSG: the header size as the sender wrote it
	SizeArg []byte // the total size as the sender wrote it
	Msg     []byte // Size bytes followed by "\r\n"

	// Arg is the text after the keyword: the JSON of INFO and CONNECT, the
	// text of -ERR, the whole argument line of the others (for tracing).
	Arg []byte

	queueBuf   [inlineQueues][]byte
	queueSpill [][]byte
}

// Payload returns the message bytes after the headers, without the trailing
// CRLF.
func (c *RouteCmd) Payload() []byte { return c.Msg[c.HdrLen:c.Size] }

// Header returns the header block of an HMSG or LMSG, nil for an RMSG.
func (c *RouteCmd) Header() []byte { return c.Msg[:c.HdrLen] }

// reset clears the fields without touching the queue storage, which a
// whole-struct assignment would zero on every call.
func (c *RouteCmd) reset(op RouteOp) {
	c.Op = op
	c.Origin, c.Account, c.Subject, c.Queue, c.Weight = nil, nil, nil, nil, 0
	c.Reply, c.Queues, c.HdrLen, c.Size, c.HdrArg, c.SizeArg, c.Msg, c.Arg = nil, nil, 0, 0, nil, nil, nil, nil
}

// RouteParser splits route input into operations. Like Parser it keeps no
// state between calls: an incomplete operation is parsed again, whole, once
// more input has arrived. It is a type of its own rather than a mode of
// Parser so that the client hot path carries no route branches and each
// command type has only the fields its protocol uses.
type RouteParser struct {
	MaxControlLine int // bytes of arguments on one control line
	MaxPayload     int // bytes of headers and payload in one message

	// Account pins the route to one account (nats-server's per-account
	// routes: cluster { accounts: [...] }, announced as route_account in
	// INFO). Interest and message lines then leave the account out, and
	// every RouteCmd carries this one. Empty for a shared route.
	Account []byte

	// LeafUnsubOrigin makes LS- carry the origin cluster first. A
	// nats-server puts it there, and expects it from its peer, exactly when
	// that peer announced lnocu; so set this to whether this server
	// announced lnocu on the connection.
	LeafUnsubOrigin bool

	// Want is set when Parse returns 0 bytes and the operation's total length
	// is known (its control line is complete): the caller needs Want bytes
	// from the start of the operation before it can be parsed.
	Want int
}

// NewRouteParser returns a parser for a shared (not pinned) route with the
// route defaults.
func NewRouteParser() *RouteParser {
	return &RouteParser{MaxControlLine: DefaultRouteMaxControlLine, MaxPayload: DefaultRouteMaxPayload}
}

type routeKeyword struct {
	word  string
	op    RouteOp
	space bool // must be followed by a space or tab
}

var rmsgKeyword = &routeKeywords['R'][0]

// routeKeywords by upper-cased first byte, matched case-insensitively as
// nats-server does. Client operations (PUB, HPUB, SUB, UNSUB, MSG) and the
// gateway's A+ and A- are not route operations: they are unknown here.
var routeKeywords = [256][]routeKeyword{
	'R': {{"RMSG", RouteOpMsg, true}, {"RS+", RouteOpSub, true}, {"RS-", RouteOpUnsub, true}},
	'H': {{"HMSG", RouteOpHMsg, true}},
	'L': {{"LMSG", RouteOpLeafMsg, true}, {"LS+", RouteOpLeafSub, true}, {"LS-", RouteOpLeafUnsub, true}},
	'P': {{"PING", RouteOpPing, false}, {"PONG", RouteOpPong, false}},
	'I': {{"INFO", RouteOpInfo, false}},
	'C': {{"CONNECT", RouteOpConnect, false}},
	'+': {{"+OK", RouteOpOK, false}},
	'-': {{"-ERR", RouteOpErr, true}},
}

// How the start of the input compares with a keyword.
const (
	wordMismatch = iota
	wordPartial  // the input is a strict prefix: more bytes are needed
	wordMatch
)

// matchWord compares the start of data with word, case-insensitively from
// the second byte on (the table lookup matched the first). With space set,
// the keyword must be followed by a space or tab. It reads keywords exactly
// as the client parser's keywordAt does; keywordAt keeps its own inline
// loop because calling this from it measurably slowed client parsing.
func matchWord(data []byte, word string, space bool) int {
	n := min(len(word), len(data))
	for j := 1; j < n; j++ {
		if upper(data[j]) != word[j] {
			return wordMismatch
		}
	}
	if len(data) < len(word) {
		return wordPartial
	}
	if space {
		if len(data) == len(word) {
			return wordPartial
		}
		if c := data[len(word)]; c != ' ' && c != '\t' {
			return wordMismatch
		}
	}
	return wordMatch
}

// routeKeywordAt identifies the operation at the start of data: nil and a
// nil error when data is a strict prefix of a keyword.
func routeKeywordAt(data []byte) (*routeKeyword, error) {
	if len(data) > 4 && upper(data[0]) == 'R' && upper(data[1]) == 'M' && upper(data[2]) == 'S' &&
		upper(data[3]) == 'G' && (data[4] == ' ' || data[4] == '\t') {
		return rmsgKeyword, nil // the hot path: skip the table walk
	}
	cands := routeKeywords[upper(data[0])]
	partial := false
	for i := range cands {
		k := &cands[i]
		switch matchWord(data, k.word, k.space) {
		case wordMatch:
			return k, nil
		case wordPartial:
			partial = true
		}
	}
	if partial {
		return nil, nil
	}
	return nil, unknownOp(fmt.Sprintf("unexpected %q on a route", snippet(data)))
}

// Parse parses the operation at the start of data into c and returns how
// many bytes it used. It returns 0 and a nil error when data holds only part
// of an operation; then p.Want tells how many bytes the whole operation takes
// if that is already known. A non-nil error is a *Error and ends the
// connection.
func (p *RouteParser) Parse(data []byte, c *RouteCmd) (int, error) {
	p.Want = 0
	if len(data) == 0 {
		return 0, nil
	}
	kw, err := routeKeywordAt(data)
	if kw == nil {
		return 0, err
	}
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		// Bound what a peer can make us hold while waiting for a newline.
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
	c.reset(kw.op)
	switch kw.op {
	case RouteOpPing, RouteOpPong, RouteOpOK:
		// nats-server ignores anything after these keywords.
		return end, nil
	}
	c.Arg = arg
	switch kw.op {
	case RouteOpMsg, RouteOpHMsg, RouteOpLeafMsg:
		return p.parseMsg(data, end, arg, c)
	case RouteOpSub, RouteOpUnsub, RouteOpLeafSub, RouteOpLeafUnsub:
		if err := p.parseInterest(arg, c); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// parseInterest reads "[origin] [account] subject [queue [weight]]": the
// origin for LS+ (and LS- when expected), the account unless pinned, a
// weight only with the queue of a subscription.
func (p *RouteParser) parseInterest(arg []byte, c *RouteCmd) error {
	var a [5][]byte
	f := routeSplit(arg, a[:0])
	if c.Op == RouteOpLeafSub || (c.Op == RouteOpLeafUnsub && p.LeafUnsubOrigin) {
		if len(f) == 0 {
			return malformed(c.Op.String(), arg)
		}
		c.Origin, f = f[0], f[1:]
	}
	if len(p.Account) > 0 {
		c.Account = p.Account
	} else {
		if len(f) == 0 {
			return malformed(c.Op.String(), arg)
		}
		c.Account, f = f[0], f[1:]
	}
	if len(f) == 0 {
		return malformed(c.Op.String(), arg)
	}
	c.Subject, f = f[0], f[1:]
	sub := c.Op == RouteOpSub || c.Op == RouteOpLeafSub
	switch {
	case len(f) == 0:
	case sub && len(f) == 2:
		// nats-server takes an unreadable weight as -1 and goes on; no
		// server writes one, so it is treated as the broken line it is.
		c.Queue, c.Weight = f[0], parseSize(f[1])
		if c.Weight < 0 {
			return malformed(c.Op.String(), arg)
		}
	case !sub && len(f) == 1:
		c.Queue = f[0]
	default:
		return malformed(c.Op.String(), arg)
	}
	return nil
}

// parseMsg finishes an RMSG, HMSG or LMSG whose control line ends at
// data[end-1]. Fixed fields are taken from the front (origin, account,
// subject) and the back (header size, size); what is left between them is
// empty, a reply, or a reply indicator ('+' reply, or '|') and queue names.
func (p *RouteParser) parseMsg(data []byte, end int, arg []byte, c *RouteCmd) (int, error) {
	rest := arg
	if c.Op == RouteOpLeafMsg {
		if c.Origin, rest = firstField(rest); c.Origin == nil {
			return 0, malformed(c.Op.String(), arg)
		}
	}
	if len(p.Account) > 0 {
		c.Account = p.Account
	} else if c.Account, rest = firstField(rest); c.Account == nil {
		return 0, malformed(c.Op.String(), arg)
	}
	if c.Subject, rest = firstField(rest); c.Subject == nil {
		return 0, malformed(c.Op.String(), arg)
	}
	if c.SizeArg, rest = lastField(rest); c.SizeArg == nil {
		return 0, malformed(c.Op.String(), arg)
	}
	if c.Op != RouteOpMsg {
		if c.HdrArg, rest = lastField(rest); c.HdrArg == nil {
			return 0, malformed(c.Op.String(), arg)
		}
	}
	if err := c.parseReplyAndQueues(rest, arg); err != nil {
		return 0, err
	}
	if c.HdrArg != nil {
		if c.HdrLen = parseSize(c.HdrArg); c.HdrLen < 0 {
			return 0, malformed(c.Op.String(), arg)
		}
	}
	c.Size = parseSize(c.SizeArg)
	if c.Size < 0 || c.HdrLen > c.Size {
		return 0, malformed(c.Op.String(), arg)
	}
	if c.Size > p.MaxPayload {
		return 0, &Error{Text: ErrTextMaxPayload, Detail: fmt.Sprintf("%s of %d bytes, max %d", c.Op, c.Size, p.MaxPayload)}
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

// parseReplyAndQueues reads the fields between the subject and the sizes.
// One field is a plain reply (even "+" or "|"); with more, the first must
// be the indicator: "+ reply queue..." or "| queue...".
func (c *RouteCmd) parseReplyAndQueues(mid, arg []byte) error {
	first, rest := firstField(mid)
	if first == nil {
		return nil
	}
	second, after := firstField(rest)
	if second == nil {
		c.Reply = first
		return nil
	}
	if len(first) != 1 || (first[0] != '+' && first[0] != '|') {
		return &Error{Detail: fmt.Sprintf("%s: bad reply indicator %q in %q", c.Op, snippet(first), snippet(arg))}
	}
	if first[0] == '+' {
		c.Reply = second
		return c.collectQueues(after)
	}
	return c.collectQueues(rest)
}

// collectQueues sets c.Queues to the fields of b, in the inline array while
// they fit and in the reusable spill slice beyond.
func (c *RouteCmd) collectQueues(b []byte) error {
	q := c.queueBuf[:0]
	inline := true
	for {
		f, rest := firstField(b)
		if f == nil {
			break
		}
		if len(q) == MaxRouteQueues {
			return &Error{Detail: fmt.Sprintf("%s: more than %d queue groups", c.Op, MaxRouteQueues)}
		}
		if inline && len(q) == len(c.queueBuf) {
			q = append(c.queueSpill[:0], q...)
			inline = false
		}
		q = append(q, f)
		b = rest
	}
	if !inline {
		c.queueSpill = q
	}
	if len(q) > 0 {
		c.Queues = q
	}
	return nil
}

// routeSpace reports the bytes that separate route arguments. nats-server
// splits route lines on CR as well as space and tab.
func routeSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' }

// firstField returns the first field of b and what follows it, or nil
// when b holds none.
func firstField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && routeSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !routeSpace(b[j]) {
		j++
	}
	if i == j {
		return nil, nil
	}
	return b[i:j], b[j:]
}

// lastField returns the last field of b and what precedes it, or nil when
// b holds none.
func lastField(b []byte) (field, rest []byte) {
	j := len(b)
	for j > 0 && routeSpace(b[j-1]) {
		j--
	}
	i := j
	for i > 0 && !routeSpace(b[i-1]) {
		i--
	}
	if i == j {
		return nil, nil
	}
	return b[i:j], b[:i]
}

// routeSplit appends the fields of b to args, returning nil when there are
// more than args has room for (every caller treats that as malformed).
func routeSplit(b []byte, args [][]byte) [][]byte {
	for {
		f, rest := firstField(b)
		if f == nil {
			return args
		}
		if len(args) == cap(args) {
			return nil
		}
		args = append(args, f)
		b = rest
	}
}
