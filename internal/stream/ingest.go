package stream

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
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
		// nats-server writes this one by hand, space included.
		b := strconv.AppendUint(append([]byte(nil), s.ackPrefix...), r.seq, 10)
		s.send(reply, append(b, `,"duplicate": true}`...))
	default:
		a := &ackReq{s: s, reply: reply, seq: r.seq}
		a.inline.Store(true)
		s.st.Durable(r.seq, a.done)
		a.inline.Store(false)
	}
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

// storeLocked runs nats-server's checks in nats-server's order, then
// stores the message and applies limits.
func (s *Stream) storeLocked(subject string, hdr, data []byte) result {
	cfg := &s.cfg
	size := store.FileMsgSize(subject, hdr, data)
	if cfg.Storage == jsapi.MemoryStorage {
		size = store.MemMsgSize(subject, hdr, data)
	} else if size > maxFileMsgSize {
		return result{err: storeFailed(errMsgTooLarge)}
	}
	if cfg.Sealed {
		return result{err: jsapi.NewError(jsapi.ErrStreamSealed)}
	}
	var msgID string
	var ttl int64
	var rollupSub, rollupAll bool
	if len(hdr) > 0 {
		if e := batchRefused(cfg, hdr); e != nil {
			return s.batchResult(size, hdr, data, e)
		}
		if e := counterRefused(cfg, hdr); e != nil {
			return result{err: e}
		}
		if name, ok := headerValue(hdr, hdrExpectedStream); ok && name != "" && name != cfg.Name {
			return result{err: jsapi.NewError(jsapi.ErrStreamNotMatch)}
		}
		ttlStr, hasTTL := headerValue(hdr, hdrTTL)
		var ttlErr error
		if hasTTL {
			ttl, ttlErr = ParseTTL(ttlStr)
			if ttlErr == nil && ttl != 0 && !cfg.AllowMsgTTL {
				return result{err: jsapi.NewError(jsapi.ErrMessageTTLDisabled)}
			}
		}
		if want, last, ok := s.subjectSeqCheck(subject, hdr); ok {
			if last != want {
				return result{err: jsapi.NewError(jsapi.ErrStreamWrongLastSequence, last)}
			}
		} else if alt, ok := headerValue(hdr, hdrExpectedSubjSubj); ok && alt != "" {
			return result{err: jsapi.NewError(jsapi.ErrStreamExpectedLastSeqPerSubjectInvalid)}
		}
		if want, ok := headerUint(hdr, hdrExpectedLastSeq); ok {
			if last := s.st.State().LastSeq; want != last {
				return result{err: jsapi.NewError(jsapi.ErrStreamWrongLastSequence, last)}
			}
		}
		if e := scheduleRefused(cfg, subject, hdr); e != nil {
			return result{err: e}
		}
		if id, ok := headerValue(hdr, hdrMsgID); ok && id != "" {
			msgID = id
			if cfg.Mirror == nil {
				if seq, dup := s.dedup.find(id, s.now().UnixNano()); dup {
					return result{seq: seq, dup: true}
				}
			}
		}
		if want, ok := headerValue(hdr, hdrExpectedLastID); ok && want != "" && want != s.lmsgID {
			return result{err: jsapi.NewError(jsapi.ErrStreamWrongLastMsgID, s.lmsgID)}
		}
		if v, ok := headerValue(hdr, hdrRollup); ok && v != "" {
			if !cfg.AllowRollup || cfg.DenyPurge {
				return result{err: jsapi.NewError(jsapi.ErrStreamRollupFailed, errors.New("rollup not permitted"))}
			}
			switch v {
			case "sub":
				rollupSub = true
			case "all":
				rollupAll = true
			default:
				return result{err: jsapi.NewError(jsapi.ErrStreamRollupFailed, fmt.Errorf("rollup value invalid: %q", v))}
			}
		}
		if ttlErr != nil {
			return result{err: jsapi.NewError(jsapi.ErrMessageTTLInvalid)}
		}
	}
	if max := int(cfg.MaxMsgSize); max >= 0 && (len(hdr) > max || len(data) > max-len(hdr)) {
		return result{err: jsapi.NewError(jsapi.ErrStreamMessageExceedsMaximum)}
	}
	if len(hdr) > math.MaxUint16 {
		return result{err: jsapi.NewError(jsapi.ErrStreamHeaderExceedsMaximum)}
	}
	if s.exceed != nil && s.exceed(cfg.Storage, size) {
		return result{err: jsapi.NewError(jsapi.ErrInsufficientResources)}
	}
	if s.tracing.checked(subject, cfg.Retention == jsapi.InterestPolicy && s.consumers == 0) {
		return result{traced: true}
	}
	now := s.now().UnixNano()
	if now < s.lastTS {
		now = s.lastTS
	}
	if cfg.Retention == jsapi.InterestPolicy && s.consumers == 0 {
		// Nobody could ever read it: count the sequence, keep nothing.
		seq, err := s.st.Skip()
		if err != nil {
			return result{err: storeFailed(err)}
		}
		s.lmsgID = msgID
		s.dedup.add(msgID, seq, now)
		return result{seq: seq}
	}
	if ttl > 0 && cfg.SubjectDeleteMarkerTTL > 0 && cfg.MaxMsgsPer != 1 {
		if min := int64(cfg.SubjectDeleteMarkerTTL / time.Second); ttl < min {
			ttl = min
			hdr = proto.RemoveHeader(hdr, hdrTTL)
			hdr = appendHeader(hdr, hdrTTL, strconv.FormatInt(ttl, 10))
		}
	}
	if err := s.checkDiscardNew(subject, hdr, size, rollupSub || rollupAll); err != nil {
		return result{err: storeFailed(err)}
	}
	var ttlNanos int64
	if ttl > 0 {
		ttlNanos = ttl * int64(time.Second)
	}
	var rpDest string
	var rpLast uint64
	if s.rpRule != nil {
		if rpDest = s.rpRule.destination(subject); rpDest != "" {
			rpLast = s.lastSeqLocked(subject)
		}
	}
	seq, err := s.st.Append(subject, hdr, data, now, ttlNanos)
	if err != nil {
		s.log.Error("store failed", "stream", cfg.Name, "err", err)
		return result{err: storeFailed(err)}
	}
	if rpDest != "" {
		s.republishLocked(rpDest, subject, hdr, data, seq, now, rpLast)
	}
	s.lastTS = now
	s.lmsgID = msgID
	s.dedup.add(msgID, seq, now)
	if ttlNanos > 0 {
		s.ttls.push(ttlItem{at: now + ttlNanos, seq: seq})
	}
	switch {
	case rollupSub:
		if _, err := s.st.Purge(store.PurgeRequest{Subject: subject, Seq: seq}); err != nil {
			s.log.Error("rollup failed", "stream", cfg.Name, "err", err)
		}
	case rollupAll:
		if _, err := s.st.Purge(store.PurgeRequest{Seq: seq}); err != nil {
			s.log.Error("rollup failed", "stream", cfg.Name, "err", err)
		}
	}
	s.enforceAfterAppendLocked(subject)
	if cfg.MaxAge > 0 || ttlNanos > 0 {
		s.scheduleLocked()
	}
	if len(s.listeners) > 0 {
		s.notifyLocked()
	}
	return result{seq: seq}
}

// batchResult is the answer to a message of an atomic batch: nats-server
// checks resources and message size before refusing the batch itself.
func (s *Stream) batchResult(size uint64, hdr, data []byte, refused *jsapi.ApiError) result {
	cfg := &s.cfg
	if s.exceed != nil && s.exceed(cfg.Storage, size) {
		return result{err: jsapi.NewError(jsapi.ErrInsufficientResources)}
	}
	if max := int(cfg.MaxMsgSize); max >= 0 && (len(hdr) > max || len(data) > max-len(hdr)) {
		return result{err: jsapi.NewError(jsapi.ErrStreamMessageExceedsMaximum)}
	}
	return result{err: refused}
}

// checkDiscardNew applies discard-new limits before storing, with
// nats-server's rules: a subject at its per-subject limit may still
// replace its oldest message unless discard_new_per_subject is set.
func (s *Stream) checkDiscardNew(subject string, hdr []byte, size uint64, rollup bool) error {
	cfg := &s.cfg
	if cfg.Discard != jsapi.DiscardNew {
		return nil
	}
	atSubjLimit := false
	if cfg.MaxMsgsPer > 0 {
		atSubjLimit = s.st.NumPending(0, subject, false) >= uint64(cfg.MaxMsgsPer)
	}
	if atSubjLimit && cfg.DiscardNewPer && !rollup {
		return errMaxMsgsPerSubj
	}
	st := s.st.State()
	if cfg.MaxMsgs > 0 && st.Msgs >= uint64(cfg.MaxMsgs) && !atSubjLimit {
		return errMaxMsgs
	}
	if cfg.MaxBytes > 0 && st.Bytes+size > uint64(cfg.MaxBytes) {
		if !atSubjLimit {
			return errMaxBytes
		}
		// Storing replaces the subject's oldest message: only allowed if
		// that frees at least as much as the new one takes.
		m, err := s.st.LoadNext(subject, 0)
		if err != nil || s.msgSize(m) < size {
			return errMaxBytes
		}
	}
	return nil
}

func (s *Stream) msgSize(m *store.Msg) uint64 {
	if s.cfg.Storage == jsapi.MemoryStorage {
		return store.MemMsgSize(m.Subject, m.Header, m.Data)
	}
	return store.FileMsgSize(m.Subject, m.Header, m.Data)
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

// subjectSeqCheck reads the expected-last-subject-sequence headers: the
// sequence the publisher expects, and the last one stored on the subject
// they name (the message's own, or Nats-Expected-Last-Subject-Sequence-
// Subject's). ok is false without the header.
func (s *Stream) subjectSeqCheck(subject string, hdr []byte) (want, last uint64, ok bool) {
	want, ok = headerUint(hdr, hdrExpectedSubjSeq)
	if !ok {
		return 0, 0, false
	}
	if alt, found := headerValue(hdr, hdrExpectedSubjSubj); found && alt != "" {
		subject = alt
	}
	if m, err := s.st.LoadLast(subject); err == nil {
		last = m.Seq
	}
	return want, last, true
}
