package stream

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// A replicated stream's publish path, the stream's half of it (Raft is
// the caller's):
//
//  1. the leader calls Propose for each publish: every check runs, and the
//     publisher is answered at once (an error, a duplicate) or the
//     decided entry comes back encoded, for Raft;
//  2. once Raft commits it, every replica, the leader included, calls
//     ApplyEntry with the same bytes in log order;
//  3. the leader answers the publisher with Respond, from ApplyEntry's
//     result.
//
// Proposals are pipelined: the leader keeps a tail of what it proposed
// and has not applied yet (proposals.go), so the next proposal gets the
// next sequence and sees the pending message IDs. When it loses
// leadership it calls ResetProposals; what it proposed may still be
// committed, and is then applied like any other entry.

// Answer is a publisher's reply: an error, or the sequence of a stored
// message or of the original of a duplicate.
type Answer struct {
	Seq       uint64
	Duplicate bool
	Err       *jsapi.ApiError
	// Expect marks Err as the refusal of an expectation (a Nats-Expected-*
	// header): a conditional write whose condition the leader found false.
	// Such a refusal is final only if it rests on committed state; InFlight
	// is the last of the proposals in flight it rests on (0: none), which
	// the caller lets settle (Settle) before it proposes the message
	// again: a proposal in flight may still be dropped.
	Expect   bool
	InFlight uint64
}

// ErrGuard is ApplyEntry's report of a guarded entry (Entry.Guarded)
// met on another last sequence than it requires: nothing was changed.
var ErrGuard = errors.New("stream: entry does not follow the stream's last sequence")

// ErrApplied is ApplyEntry's report of an entry at or below the last
// applied sequence (a replay after a restart): nothing was changed.
var ErrApplied = errors.New("stream: entry already applied")

// Propose decides a message published on subject without applying it,
// as the leader of a replicated stream. It returns the encoded entry to
// replicate, or the publisher's whole answer. The slices are not kept:
// the entry is a copy. A stream that proposes is not also fed by Ingest
// (Ingest would number messages past the proposals in flight).
func (s *Stream) Propose(subject string, hdr, data []byte) (entry []byte, answer *Answer) {
	return s.propose(subject, hdr, data, false)
}

// ProposeChained is Propose for a link of a chain of copies proposed
// back to back (a replicated source's, see jscluster.StreamGroup
// .PublishChain): the entry is guarded (Entry.Guarded) by the sequence
// just before its own, which the caller makes the chain's previous link,
// so it is applied only if that link was: a link lost in flight takes
// every later one with it instead of leaving a hole in the chain.
func (s *Stream) ProposeChained(subject string, hdr, data []byte) (entry []byte, answer *Answer) {
	return s.propose(subject, hdr, data, true)
}

func (s *Stream) propose(subject string, hdr, data []byte, chained bool) (entry []byte, answer *Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.prop.len() >= maxProposals {
		// Temporary: the publisher may retry, here or at the next leader.
		return nil, &Answer{Err: jsapi.NewError(jsapi.ErrClusterNotAvail)}
	}
	if s.itr != nil {
		if t, ok := s.itr.Apply(subject); ok {
			subject = t
		}
	}
	var e Entry
	r, ok := s.proposeLocked(subject, hdr, data, &e)
	if !ok {
		return nil, &Answer{Seq: r.seq, Duplicate: r.dup, Err: r.err, Expect: r.expect, InFlight: r.inFlight}
	}
	s.prop.add(&e, s.entrySize(&e), s.replacementLocked(&e))
	if chained {
		e.Guarded, e.After = true, e.Seq-1
	}
	return EncodeEntry(&e), nil
}

// entrySize is what a stored entry counts against max_bytes.
func (s *Stream) entrySize(e *Entry) uint64 {
	if s.cfg.Storage == jsapi.MemoryStorage {
		return store.MemMsgSize(e.Subject, e.Header, e.Data)
	}
	return store.FileMsgSize(e.Subject, e.Header, e.Data)
}

// replacementLocked says whether proposed entry e, once applied, takes
// the place of its subject's oldest message (max_msgs_per), and which
// stored message that is, counting those proposals in flight displace
// already.
func (s *Stream) replacementLocked(e *Entry) replacement {
	if e.Kind != EntryMsg || s.cfg.MaxMsgsPer <= 0 {
		return replacement{}
	}
	sp := s.prop.subjs[e.Subject]
	if s.st.NumPending(0, e.Subject, false)+sp.n < uint64(s.cfg.MaxMsgsPer) {
		return replacement{}
	}
	r := replacement{ok: true, next: sp.cursor}
	if m, err := s.st.LoadNext(e.Subject, sp.cursor); err == nil {
		r.freed, r.next = s.msgSize(m), m.Seq+1
	}
	return r
}

// ResetProposals forgets the proposals in flight, when leadership is
// lost: the next proposal starts from the applied state.
func (s *Stream) ResetProposals() {
	s.mu.Lock()
	s.unsettled = max(s.unsettled, s.prop.last)
	s.prop.reset()
	s.wakeSettlersLocked()
	s.mu.Unlock()
}

// ProposalsSettled reports whether every entry proposed before the last
// ResetProposals is behind the applied state: until then, one of them may
// still be applied ahead of a new proposal numbered from the applied
// state, and take its sequence.
func (s *Stream) ProposalsSettled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last >= s.unsettled
}

// ApplyEntry applies a committed entry, encoded by Propose (or by a
// Propose* of ops.go), on this replica, and returns the publisher's
// sequence; for a removal, how many messages it removed (see ops.go). An entry past the next
// sequence leaves the gap as skipped sequences; one at or below the last
// applied sequence changes nothing and reports ErrApplied. A store failure
// is a *jsapi.ApiError, as the publisher would see it.
func (s *Stream) ApplyEntry(b []byte) (seq uint64, err error) {
	e, err := DecodeEntry(b)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	if e.Kind > EntrySkip {
		return s.applyOpLocked(&e)
	}
	if e.Seq <= s.last {
		return e.Seq, fmt.Errorf("%w: %d, last %d", ErrApplied, e.Seq, s.last)
	}
	if e.Guarded && s.last != e.After {
		return 0, fmt.Errorf("%w: needs last %d, last is %d", ErrGuard, e.After, s.last)
	}
	r := s.applyLocked(&e)
	s.prop.applied(e.Seq, &e)
	s.wakeSettlersLocked()
	if r.err != nil {
		return 0, r.err
	}
	if e.Kind == EntryMsg {
		s.afterStoreLocked(e.TTL)
	}
	return r.seq, nil
}

// Respond sends a publisher its answer: Propose's, or the sequence
// ApplyEntry returned. A replicated message is acknowledged once applied
// without waiting for the store's sync: its committed entry is already on
// stable storage in a quorum's Raft logs. Nothing is sent without a reply
// subject or with no_ack. The answer goes out shortly after, in order
// with the stream's other acks.
func (s *Stream) Respond(reply string, a *Answer) {
	s.mu.Lock()
	noAck, prefix := s.cfg.NoAck, s.ackPrefix
	s.mu.Unlock()
	if reply == "" || noAck || a == nil {
		return
	}
	// Through the ack queue: Respond runs on the Raft loop, once per
	// applied entry, and sending there cost a write to the publisher's
	// socket per ack; the queue sends each burst with one flush, off the
	// loop.
	var body []byte
	switch {
	case a.Err != nil:
		body = s.errorBody(a.Err)
	case a.Duplicate:
		body = dupAck(prefix, a.Seq)
	default:
		body = append(strconv.AppendUint(append(make([]byte, 0, len(prefix)+21), prefix...), a.Seq, 10), '}')
	}
	s.acks.push(reply, body)
}
