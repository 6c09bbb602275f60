package proto

import "fmt"

// Error is a protocol error found while parsing client input. Text, when not
// empty, is what the server sends back as -ERR; nats-server closes some
// connections silently (malformed arguments), so Text may be empty. Every
// parse error ends the connection: the parser cannot find the start of the
// next operation once it has lost sync.
type Error struct {
	Text   string // the -ERR text, without quotes
	Detail string // what went wrong, for logs
}

func (e *Error) Error() string {
	if e.Text == "" {
		return "protocol error: " + e.Detail
	}
	if e.Detail == "" {
		return e.Text
	}
	return e.Text + ": " + e.Detail
}

// The client-visible error texts, as nats-server words them.
const (
	ErrTextUnknownOp          = "Unknown Protocol Operation"
	ErrTextRoutePort          = "attempted to connect to route port"
	ErrTextMaxPayload         = "Maximum Payload Violation"
	ErrTextMaxControlLine     = "maximum control line exceeded"
	ErrTextInvalidSubject     = "Invalid Subject"
	ErrTextInvalidPubSubject  = "Invalid Publish Subject"
	ErrTextAuthViolation      = "Authorization Violation"
	ErrTextAuthTimeout        = "Authentication Timeout"
	ErrTextStaleConnection    = "Stale Connection"
	ErrTextSlowConsumer       = "Slow Consumer"
	ErrTextMaxConnections     = "maximum connections exceeded"
	ErrTextMaxSubscriptions   = "maximum subscriptions exceeded"
	ErrTextBadClientProtocol  = "invalid client protocol"
	ErrTextNoRespondersNeedsH = "no responders requires headers support"
	ErrTextTLSRequired        = "Secure Connection - TLS Required"
)

func unknownOp(detail string) *Error {
	return &Error{Text: ErrTextUnknownOp, Detail: detail}
}

func malformed(op string, arg []byte) *Error {
	return &Error{Detail: fmt.Sprintf("%s: malformed arguments %q", op, snippet(arg))}
}

// snippet bounds what a log line quotes from client input.
func snippet(b []byte) []byte {
	const max = 64
	if len(b) > max {
		return b[:max]
	}
	return b
}
