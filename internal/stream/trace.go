package stream

import (
	"fmt"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Trace carries message tracing through one ingest: whether the message
// may be stored, and what the stream did with it, worded as nats-server
// words it in the "js" entry of a trace event.
type Trace struct {
	// Only: run every check as if storing, then store nothing and send
	// no acknowledgement (errors are still answered, as nats-server does).
	Only bool

	// Reached: the checks passed, so Subject and NoInterest are set.
	Reached bool
	// Subject is the subject the message is stored under (after the
	// stream's subject transform).
	Subject string
	// NoInterest: an interest-retention stream without consumers, which
	// counts the sequence and keeps nothing.
	NoInterest bool
	// Err says why the message was not stored; empty when it was.
	Err string
}

// IngestTraced is Ingest for a traced message; t reports the outcome.
func (s *Stream) IngestTraced(subject, reply string, hdr, data []byte, t *Trace) {
	s.ingest(subject, reply, hdr, data, t)
}

// checked is called once a message passed the checks; it reports whether
// to stop there. Safe on a nil Trace (untraced messages).
func (t *Trace) checked(subject string, noInterest bool) bool {
	if t == nil {
		return false
	}
	t.Reached, t.Subject, t.NoInterest = true, subject, noInterest
	return t.Only
}

func (t *Trace) closed() {
	if t != nil {
		t.Err = "stream closed"
	}
}

// traceOutcomeLocked words why a traced message was refused. The texts are
// those of nats-server's internal errors, which differ from the API error
// the publisher gets back. Lock held, store unchanged since the refusal.
func (s *Stream) traceOutcomeLocked(t *Trace, subject string, hdr []byte, r result) {
	switch {
	case t == nil || r.traced:
	case r.dup:
		t.Err = "msgid is duplicate"
	case r.err != nil:
		t.Err = s.refusalText(subject, hdr, r.err)
	}
}

func (s *Stream) refusalText(subject string, hdr []byte, e *jsapi.ApiError) string {
	switch {
	case e.IsID(jsapi.ErrStreamNotMatch):
		return "expected stream does not match"
	case e.IsID(jsapi.ErrMessageTTLDisabled):
		return "message TTL disabled"
	case e.IsID(jsapi.ErrStreamWrongLastSequence):
		// One error for two checks: the per-subject one runs first, so
		// if it fails now it is the one that failed.
		if want, last, _, ok := s.subjectSeqCheck(subject, hdr); ok && last != want {
			return fmt.Sprintf("last sequence by subject mismatch: %d vs %d", want, last)
		}
		want, _ := headerUint(hdr, hdrExpectedLastSeq)
		return fmt.Sprintf("last sequence mismatch: %d vs %d", want, s.st.State().LastSeq)
	case e.IsID(jsapi.ErrStreamWrongLastMsgID):
		want, _ := headerValue(hdr, hdrExpectedLastID)
		return fmt.Sprintf("last msgid mismatch: %q vs %q", want, s.lmsgID)
	case e.IsID(jsapi.ErrStreamMessageExceedsMaximum), e.IsID(jsapi.ErrStreamHeaderExceedsMaximum):
		return "maximum payload exceeded"
	case e.IsID(jsapi.ErrStreamStoreFailed), e.IsID(jsapi.ErrStreamRollupFailed):
		// The description is the underlying error's text.
		return e.Description
	}
	return e.Error()
}
