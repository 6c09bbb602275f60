package stream

import (
	"fmt"

	"github.com/starling-mq/starling/internal/store"
)

// applyLocked carries out a decided entry and returns the publisher's
// answer. It is deterministic: it reads the entry, the configuration and
// the stream's state (store, de-duplication window, last message ID), and
// never the clock, random numbers, the consumer count or anything else
// local, so replicas applying the same entries in the same order end up
// alike. What only this server does after a store (timers, waking
// consumers) is left to the caller.
func (s *Stream) applyLocked(e *Entry) result {
	if e.Kind == EntrySkip {
		if err := s.skipToLocked(e.Seq); err != nil {
			return result{err: storeFailed(err)}
		}
		s.lmsgID = e.MsgID
		s.dedup.record(e.MsgID, e.Seq, e.Time)
		return result{seq: e.Seq}
	}
	var rpDest string
	var rpLast uint64
	if s.rpRule != nil && !s.quiet {
		if rpDest = s.rpRule.destination(e.Subject); rpDest != "" {
			rpLast = s.lastSeqLocked(e.Subject)
		}
	}
	if err := s.st.AppendAt(e.Seq, e.Subject, e.Header, e.Data, e.Time, e.TTL); err != nil {
		s.log.Error("store failed", "stream", s.cfg.Name, "err", err)
		s.last = s.st.State().LastSeq // the store may have moved on before failing
		return result{err: storeFailed(err)}
	}
	s.last = e.Seq
	if rpDest != "" {
		s.republishLocked(rpDest, e.Subject, e.Header, e.Data, e.Seq, e.Time, rpLast)
	}
	s.lastTS = max(s.lastTS, e.Time)
	s.lmsgID = e.MsgID
	s.dedup.record(e.MsgID, e.Seq, e.Time)
	if e.TTL > 0 {
		s.ttls.push(ttlItem{at: e.Time + e.TTL, seq: e.Seq})
	}
	switch e.Rollup {
	case RollupSubject:
		if _, err := s.st.Purge(store.PurgeRequest{Subject: e.Subject, Seq: e.Seq}); err != nil {
			s.log.Error("rollup failed", "stream", s.cfg.Name, "err", err)
		}
	case RollupAll:
		if _, err := s.st.Purge(store.PurgeRequest{Seq: e.Seq}); err != nil {
			s.log.Error("rollup failed", "stream", s.cfg.Name, "err", err)
		}
	}
	s.enforceAfterAppendLocked(e.Subject)
	return result{seq: e.Seq}
}

// skipToLocked uses the sequences up to seq without storing messages.
// Proposals give the next sequence, so this is one Skip; an entry further
// ahead skips the gap too, as AppendAt would.
func (s *Stream) skipToLocked(seq uint64) error {
	if seq <= s.last {
		return fmt.Errorf("%w: %d, last %d", store.ErrSeqNotAfterLast, seq, s.last)
	}
	for s.last < seq {
		got, err := s.st.Skip()
		if err != nil {
			s.last = s.st.State().LastSeq
			return err
		}
		s.last = got
	}
	return nil
}
