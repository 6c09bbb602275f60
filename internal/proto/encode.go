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
func MsgHeaderLen(subject, sid, reply []byte, hdrLen, size int) int {
	n := len("MSG ") + len(subject) + 1 + len(sid) + 1 + digits(size) + 2
	if len(reply) > 0 {
		n += len(reply) + 1
	}
	if hdrLen > 0 {
		n += 1 + digits(hdrLen)
	}
	return n
}

// AppendMsgHeader appends the control line of a delivery: MSG when hdrLen is
// 0, HMSG otherwise. size counts headers and payload. The payload and its
// CRLF follow separately.
func AppendMsgHeader(b, subject, sid, reply []byte, hdrLen, size int) []byte {
	if hdrLen > 0 {
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
	if hdrLen > 0 {
		b = strconv.AppendInt(b, int64(hdrLen), 10)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, '\r', '\n')
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// NoRespondersHeader is the header block of the status message a requester
// receives when nobody is subscribed to its request subject.
const NoRespondersHeader = "NATS/1.0 503\r\n\r\n"

// AppendNoResponders appends the 503 status message for a request that found
// no subscribers, addressed to the requester's reply subscription sid.
func AppendNoResponders(b, reply, sid []byte) []byte {
	b = AppendMsgHeader(b, reply, sid, nil, len(NoRespondersHeader), len(NoRespondersHeader))
	b = append(b, NoRespondersHeader...)
	return append(b, '\r', '\n')
}
