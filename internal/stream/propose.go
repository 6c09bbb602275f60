package stream

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
)

// proposeLocked runs nats-server's checks, in nats-server's order, on a
// message published on subject (already transformed), against the
// stream as it is, and decides. With ok the message is to be stored as
// *e, which it fills (applyLocked); otherwise r is the whole answer: an
// error, a duplicate's original sequence, or a traced message that stops
// here. It changes nothing else, and it is the one step that reads the
// clock. (e is the caller's, not a result: an Entry is a dozen words,
// and this runs for every message.)
func (s *Stream) proposeLocked(subject string, hdr, data []byte, e *Entry) (r result, ok bool) {
	cfg := &s.cfg
	now := s.now().UnixNano()
	size := store.FileMsgSize(subject, hdr, data)
	if cfg.Storage == jsapi.MemoryStorage {
		size = store.MemMsgSize(subject, hdr, data)
	} else if size > maxFileMsgSize {
		return result{err: storeFailed(errMsgTooLarge)}, false
	}
	if cfg.Sealed {
		return result{err: jsapi.NewError(jsapi.ErrStreamSealed)}, false
	}
	var h pubHeaders
	if len(hdr) > 0 {
		var done bool
		if h, r, done = s.checkHeadersLocked(subject, hdr, data, size, now); done {
			return r, false
		}
	}
	if max := int(cfg.MaxMsgSize); max >= 0 && (len(hdr) > max || len(data) > max-len(hdr)) {
		return result{err: jsapi.NewError(jsapi.ErrStreamMessageExceedsMaximum)}, false
	}
	if len(hdr) > math.MaxUint16 {
		return result{err: jsapi.NewError(jsapi.ErrStreamHeaderExceedsMaximum)}, false
	}
	if s.exceed != nil {
		if err := s.exceed(cfg.Storage, size); err != nil {
			return result{err: err}, false
		}
	}
	noInterest := cfg.Retention == jsapi.InterestPolicy && s.consumers == 0
	if s.tracing.checked(subject, noInterest) {
		return result{traced: true}, false
	}
	// Stored times never go back, so age expiry can search by time.
	last, lastTS := s.proposedLastLocked()
	*e = Entry{Seq: last + 1, Time: max(now, lastTS), Subject: subject, MsgID: h.msgID}
	if noInterest {
		// Nobody could ever read it: count the sequence, keep nothing.
		e.Kind = EntrySkip
		return result{}, true
	}
	ttl := h.ttl
	if ttl > 0 && cfg.SubjectDeleteMarkerTTL > 0 && cfg.MaxMsgsPer != 1 {
		if min := int64(cfg.SubjectDeleteMarkerTTL / time.Second); ttl < min {
			ttl = min
			hdr = proto.RemoveHeader(hdr, hdrTTL)
			hdr = appendHeader(hdr, hdrTTL, strconv.FormatInt(ttl, 10))
		}
	}
	if err := s.checkDiscardNew(subject, size, h.rollup != RollupNone); err != nil {
		return result{err: storeFailed(err)}, false
	}
	e.Header, e.Data, e.Rollup = hdr, data, h.rollup
	if ttl > 0 {
		e.TTL = ttl * int64(time.Second)
	}
	return result{}, true
}

// pubHeaders is what a message's headers ask of the store.
type pubHeaders struct {
	msgID  string
	ttl    int64 // seconds, -1 for never
	rollup Rollup
}

// checkHeadersLocked runs the checks of a message with headers and reads
// what they ask for. With done, r is the whole answer.
func (s *Stream) checkHeadersLocked(subject string, hdr, data []byte, size uint64, now int64) (h pubHeaders, r result, done bool) {
	cfg := &s.cfg
	if e := batchRefused(cfg, hdr); e != nil {
		return h, s.batchResult(size, hdr, data, e), true
	}
	if e := counterRefused(cfg, hdr); e != nil {
		return h, result{err: e}, true
	}
	if name, ok := headerValue(hdr, hdrExpectedStream); ok && name != "" && name != cfg.Name {
		return h, result{err: jsapi.NewError(jsapi.ErrStreamNotMatch)}, true
	}
	ttlStr, hasTTL := headerValue(hdr, hdrTTL)
	var ttlErr error
	if hasTTL {
		h.ttl, ttlErr = ParseTTL(ttlStr)
		if ttlErr == nil && h.ttl != 0 && !cfg.AllowMsgTTL {
			return h, result{err: jsapi.NewError(jsapi.ErrMessageTTLDisabled)}, true
		}
	}
	if want, last, pending, ok := s.subjectSeqCheck(subject, hdr); ok {
		if last != want {
			return h, refusal(jsapi.NewError(jsapi.ErrStreamWrongLastSequence, last), pending), true
		}
	} else if alt, ok := headerValue(hdr, hdrExpectedSubjSubj); ok && alt != "" {
		return h, result{err: jsapi.NewError(jsapi.ErrStreamExpectedLastSeqPerSubjectInvalid)}, true
	}
	if want, ok := headerUint(hdr, hdrExpectedLastSeq); ok {
		if last, _ := s.proposedLastLocked(); want != last {
			return h, refusal(jsapi.NewError(jsapi.ErrStreamWrongLastSequence, last), s.prop.last), true
		}
	}
	if e := scheduleRefused(cfg, subject, hdr); e != nil {
		return h, result{err: e}, true
	}
	if id, ok := headerValue(hdr, hdrMsgID); ok && id != "" {
		h.msgID = id
		if cfg.Mirror == nil {
			if seq, dup := s.findDupLocked(id, now); dup {
				return h, result{seq: seq, dup: true}, true
			}
		}
	}
	if want, ok := headerValue(hdr, hdrExpectedLastID); ok && want != "" {
		if last := s.proposedLastIDLocked(); want != last {
			return h, refusal(jsapi.NewError(jsapi.ErrStreamWrongLastMsgID, last), s.prop.last), true
		}
	}
	if v, ok := headerValue(hdr, hdrRollup); ok && v != "" {
		if !cfg.AllowRollup || cfg.DenyPurge {
			return h, result{err: jsapi.NewError(jsapi.ErrStreamRollupFailed, errors.New("rollup not permitted"))}, true
		}
		switch v {
		case "sub":
			h.rollup = RollupSubject
		case "all":
			h.rollup = RollupAll
		default:
			return h, result{err: jsapi.NewError(jsapi.ErrStreamRollupFailed, fmt.Errorf("rollup value invalid: %q", v))}, true
		}
	}
	if ttlErr != nil {
		return h, result{err: jsapi.NewError(jsapi.ErrMessageTTLInvalid)}, true
	}
	return h, result{}, false
}

// batchResult is the answer to a message of an atomic batch: nats-server
// checks resources and message size before refusing the batch itself.
func (s *Stream) batchResult(size uint64, hdr, data []byte, refused *jsapi.ApiError) result {
	cfg := &s.cfg
	if s.exceed != nil {
		if err := s.exceed(cfg.Storage, size); err != nil {
			return result{err: err}
		}
	}
	if max := int(cfg.MaxMsgSize); max >= 0 && (len(hdr) > max || len(data) > max-len(hdr)) {
		return result{err: jsapi.NewError(jsapi.ErrStreamMessageExceedsMaximum)}
	}
	return result{err: refused}
}

// checkDiscardNew applies discard-new limits before storing, with
// nats-server's rules: a subject at its per-subject limit may still
// replace its oldest message unless discard_new_per_subject is set.
func (s *Stream) checkDiscardNew(subject string, size uint64, rollup bool) error {
	cfg := &s.cfg
	if cfg.Discard != jsapi.DiscardNew {
		return nil
	}
	atSubjLimit := false
	if cfg.MaxMsgsPer > 0 {
		n := s.st.NumPending(0, subject, false) + s.prop.subjs[subject].n
		atSubjLimit = n >= uint64(cfg.MaxMsgsPer)
	}
	if atSubjLimit && cfg.DiscardNewPer && !rollup {
		return errMaxMsgsPerSubj
	}
	st := s.st.State()
	// Proposals in flight count as stored.
	msgs, bytes := st.Msgs+s.prop.msgs, uint64(max(int64(st.Bytes)+s.prop.bytes, 0))
	if cfg.MaxMsgs > 0 && msgs >= uint64(cfg.MaxMsgs) && !atSubjLimit {
		return errMaxMsgs
	}
	if cfg.MaxBytes > 0 && bytes+size > uint64(cfg.MaxBytes) {
		if !atSubjLimit {
			return errMaxBytes
		}
		// Storing replaces the subject's oldest message: only allowed if
		// that frees at least as much as the new one takes.
		m, err := s.st.LoadNext(subject, s.prop.subjs[subject].cursor)
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

// subjectSeqCheck reads the expected-last-subject-sequence headers: the
// sequence the publisher expects, and the last one stored on the subject
// they name (the message's own, or Nats-Expected-Last-Subject-Sequence-
// Subject's), with the last proposal in flight that answer rests on (0:
// it is the applied state's). ok is false without the header.
func (s *Stream) subjectSeqCheck(subject string, hdr []byte) (want, last, pending uint64, ok bool) {
	want, ok = headerUint(hdr, hdrExpectedSubjSeq)
	if !ok {
		return 0, 0, 0, false
	}
	if alt, found := headerValue(hdr, hdrExpectedSubjSubj); found && alt != "" {
		subject = alt
	}
	if sp, ok := s.prop.subjs[subject]; ok && sp.last >= s.prop.rollupAll {
		return want, sp.last, sp.last, true
	}
	if s.prop.rollupAll > 0 {
		// A pending roll-up removes what is stored.
		return want, 0, s.prop.rollupAll, true
	}
	if m, err := s.st.LoadLast(subject); err == nil {
		last = m.Seq
	}
	return want, last, 0, true
}

// refusal is an expectation's refusal, resting on the proposals in
// flight up to pending (0: on applied state alone).
func refusal(err *jsapi.ApiError, pending uint64) result {
	return result{err: err, expect: true, inFlight: pending}
}

// proposedLastLocked is the sequence and time of the last entry proposed,
// applied or not: the next proposal follows it.
func (s *Stream) proposedLastLocked() (seq uint64, ts int64) {
	if s.prop.len() > 0 {
		// max: a purge past the end moves the applied last sequence on.
		return max(s.last, s.prop.last), max(s.lastTS, s.prop.lastTS)
	}
	return s.last, s.lastTS
}

// proposedLastIDLocked is the message ID of the last entry proposed.
func (s *Stream) proposedLastIDLocked() string {
	if s.prop.len() > 0 {
		return s.prop.lmsgID
	}
	return s.lmsgID
}

// findDupLocked looks id up among the proposals in flight, then in the
// applied de-duplication window.
func (s *Stream) findDupLocked(id string, now int64) (uint64, bool) {
	if it, ok := s.prop.ids[id]; ok && s.dedup.window > 0 && it.ts > now-s.dedup.window {
		return it.seq, true
	}
	return s.dedup.find(id, now)
}
