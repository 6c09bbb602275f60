package stream

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
)

// Mirrors and sources copy messages from other streams of this server.
// The copying loop lives with the stream manager; the stream only stores
// what it is handed and tells listeners when it has something new.

// hdrStreamSource tags a sourced message with where it came from:
// "<stream> <seq> <filter> <dest> <original subject>", as nats-server
// writes it; a restart resumes each source after the last one it stored.
const hdrStreamSource = "Nats-Stream-Source"

// Listen registers ch to get a non-blocking signal after each stored
// message; the returned func unregisters it.
func (s *Stream) Listen(ch chan struct{}) (cancel func()) {
	return s.OnStored(func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
}

// OnStored registers fn to be called after each stored message, with the
// stream's lock held (fn must be quick and must not block or call back
// into the stream); the returned func unregisters it. Consumers wake
// their scheduler this way: a stream may have very many of them, so
// registering and unregistering cost O(1).
func (s *Stream) OnStored(fn func()) (cancel func()) {
	s.mu.Lock()
	if s.listeners == nil {
		s.listeners = map[uint64]func(){}
	}
	s.lisNext++
	id := s.lisNext
	s.listeners[id] = fn
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.listeners, id)
		s.mu.Unlock()
	}
}

// notifyLocked calls the listeners.
func (s *Stream) notifyLocked() {
	for _, fn := range s.listeners {
		fn()
	}
}

// SourceTag is the Nats-Stream-Source value for a message of origin at
// seq, read through filter and dest (">" when unset).
func SourceTag(origin string, seq uint64, filter, dest, subject string) string {
	if filter == "" {
		filter = ">"
	}
	if dest == "" {
		dest = ">"
	}
	return origin + " " + strconv.FormatUint(seq, 10) + " " + filter + " " + dest + " " + subject
}

// ParseSourceTag returns the origin stream and sequence of a
// Nats-Stream-Source value.
func ParseSourceTag(v string) (origin string, seq uint64, ok bool) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return "", 0, false
	}
	// nats-server may suffix the name with ":<hash>" for indexing.
	name, _, _ := strings.Cut(f[0], ":")
	n, err := strconv.ParseUint(f[1], 10, 64)
	return name, n, err == nil
}

// IngestSourced stores a message copied from another stream under subject
// (already transformed), tagged with tag. Headers that steered the
// original publish are dropped; limits and de-duplication apply as for a
// publish. It reports whether the message was stored or deliberately
// dropped (duplicate, discard new), false only on a store failure.
func (s *Stream) IngestSourced(subject string, hdr, data []byte, tag string) bool {
	hdr = SourcedHeader(hdr, tag)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	r := s.storeLocked(subject, hdr, data)
	if r.err != nil && r.err.ErrCode == 10077 && strings.Contains(r.err.Description, "exceeded") {
		return true // a discard-new limit: dropped on purpose, as a publish would be
	}
	if r.err != nil {
		s.log.Warn("sourced message not stored", "stream", s.cfg.Name, "err", r.err.Description)
		return r.err.Code < 500
	}
	return true
}

// LastSourced scans back from the end for the newest message copied from
// origin and returns its sequence there (0 when none).
func (s *Stream) LastSourced(origin string) uint64 {
	st := s.st.State()
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; {
		m, err := s.st.LoadPrev(">", seq)
		if err != nil {
			return 0
		}
		if v, ok := headerValue(m.Header, hdrStreamSource); ok {
			if name, oseq, ok := ParseSourceTag(v); ok && name == origin {
				return oseq
			}
		}
		seq = m.Seq - 1
	}
	return 0
}

// removeExpected drops the Nats-Expected-… headers, which steered the
// original publish and must not be checked again on a copy.
func removeExpected(hdr []byte) []byte {
	if !bytes.Contains(hdr, []byte("Nats-Expected-")) {
		return hdr
	}
	for _, h := range []string{hdrExpectedStream, hdrExpectedLastSeq, hdrExpectedSubjSeq, hdrExpectedSubjSubj, hdrExpectedLastID} {
		hdr = proto.RemoveHeader(hdr, h)
	}
	return hdr
}

// IngestMirror stores m at its own sequence, keeping its time: a mirror is
// a copy of its origin, gaps (deleted messages) included, without the
// headers that steered the original publish (as nats-server).
func (s *Stream) IngestMirror(m *store.Msg) error {
	if len(m.Header) > 0 {
		m.Header = removeExpected(m.Header)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if m.Seq <= s.last {
		return nil // already have it
	}
	var rpDest string
	var rpLast uint64
	if s.rpRule != nil {
		if rpDest = s.rpRule.destination(m.Subject); rpDest != "" {
			rpLast = s.lastSeqLocked(m.Subject)
		}
	}
	// The origin's deleted sequences before it become skipped ones here.
	if err := s.st.AppendAt(m.Seq, m.Subject, m.Header, m.Data, m.Time, m.TTL); err != nil {
		s.syncLastLocked()
		return err
	}
	s.last = m.Seq
	if rpDest != "" {
		s.republishLocked(rpDest, m.Subject, m.Header, m.Data, m.Seq, m.Time, rpLast)
	}
	s.lastTS = max(s.lastTS, m.Time)
	if m.TTL > 0 {
		s.ttls.push(ttlItem{at: m.Time + m.TTL, seq: m.Seq})
	}
	s.enforceAfterAppendLocked(m.Subject)
	if s.cfg.MaxAge > 0 || m.TTL > 0 {
		s.scheduleLocked()
	}
	s.notifyLocked()
	return nil
}

// SourcedHeader is the header a sourced message is stored with: the
// origin's, less its own source tag and expectations, plus tag.
func SourcedHeader(hdr []byte, tag string) []byte {
	if len(hdr) > 0 {
		hdr = proto.RemoveHeader(hdr, hdrStreamSource)
		hdr = removeExpected(hdr)
	}
	return appendHeader(hdr, hdrStreamSource, tag)
}

// MirrorEntryAfter is the entry a replicated mirror's leader proposes
// for an origin's message: stored at the origin's sequence on every
// replica (the sequences between become skipped ones, as IngestMirror
// leaves them), which makes proposing it again harmless (ErrApplied);
// and applied only if the mirror's last sequence is then after
// (Entry.Guarded): the copy of the origin's message before it, or what
// the mirror held when its copier started.
func MirrorEntryAfter(m *store.Msg, after uint64) []byte {
	return EncodeEntry(&Entry{Kind: EntryMsg, Seq: m.Seq, Time: m.Time, Subject: m.Subject,
		Header: removeExpected(m.Header), Data: m.Data, TTL: m.TTL, Guarded: true, After: after})
}
