package stream

import (
	"container/heap"
	"time"

	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
)

// Limits with discard "old" (and age and TTL expiry, whatever the discard
// policy) remove the oldest messages after a store.

// enforceAfterAppendLocked applies the count, byte and per-subject limits
// after a message on subject was stored.
func (s *Stream) enforceAfterAppendLocked(subject string) {
	if maxp := s.cfg.MaxMsgsPer; maxp > 0 {
		s.trimSubjectLocked(subject, uint64(maxp))
	}
	s.trimTotalsLocked()
}

// enforceLimitsLocked applies every limit to the whole stream (after a
// restart or a config update that tightened them).
func (s *Stream) enforceLimitsLocked() {
	if maxp := s.cfg.MaxMsgsPer; maxp > 0 {
		for subj, ss := range s.st.SubjectsState(">") {
			if ss.Msgs > uint64(maxp) {
				s.trimSubjectLocked(subj, uint64(maxp))
			}
		}
	}
	s.trimTotalsLocked()
}

func (s *Stream) trimSubjectLocked(subject string, maxp uint64) {
	n := s.st.NumPending(0, subject, false)
	for ; n > maxp; n-- {
		m, err := s.st.LoadNext(subject, 0)
		if err != nil {
			return
		}
		if _, err := s.st.Delete(m.Seq, false); err != nil {
			s.log.Error("per-subject limit: delete failed", "stream", s.cfg.Name, "seq", m.Seq, "err", err)
			return
		}
	}
}

func (s *Stream) trimTotalsLocked() {
	maxMsgs, maxBytes := s.cfg.MaxMsgs, s.cfg.MaxBytes
	if maxMsgs <= 0 && maxBytes <= 0 {
		return
	}
	// Bounded by the number of messages stored; each pass removes one.
	for {
		st := s.st.State()
		over := (maxMsgs > 0 && st.Msgs > uint64(maxMsgs)) || (maxBytes > 0 && st.Bytes > uint64(maxBytes))
		if !over || st.Msgs == 0 {
			return
		}
		if _, err := s.st.Delete(st.FirstSeq, false); err != nil {
			s.log.Error("limit: delete failed", "stream", s.cfg.Name, "seq", st.FirstSeq, "err", err)
			return
		}
	}
}

// ttlItem is a message that expires at a time of its own.
type ttlItem struct {
	at  int64
	seq uint64
}

// ttlHeap orders per-message expiries, earliest first.
type ttlHeap []ttlItem

func (h ttlHeap) Len() int { return len(h) }
func (h ttlHeap) Less(i, j int) bool {
	// Ties by sequence: a replicated stream's replicas expire listed
	// messages in this order, and place their delete markers in it.
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}
func (h ttlHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *ttlHeap) Push(x any)   { *h = append(*h, x.(ttlItem)) }
func (h *ttlHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
func (h *ttlHeap) push(it ttlItem) { heap.Push(h, it) }

// pruneTTLsLocked drops heap entries whose message is gone (after a purge)
// once they make up most of the heap, so it does not grow unbounded.
func (s *Stream) pruneTTLsLocked() {
	if len(s.ttls) < 1024 {
		return
	}
	live := s.ttls[:0]
	for _, it := range s.ttls {
		if _, err := s.st.Load(it.seq); err == nil {
			live = append(live, it)
		}
	}
	s.ttls = live
	heap.Init(&s.ttls)
}

// expireLocked removes messages past max_age or their own TTL and arms
// the timer for the next expiry. It goes by this server's clock, so it is
// not part of apply: a replicated stream removes nothing here, and its
// leader's timer proposes what is due instead (onTimer, ops.go).
func (s *Stream) expireLocked() {
	if s.closed {
		return
	}
	if s.replicated {
		s.scheduleLocked() // the leader reports instead (onTimer)
		return
	}
	now := s.now().UnixNano()
	for len(s.ttls) > 0 && s.ttls[0].at <= now {
		it := heap.Pop(&s.ttls).(ttlItem)
		if m, err := s.st.Load(it.seq); err == nil {
			if _, err := s.st.Delete(it.seq, false); err == nil {
				s.markDeletedLocked(m, "TTL", s.now().UnixNano())
			}
		}
	}
	if maxAge := int64(s.cfg.MaxAge); maxAge > 0 {
		s.expireAgeLocked(now - maxAge)
	}
	s.scheduleLocked()
}

// expireAgeLocked removes every message stored at or before cutoff.
// Stored times never decrease, so the boundary is found by binary search
// over sequences instead of reading each message.
func (s *Stream) expireAgeLocked(cutoff int64) {
	st := s.st.State()
	if st.Msgs == 0 || st.FirstTime.UnixNano() > cutoff {
		return
	}
	if s.cfg.SubjectDeleteMarkerTTL > 0 {
		// Markers are needed per subject: remove one message at a time.
		for range st.Msgs {
			m, err := s.st.LoadNext(">", 0)
			if err != nil || m.Time > cutoff {
				return
			}
			if _, err := s.st.Delete(m.Seq, false); err != nil {
				return
			}
			s.markDeletedLocked(m, "MaxAge", s.now().UnixNano())
		}
		return
	}
	lo, _ := s.ageBoundLocked(cutoff)
	if _, err := s.st.Compact(lo); err != nil {
		s.log.Error("max age: compact failed", "stream", s.cfg.Name, "err", err)
		s.syncLastLocked()
	}
}

// ageBoundLocked finds the first sequence stored after cutoff (one past
// the last when none is), and whether any message is stored at or
// before cutoff.
func (s *Stream) ageBoundLocked(cutoff int64) (uint64, bool) {
	st := s.st.State()
	if st.Msgs == 0 || st.FirstTime.UnixNano() > cutoff {
		return 0, false
	}
	lo, hi := st.FirstSeq, st.LastSeq+1 // first seq with time > cutoff is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := s.st.LoadNext(">", mid)
		if err != nil {
			hi = mid
			continue
		}
		if m.Time <= cutoff {
			lo = m.Seq + 1
		} else {
			hi = mid
		}
	}
	return lo, lo > st.FirstSeq
}

// markDeletedLocked places a subject delete marker when a message removed
// by age or TTL was the last one of its subject, so watchers (KV) see the
// key go away. Only with subject_delete_marker_ttl.
// now is the clock's reading (the leader's, in an expire entry).
func (s *Stream) markDeletedLocked(m *store.Msg, reason string, now int64) bool {
	ttl := s.cfg.SubjectDeleteMarkerTTL
	if ttl <= 0 || !needsMarker(m) {
		return false
	}
	if _, err := s.st.LoadLast(m.Subject); err == nil {
		return false // the subject still has messages
	}
	// nats-server's marker, byte for byte: the TTL as a Go duration of
	// whole seconds ("5m0s"), and a roll-up of the subject.
	hdr := proto.NewHeader(0, "").
		Add(hdrMarkerReason, reason).
		Add(hdrTTL, (ttl/time.Second*time.Second).String()).
		Add(hdrRollup, "sub").
		Bytes()
	now = max(now, s.lastTS)
	seq, err := s.st.Append(m.Subject, hdr, nil, now, int64(ttl))
	if err != nil {
		s.log.Error("delete marker failed", "stream", s.cfg.Name, "err", err)
		s.syncLastLocked()
		return false
	}
	s.last, s.lastTS = seq, now
	s.ttls.push(ttlItem{at: now + int64(ttl), seq: seq})
	if s.rpRule != nil { // stored like a publish, so republished like one
		if dest := s.rpRule.destination(m.Subject); dest != "" {
			// The previous message on the subject is the one removed.
			s.republishLocked(dest, m.Subject, hdr, nil, seq, now, m.Seq)
		}
	}
	return true
}

// needsMarker says whether removing m can call for a delete marker: a
// marker expiring needs no marker of its own.
func needsMarker(m *store.Msg) bool {
	_, isMarker := headerValue(m.Header, hdrMarkerReason)
	return !isMarker
}

// scheduleLocked arms the expiry timer for the earliest pending expiry.
func (s *Stream) scheduleLocked() {
	if s.closed || s.replicated && (!s.leader || s.expired == nil) {
		return
	}
	var next int64
	if len(s.ttls) > 0 {
		next = s.ttls[0].at
	}
	if maxAge := int64(s.cfg.MaxAge); maxAge > 0 {
		if st := s.st.State(); st.Msgs > 0 {
			at := st.FirstTime.UnixNano() + maxAge
			if next == 0 || at < next {
				next = at
			}
		}
	}
	if next == 0 {
		return
	}
	if s.replicated && s.reportedAt != 0 {
		// Reported and not applied yet: ask again later, not in a loop.
		next = max(next, s.reportedAt+int64(expiryRetry))
	}
	if s.armedAt != 0 && s.armedAt <= next {
		return // the armed timer fires first and re-arms
	}
	s.armedAt = next
	wait := time.Duration(next - s.now().UnixNano())
	// Never spin: expiry a few milliseconds late is fine.
	wait = max(wait, 5*time.Millisecond)
	if s.timer == nil {
		s.timer = time.AfterFunc(wait, s.onTimer)
		return
	}
	s.timer.Reset(wait)
}

func (s *Stream) onTimer() {
	s.mu.Lock()
	s.armedAt = 0
	if !s.replicated {
		s.expireLocked()
		s.mu.Unlock()
		return
	}
	var entry []byte
	if !s.closed && s.leader && s.expired != nil {
		if entry = s.proposeExpiredLocked(); entry != nil {
			s.reportedAt = s.now().UnixNano()
			s.hooks.Add(1)
		}
	}
	s.scheduleLocked()
	hook := s.expired
	s.mu.Unlock()
	if entry != nil {
		defer s.hooks.Done()
		hook(entry)
	}
}
