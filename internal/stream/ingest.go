package stream

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
)

// Headers a publisher sets to steer storage.
const (
	hdrMsgID            = "Nats-Msg-Id"
	hdrExpectedStream   = "Nats-Expected-Stream"
	hdrExpectedLastSeq  = "Nats-Expected-Last-Sequence"
	hdrExpectedSubjSeq  = "Nats-Expected-Last-Subject-Sequence"
	hdrExpectedSubjSubj = "Nats-Expected-Last-Subject-Sequence-Subject"
	hdrExpectedLastID   = "Nats-Expected-Last-Msg-Id"
	hdrRollup           = "Nats-Rollup"
	hdrTTL              = "Nats-TTL"
	hdrMarkerReason     = "Nats-Marker-Reason"
)

// Store-level refusals, worded as nats-server's store errors since clients
// show them verbatim.
var (
	errMaxMsgs        = errors.New("maximum messages exceeded")
	errMaxBytes       = errors.New("maximum bytes exceeded")
	errMaxMsgsPerSubj = errors.New("maximum messages per subject exceeded")
	errMsgTooLarge    = errors.New("message too large")
)

// maxFileMsgSize bounds one stored record, as nats-server's file store.
const maxFileMsgSize = 64 << 20

func buildAckPrefix(name, domain string) []byte {
	b := []byte(`{"stream":`)
	b = strconv.AppendQuote(b, name)
	if domain != "" {
		b = append(b, `,"domain":`...)
		b = strconv.AppendQuote(b, domain)
	}
	return append(b, `,"seq":`...)
}

func headerValue(hdr []byte, key string) (string, bool) {
	if len(hdr) == 0 {
		return "", false
	}
	return proto.HeaderValue(hdr, key)
}

// badSeq stands for an expected sequence that is not a number: no stream
// reaches it, so the expectation fails, as in nats-server (which reads
// such a value as -1 and compares it unsigned). Ignoring the header would
// silently drop the publisher's concurrency guard.
const badSeq = math.MaxUint64

// headerUint returns a header parsed as an unsigned number. An empty
// value counts as absent; a value that is not a decimal number in range
// ("abc", "-1", 20 digits past 2^64-1) reads as badSeq.
func headerUint(hdr []byte, key string) (uint64, bool) {
	v, ok := headerValue(hdr, key)
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return badSeq, true
	}
	return n, true
}

// ParseTTL reads a Nats-TTL value: "never", a Go duration of at least a
// second, or whole seconds. It returns seconds (-1 for never).
func ParseTTL(v string) (int64, error) {
	if strings.EqualFold(v, "never") {
		return -1, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < time.Second {
			return 0, errors.New("ttl below one second")
		}
		return int64(d / time.Second), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("invalid ttl")
	}
	return n, nil
}

// result is what happened to one published message.
type result struct {
	seq    uint64
	dup    bool
	err    *jsapi.ApiError
	traced bool // trace only: checked, not stored, no ack (trace.go)
	// expect marks err as an expectation's refusal (Nats-Expected-*);
	// inFlight is then the last proposal in flight it rests on (0: none).
	expect   bool
	inFlight uint64
}

// Ingest handles a message published on one of the stream's subjects.
// When reply is set the publisher gets a PubAck once the message is
// durable, or an error at once. The slices may alias a read buffer: they
// are not kept after Ingest returns.
func (s *Stream) Ingest(subject, reply string, hdr, data []byte) {
	s.ingest(subject, reply, hdr, data, nil)
}

func (s *Stream) ingest(subject, reply string, hdr, data []byte, tr *Trace) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		tr.closed()
		return
	}
	if s.itr != nil {
		if t, ok := s.itr.Apply(subject); ok {
			subject = t
		}
	}
	s.tracing = tr
	r := s.storeLocked(subject, hdr, data)
	s.tracing = nil
	s.traceOutcomeLocked(tr, subject, hdr, r)
	noAck := s.cfg.NoAck
	s.mu.Unlock()
	if reply == "" || noAck || r.traced {
		return
	}
	switch {
	case r.err != nil:
		s.sendError(reply, r.err)
	case r.dup:
		s.send(reply, dupAck(s.ackPrefix, r.seq))
	default:
		a := &ackReq{s: s, reply: reply, seq: r.seq}
		a.inline.Store(true)
		s.st.Durable(r.seq, a.done)
		a.inline.Store(false)
	}
}

// dupAck is a duplicate's ack. nats-server writes this one by hand,
// space included.
func dupAck(prefix []byte, seq uint64) []byte {
	b := strconv.AppendUint(append([]byte(nil), prefix...), seq, 10)
	return append(b, `,"duplicate": true}`...)
}

func (s *Stream) send(reply string, b []byte) {
	if _, err := s.out.Publish(reply, "", nil, b); err != nil {
		s.log.Debug("ack not sent", "err", err)
	}
}

func (s *Stream) sendError(reply string, e *jsapi.ApiError) {
	s.send(reply, pubAckError(s.Name(), e))
}

// pubAckError is a publish's error reply, naming the stream as
// nats-server's does.
func pubAckError(stream string, e *jsapi.ApiError) []byte {
	b, err := json.Marshal(jsapi.PubAckResponse{Error: e, PubAck: &jsapi.PubAck{Stream: stream}})
	if err != nil {
		return nil
	}
	return b
}

func storeFailed(err error) *jsapi.ApiError {
	return jsapi.NewError(jsapi.ErrStreamStoreFailed, jsapi.PathFree(err))
}

// storeLocked handles one message: propose decides, apply carries the
// decision out, then the local follow-ups run.
func (s *Stream) storeLocked(subject string, hdr, data []byte) result {
	var e Entry
	r, ok := s.proposeLocked(subject, hdr, data, &e)
	if !ok {
		return r
	}
	r = s.applyLocked(&e)
	if r.err == nil && e.Kind == EntryMsg {
		s.afterStoreLocked(e.TTL)
	}
	return r
}

// afterStoreLocked runs what follows a stored message on this server
// only: arming the expiry timer and waking consumers, mirrors and
// sources. In a replicated stream the timer only runs on the leader, to
// report what is due (ops.go).
func (s *Stream) afterStoreLocked(ttl int64) {
	if s.cfg.MaxAge > 0 || ttl > 0 {
		s.scheduleLocked()
	}
	if len(s.listeners) > 0 {
		s.notifyLocked()
	}
}

// appendHeader adds a "Key: Value" line to a header block, creating one
// when hdr is empty.
func appendHeader(hdr []byte, key, value string) []byte {
	if len(hdr) < len(proto.HeaderPrefix)+4 {
		return proto.NewHeader(0, "").Add(key, value).Bytes()
	}
	out := make([]byte, 0, len(hdr)+len(key)+len(value)+4)
	out = append(out, hdr[:len(hdr)-2]...)
	out = append(out, key...)
	out = append(out, ": "...)
	out = append(out, value...)
	return append(out, "\r\n\r\n"...)
}
