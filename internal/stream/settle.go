package stream

import "time"

// Reads on a replicated stream's leader see what is applied, while a
// publish's checks (expected last sequence per subject, say) see what is
// proposed too. A read of a subject whose publish is in flight would
// then show the value before a write that an earlier refused
// compare-and-set already took into account: not linearizable. So a
// leader's read of a subject waits until the subject's proposals in
// flight are applied (or dropped), a read of a sequence until that
// sequence is (Settle).

// Settle waits, for up to d, until no proposal in flight touches subject
// (when not empty) or sequence seq (when not 0). It returns at once on a
// follower or a single server, where nothing is in flight.
func (s *Stream) Settle(subject string, seq uint64, d time.Duration) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if !s.inFlightLocked(subject, seq) || s.closed {
			s.mu.Unlock()
			return
		}
		if s.settled == nil {
			s.settled = make(chan struct{})
		}
		ch := s.settled
		s.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(d)
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		}
	}
}

// wakeSettlersLocked lets Settle look again: proposals were applied or
// dropped. s.mu is held.
func (s *Stream) wakeSettlersLocked() {
	if s.settled != nil {
		close(s.settled)
		s.settled = nil
	}
}

// InFlight reports whether a proposal in flight touches subject or seq
// (see Settle): a caller that must not wait hands the read to a goroutine
// that settles first.
func (s *Stream) InFlight(subject string, seq uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlightLocked(subject, seq)
}

func (s *Stream) inFlightLocked(subject string, seq uint64) bool {
	return s.prop.len() > 0 &&
		((subject != "" && s.prop.subjs[subject].all > 0) || (seq > s.last && seq <= s.prop.last))
}
