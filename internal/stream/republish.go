package stream

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/subject"
)

// Republish (the stream's "republish" setting) sends every stored message
// whose subject matches the source on to the transformed destination, as
// a core message with headers naming where it is stored. It happens once
// the message is stored, not once it is durable, as in nats-server (and
// as consumers see it); messages refused, de-duplicated or not kept
// (interest retention without consumers) are not republished.
//
// The stream never publishes under its lock: the core delivers to
// in-process subscribers on the publisher's goroutine, so a republish
// captured by another stream (or by this one's own API) would re-enter.
// Messages are queued under the lock, in sequence order, and one goroutine
// per stream sends them. The queue is bounded; when it is full a message
// is not republished and the drop is counted (RepublishStats), like a slow
// core subscriber's.

// Bounds of one stream's republish queue.
const (
	republishQueueMsgs  = 64 * 1024
	republishQueueBytes = 64 << 20
	republishWarnEvery  = 10 * time.Second
)

// rpMsg is one message waiting to be republished.
type rpMsg struct {
	subject string
	hdr     []byte
	data    []byte
}

func (m *rpMsg) size() int { return len(m.subject) + len(m.hdr) + len(m.data) }

// republisher sends one stream's republished messages in order.
type republisher struct {
	out      Publisher
	s        *Stream // for logs
	maxMsgs  int     // queue bounds
	maxBytes int

	mu      sync.Mutex
	pending []rpMsg
	bytes   int
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}

	sent     atomic.Uint64
	dropped  atomic.Uint64
	lastWarn atomic.Int64
}

func newRepublisher(out Publisher, s *Stream, maxMsgs, maxBytes int) *republisher {
	r := &republisher{
		out:      out,
		s:        s,
		maxMsgs:  maxMsgs,
		maxBytes: maxBytes,
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go r.run()
	return r
}

// push queues m; it never blocks. It reports false when the queue is full
// and m was dropped.
func (r *republisher) push(m rpMsg) bool {
	n := m.size()
	r.mu.Lock()
	if len(r.pending) >= r.maxMsgs || r.bytes+n > r.maxBytes {
		r.mu.Unlock()
		r.drop(m.subject)
		return false
	}
	r.pending = append(r.pending, m)
	r.bytes += n
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return true
}

func (r *republisher) drop(subj string) {
	r.dropped.Add(1)
	now := time.Now().UnixNano()
	last := r.lastWarn.Load()
	if now-last >= int64(republishWarnEvery) && r.lastWarn.CompareAndSwap(last, now) {
		r.s.log.Warn("republish queue full, messages not republished", "subject", subj, "dropped_total", r.dropped.Load())
	}
}

// run sends queued messages until stop; those queued then are sent first.
func (r *republisher) run() {
	defer close(r.done)
	var batch []rpMsg
	for {
		select {
		case <-r.wake:
		case <-r.quit:
			r.mu.Lock()
			batch, r.pending, r.bytes = r.pending, nil, 0
			r.mu.Unlock()
			r.sendAll(batch)
			return
		}
		r.mu.Lock()
		batch, r.pending, r.bytes = r.pending, batch[:0], 0
		r.mu.Unlock()
		r.sendAll(batch)
		clear(batch)
	}
}

func (r *republisher) sendAll(batch []rpMsg) {
	for i := range batch {
		m := &batch[i]
		if _, err := r.out.Publish(m.subject, "", m.hdr, m.data); err != nil {
			r.s.log.Debug("republish not sent", "subject", m.subject, "err", err)
			continue
		}
		r.sent.Add(1)
	}
}

// stop ends the goroutine after it sent what was queued.
func (r *republisher) stop() {
	close(r.quit)
	<-r.done
}

// republishRule is a stream's republish setting made ready for use; nil
// means nothing is republished.
type republishRule struct {
	tr          *subject.Transform
	headersOnly bool
}

// newRepublishRule compiles cfg's republish setting. nats-server sends
// nothing for an empty destination, and so does this.
func newRepublishRule(rp *jsapi.RePublish) *republishRule {
	if rp == nil || rp.Destination == "" {
		return nil
	}
	tr, err := subject.NewTransform(rp.Source, rp.Destination)
	if err != nil {
		return nil // validated with the configuration
	}
	return &republishRule{tr: tr, headersOnly: rp.HeadersOnly}
}

// destination is where a message stored on subj is republished, "" for
// nowhere (no match, or a result that is not a valid subject to publish).
func (p *republishRule) destination(subj string) string {
	dest, ok := p.tr.Apply(subj)
	if !ok || !subject.ValidLiteral(dest) {
		return ""
	}
	return dest
}

// lastSeqLocked is the sequence of the last message stored on subj, 0 if
// none: republished messages carry the previous one's sequence so a
// subscriber can spot gaps.
func (s *Stream) lastSeqLocked(subj string) uint64 {
	if ss, ok := s.st.SubjectsState(subj)[subj]; ok && ss.Msgs > 0 {
		return ss.Last
	}
	return 0
}

// republishLocked queues the message just stored at seq. dest and last
// were found before it was stored; hdr and data may alias a read buffer
// and are copied.
func (s *Stream) republishLocked(dest, subj string, hdr, data []byte, seq uint64, ts int64, last uint64) {
	if s.rp == nil {
		s.rp = newRepublisher(s.rpOut, s, s.rpMaxMsgs, s.rpMaxBytes)
	}
	m := rpMsg{subject: dest, hdr: republishHeader(hdr, s.cfg.Name, subj, seq, ts, last, len(data), s.rpRule.headersOnly)}
	if !s.rpRule.headersOnly {
		m.data = bytes.Clone(data)
	}
	s.rp.push(m)
}

// republishHeader is the header block of a republished message: the
// stored message's headers, if any, then Nats-Stream, Nats-Subject,
// Nats-Sequence, Nats-Time-Stamp and Nats-Last-Sequence, and with
// headers only Nats-Msg-Size, in nats-server's order and spelling.
func republishHeader(hdr []byte, stream, subj string, seq uint64, ts int64, last uint64, size int, headersOnly bool) []byte {
	const prefix = "NATS/1.0\r\n"
	out := make([]byte, 0, len(hdr)+len(prefix)+len(stream)+len(subj)+160)
	if len(hdr) >= len(prefix) && bytes.HasSuffix(hdr, []byte("\r\n\r\n")) {
		out = append(out, hdr[:len(hdr)-2]...) // keep the lines, drop the blank one
	} else {
		out = append(out, prefix...)
	}
	line := func(key string) {
		out = append(out, key...)
		out = append(out, ": "...)
	}
	line(jsapi.HdrStream)
	out = append(out, stream...)
	out = append(out, "\r\n"...)
	line(jsapi.HdrSubject)
	out = append(out, subj...)
	out = append(out, "\r\n"...)
	line(jsapi.HdrSequence)
	out = strconv.AppendUint(out, seq, 10)
	out = append(out, "\r\n"...)
	line(jsapi.HdrTimeStamp)
	out = time.Unix(0, ts).UTC().AppendFormat(out, time.RFC3339Nano)
	out = append(out, "\r\n"...)
	line(jsapi.HdrLastSequence)
	out = strconv.AppendUint(out, last, 10)
	out = append(out, "\r\n"...)
	if headersOnly {
		line(jsapi.HdrMsgSize)
		out = strconv.AppendInt(out, int64(size), 10)
		out = append(out, "\r\n"...)
	}
	return append(out, "\r\n"...)
}

// RepublishStats counts this stream's messages republished and those
// dropped because the queue was full.
func (s *Stream) RepublishStats() (sent, dropped uint64) {
	s.mu.Lock()
	rp := s.rp
	s.mu.Unlock()
	if rp == nil {
		return 0, 0
	}
	return rp.sent.Load(), rp.dropped.Load()
}
