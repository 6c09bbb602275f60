package proto

import "strconv"

// Fixed server-to-client lines.
var (
	PingLine = []byte("PING\r\n")
	PongLine = []byte("PONG\r\n")
	OKLine   = []byte("+OK\r\n")
)

// ErrLine returns the -ERR line for text, quoted as nats-server quotes it.
func ErrLine(text string) []byte {
	return []byte("-ERR '" + text + "'\r\n")
}

// MsgHeaderLen is the length of the control line AppendMsgHeader writes, so
// callers can reserve room before writing.
func MsgHeaderLen(subject, sid, reply, hdrArg, sizeArg []byte) int {
	n := len("MSG ") + len(subject) + 1 + len(sid) + 1 + len(sizeArg) + 2
	if len(reply) > 0 {
		n += len(reply) + 1
	}
	if len(hdrArg) > 0 {
		n += 2 + len(hdrArg) // "H" and a space
	}
	return n
}

// AppendMsgHeader appends the control line of a delivery: HMSG when hdrArg
// is set, MSG otherwise. Sizes are the decimal tokens to send; nats-server
// repeats the publisher's own tokens byte for byte (leading zeros and all),
// and so do we. The payload and its CRLF follow separately.
func AppendMsgHeader(b, subject, sid, reply, hdrArg, sizeArg []byte) []byte {
	if len(hdrArg) > 0 {
		b = append(b, "HMSG "...)
	} else {
		b = append(b, "MSG "...)
	}
	b = append(b, subject...)
	b = append(b, ' ')
	b = append(b, sid...)
	b = append(b, ' ')
	if len(reply) > 0 {
		b = append(b, reply...)
		b = append(b, ' ')
	}
	if len(hdrArg) > 0 {
		b = append(b, hdrArg...)
		b = append(b, ' ')
	}
	b = append(b, sizeArg...)
	return append(b, '\r', '\n')
}

// AppendSize appends n in decimal, for sizes the server computes itself.
func AppendSize(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

// NoRespondersHeader is the header block of the status message a requester
// receives when nobody is subscribed to its request subject. This is the
// form of nats-server 2.9 and 2.10, the feature level Starling reports;
// 2.12 added a Nats-Subject header, which clients do not need.
const NoRespondersHeader = "NATS/1.0 503\r\n\r\n"

// AppendNoResponders appends the 503 status message for a request that found
// no subscribers, addressed to the requester's reply subscription sid.
func AppendNoResponders(b, reply, sid []byte) []byte {
	size := []byte(strconv.Itoa(len(NoRespondersHeader)))
	b = AppendMsgHeader(b, reply, sid, nil, size, size)
	b = append(b, NoRespondersHeader...)
	return append(b, '\r', '\n')
}
