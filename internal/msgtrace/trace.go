package msgtrace

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/starling-mq/starling/internal/subject"
)

// Trace is the event being built for one traced message, with what the
// server needs to act on it. It belongs to the goroutine routing the
// message; a stream fills its JetStream entry on that same goroutine.
type Trace struct {
	// Dest is the subject the event is published to.
	Dest string
	// Only: trace the message but do not deliver it (Nats-Trace-Only).
	Only bool
	// Encoding compresses the event (the message's Accept-Encoding).
	Encoding Encoding
	// Event is the event so far.
	Event Event
}

// Start begins the trace of a message. hdr is its header block, found
// what Scan said of it, size the message's size with headers, and in the
// ingress entry without its type and time. It returns nil when the
// message is not traced.
//
// A destination that is not a valid literal subject is an error: the
// message is then not traced, unless it asked for trace-only, in which
// case it is still not delivered (applications must not see a message
// meant only for tracing) and the event goes wherever the destination
// leads. A traceparent alone would need the account's trace destination;
// Starling has no accounts to configure one, so, as nats-server with none
// configured, such messages are delivered untraced.
func Start(hdr []byte, found Found, size int, in Ingress) (*Trace, error) {
	if !found.Traceable() {
		return nil, nil
	}
	m := headerMap(hdr)
	t := &Trace{
		Dest:     first(m, HeaderDest),
		Only:     traceOnlyValue(first(m, HeaderOnly)),
		Encoding: ParseEncoding(first(m, HeaderAcceptEncoding)),
	}
	var err error
	if !subject.ValidLiteral(t.Dest) {
		err = fmt.Errorf("trace destination %q is not valid, won't be able to trace events", t.Dest)
		if !t.Only {
			return nil, err
		}
	}
	in.Base = Base{Type: TypeIngress, Timestamp: time.Now()}
	t.Event = Event{
		Request: Request{Header: m, MsgSize: size},
		Events:  Events{&in},
	}
	return t, err
}

// StartRefused builds the event of a message refused before it could be
// read, from the start of it that was read (buf, which holds at least part
// of the header block): nats-server reports a message over the maximum
// payload this way. It returns nil when buf names no destination.
func StartRefused(buf []byte, size int, in Ingress, reason string) *Trace {
	dest := Value(buf, HeaderDest)
	if dest == "" {
		return nil
	}
	in.Base = Base{Type: TypeIngress, Timestamp: time.Now()}
	in.Error = reason
	return &Trace{
		Dest:     dest,
		Encoding: ParseEncoding(Value(buf, HeaderAcceptEncoding)),
		Event: Event{
			Request: Request{MsgSize: size},
			Events:  Events{&in},
		},
	}
}

// SetIngressError records why the server refused the message.
func (t *Trace) SetIngressError(text string) {
	if in := t.Event.Ingress(); in != nil {
		in.Error = text
	}
}

// AddEgress records a delivery (errText empty) or why one did not happen.
func (t *Trace) AddEgress(e Egress) {
	e.Base = Base{Type: TypeEgress, Timestamp: time.Now()}
	t.Event.Events = append(t.Event.Events, &e)
}

// AddJetStream adds the entry of a stream the message was offered to and
// returns it for the stream to fill in.
func (t *Trace) AddJetStream(stream string) *JetStream {
	js := &JetStream{Base: Base{Type: TypeJetStream, Timestamp: time.Now()}, Stream: stream}
	t.Event.Events = append(t.Event.Events, js)
	return js
}

// Encode returns the event message: its header block (nil or a
// Content-Encoding) and its body, JSON compressed as the publisher asked.
func (t *Trace) Encode(si ServerInfo) (hdr, body []byte, err error) {
	t.Event.Server = si
	body, err = json.Marshal(&t.Event)
	if err != nil {
		return nil, nil, fmt.Errorf("encode trace event: %w", err)
	}
	var name string
	var buf bytes.Buffer
	switch t.Encoding {
	case EncodingNone:
		return nil, body, nil
	case EncodingUnsupported:
		name = "identity"
	case EncodingGzip:
		name = "gzip"
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(body); err != nil {
			return nil, nil, fmt.Errorf("compress trace event: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, nil, fmt.Errorf("compress trace event: %w", err)
		}
		body = buf.Bytes()
	case EncodingSnappy:
		name = "snappy"
		// One block at a time, on this goroutine: events are small.
		sw := s2.NewWriter(&buf, s2.WriterSnappyCompat(), s2.WriterConcurrency(1))
		if _, err := sw.Write(body); err != nil {
			return nil, nil, fmt.Errorf("compress trace event: %w", err)
		}
		if err := sw.Close(); err != nil {
			return nil, nil, fmt.Errorf("compress trace event: %w", err)
		}
		body = buf.Bytes()
	}
	hdr = []byte(headerLine + HeaderContentEncoding + ": " + name + "\r\n\r\n")
	return hdr, body, nil
}
