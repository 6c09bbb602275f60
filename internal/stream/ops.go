package stream

import (
	"cmp"
	"container/heap"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// A replicated stream's removals and configuration updates, decided by
// the leader and applied by every replica from the log, as publishes are
// (replicate.go). Options.Replicated turns it on: the stream's own
// expiry timer then removes nothing, and on the leader (SetLeader)
// reports what is due through Options.Expired for the caller to propose.
//
// These entries use no sequence. Their Seq is the last sequence the
// leader had decided when it decided them ("at"), and applying them never
// touches a message above it. That makes each safe to apply a second
// time, which a restarted replica does when it replays its log over a
// store that already holds the result: every message at or below at that
// the first application kept is still kept (later entries only remove),
// and messages stored after it are out of reach. It also keeps the
// result the leader meant when another leader's publishes were applied
// in between.

// maxExpireSeqs bounds the TTL-expired sequences in one expire entry;
// the rest are reported on the timer's next run.
const maxExpireSeqs = 4096

// expiryRetry is how long the leader waits before reporting again what
// it reported and is not yet applied (a proposal that may have been lost).
const expiryRetry = 2 * time.Second

// SetLeader says whether this replica leads a replicated stream: only the
// leader's expiry timer reports (Options.Expired). Becoming leader checks
// at once.
func (s *Stream) SetLeader(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leader = on
	s.reportedAt, s.armedAt = 0, 0
	if on {
		s.scheduleLocked()
	}
}

// ProposeDelete decides the removal of message seq (erase overwrites its
// bytes), as the leader. It returns the entry to replicate, or the error
// a single server's message delete request would answer at once.
func (s *Stream) ProposeDelete(seq uint64, erase bool) ([]byte, *jsapi.ApiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.opAllowedLocked(); aerr != nil {
		return nil, aerr
	}
	if s.cfg.DenyDelete {
		return nil, jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, errors.New("message delete not permitted"))
	}
	at, now := s.opPointLocked()
	if seq == 0 || seq > at {
		return nil, jsapi.NewError(jsapi.ErrSequenceNotFound, seq)
	}
	if seq <= s.last {
		// Applied already: a message gone now never comes back.
		if _, err := s.st.Load(seq); err != nil {
			return nil, jsapi.NewError(jsapi.ErrSequenceNotFound, seq)
		}
	}
	return EncodeEntry(&Entry{Kind: EntryDelete, Seq: at, Time: now, Target: seq, Erase: erase}), nil
}

// ProposePurge decides a purge, as the leader: the entry, or the error a
// single server's purge request would answer at once.
func (s *Stream) ProposePurge(req store.PurgeRequest) ([]byte, *jsapi.ApiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.opAllowedLocked(); aerr != nil {
		return nil, aerr
	}
	switch {
	case s.cfg.DenyPurge:
		return nil, jsapi.NewError(jsapi.ErrStreamPurgeFailed, errors.New("stream purge not permitted"))
	case req.Seq > 0 && req.Keep > 0:
		return nil, jsapi.NewError(jsapi.ErrBadRequest)
	}
	at, now := s.opPointLocked()
	if movesLast(req, at) {
		// Proposals after this one are numbered past the purge's end, as
		// a single server numbers the publishes after it.
		s.prop.jump(req.Seq-1, s.proposedLastIDLocked())
	}
	return EncodeEntry(&Entry{Kind: EntryPurge, Seq: at, Time: now, Purge: req}), nil
}

// movesLast says whether purge req, decided with at the last sequence,
// moves the last sequence on (a purge of every subject up to a sequence
// past the end: the store compacts past it).
func movesLast(req store.PurgeRequest, at uint64) bool {
	return (req.Subject == "" || req.Subject == ">") && req.Keep == 0 && req.Seq > at+1
}

// ProposeUpdate decides a configuration update (validated by the caller
// against the one in force), as the leader. Publishes proposed before it
// is applied are still checked against the old configuration.
func (s *Stream) ProposeUpdate(cfg jsapi.StreamConfig) ([]byte, *jsapi.ApiError) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, jsapi.NewError(jsapi.ErrStreamUpdate, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, jsapi.NewError(jsapi.ErrClusterNotAvail)
	}
	at, now := s.opPointLocked()
	return EncodeEntry(&Entry{Kind: EntryConfig, Seq: at, Time: now, Config: b}), nil
}

// ProposeExpired returns an expire entry for what is due by max_age and
// per-message TTL on this server's clock, or nil when nothing is. The
// expiry timer of a replicated stream's leader calls it and hands the
// entry to Options.Expired; it is exported for callers that want to
// check at a moment of their own.
func (s *Stream) ProposeExpired() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.proposeExpiredLocked()
}

// proposeExpiredLocked collects what is due. It goes by sequences, not by
// a time: what each replica removes is then exactly what the leader saw
// due, whatever its own clock, and a configuration update applied in
// between (another max_age) cannot change it. The max_age part is one
// bound, everything at or below a sequence, because stored times never
// decrease; the TTL part lists its messages, at most maxExpireSeqs.
func (s *Stream) proposeExpiredLocked() []byte {
	now := s.now().UnixNano()
	var seqs []uint64
	var due []ttlItem
	for len(s.ttls) > 0 && s.ttls[0].at <= now && len(seqs) < maxExpireSeqs {
		it := heap.Pop(&s.ttls).(ttlItem)
		if _, err := s.st.Load(it.seq); err != nil {
			continue // gone already: forget it
		}
		seqs, due = append(seqs, it.seq), append(due, it)
	}
	// Kept until the entry is applied: the proposal may be lost.
	for _, it := range due {
		s.ttls.push(it)
	}
	var bound uint64
	if maxAge := int64(s.cfg.MaxAge); maxAge > 0 {
		if lo, ok := s.ageBoundLocked(now - maxAge); ok {
			bound = lo - 1
		}
	}
	if bound == 0 && len(seqs) == 0 {
		return nil
	}
	at, _ := s.opPointLocked()
	e := Entry{Kind: EntryExpire, Seq: at, Time: now, Target: bound, Seqs: seqs}
	if e.Markers = s.markersDueLocked(seqs, bound); e.Markers > 0 {
		// Proposals after this one are numbered past the markers.
		s.prop.jump(at+e.Markers, s.proposedLastIDLocked())
	}
	return EncodeEntry(&e)
}

// markersDueLocked counts the subject delete markers that expiring the
// messages seqs (past their TTL) and those up to bound (max_age) calls
// for, in the order a single server removes them: a subject's marker
// when its last message goes, stored or proposed.
func (s *Stream) markersDueLocked(seqs []uint64, bound uint64) uint64 {
	if s.cfg.SubjectDeleteMarkerTTL <= 0 {
		return 0
	}
	left := map[string]uint64{}
	var k uint64
	remove := func(m *store.Msg) {
		n, ok := left[m.Subject]
		if !ok {
			n = s.st.NumPending(0, m.Subject, false) + s.prop.subjs[m.Subject].all
		}
		n = max(n, 1) - 1
		if n == 0 && needsMarker(m) {
			k, n = k+1, 1
		}
		left[m.Subject] = n
	}
	gone := map[uint64]bool{}
	for _, m := range s.ttlOrderLocked(seqs, ^uint64(0)) {
		gone[m.Seq] = true
		remove(m)
	}
	for seq := uint64(0); ; {
		m, err := s.st.LoadNext(">", seq)
		if err != nil || m.Seq > bound {
			return k
		}
		if !gone[m.Seq] {
			remove(m)
		}
		seq = m.Seq + 1
	}
}

// ttlOrderLocked loads the stored messages among seqs at or below at, in
// the order a single server's timer expires them: by expiry time, then
// sequence.
func (s *Stream) ttlOrderLocked(seqs []uint64, at uint64) []*store.Msg {
	var ms []*store.Msg
	for _, seq := range seqs {
		if seq > at {
			break
		}
		if m, err := s.st.Load(seq); err == nil {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *store.Msg) int {
		return cmp.Or(cmp.Compare(a.Time+a.TTL, b.Time+b.TTL), cmp.Compare(a.Seq, b.Seq))
	})
	return ms
}

// opAllowedLocked is the error of deciding a removal now, nil when none.
func (s *Stream) opAllowedLocked() *jsapi.ApiError {
	switch {
	case s.closed:
		return jsapi.NewError(jsapi.ErrClusterNotAvail)
	case s.cfg.Sealed:
		return jsapi.NewError(jsapi.ErrStreamSealed)
	}
	return nil
}

// opPointLocked is the last sequence decided (proposals in flight
// included) and the time to stamp on an entry decided now.
func (s *Stream) opPointLocked() (at uint64, now int64) {
	at, last := s.proposedLastLocked()
	return at, max(s.now().UnixNano(), last)
}

// applyOpLocked carries out a removal or configuration entry. Like
// applyLocked it reads nothing local. It returns how many messages went
// (1 for a delete), or the error a single server would answer.
func (s *Stream) applyOpLocked(e *Entry) (uint64, error) {
	switch e.Kind {
	case EntryDelete:
		return s.applyDeleteLocked(e)
	case EntryPurge:
		n, err := s.st.Purge(boundPurge(e.Purge, e.Seq, s.last, s.st.NumPending(e.Seq+1, e.Purge.Subject, false)))
		s.syncLastLocked()
		s.prop.applied(s.last, nil) // a purge past the end the leader jumped over
		if err != nil {
			return 0, jsapi.NewError(jsapi.ErrStreamPurgeFailed, jsapi.PathFree(err))
		}
		s.pruneStaleTTLsLocked()
		return n, nil
	case EntryExpire:
		return s.applyExpireLocked(e), nil
	case EntryConfig:
		var cfg jsapi.StreamConfig
		if err := json.Unmarshal(e.Config, &cfg); err != nil {
			return 0, jsapi.NewError(jsapi.ErrStreamUpdate, err)
		}
		// At or below at the update takes its limits out at once. Above
		// it (a replay over a store holding later messages) the limits
		// were enforced the first time, when those messages did not
		// exist: enforcing them again would remove what came after.
		s.updateLocked(cfg, s.last <= e.Seq)
		return 0, nil
	}
	return 0, ErrBadEntry
}

func (s *Stream) applyDeleteLocked(e *Entry) (uint64, error) {
	if e.Target == 0 || e.Target > e.Seq {
		return 0, jsapi.NewError(jsapi.ErrSequenceNotFound, e.Target)
	}
	ok, err := s.st.Delete(e.Target, e.Erase)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return 0, jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, jsapi.PathFree(err))
	case !ok:
		return 0, jsapi.NewError(jsapi.ErrSequenceNotFound, e.Target)
	}
	return 1, nil
}

// boundPurge limits req to the messages at or below at, given the last
// stored sequence and how many messages req's subject has above at.
// Keeping the newest k below at is keeping the newest k+above of all.
// With nothing stored above at the request stands as made, so a purge up
// to a sequence past the end moves the last sequence there, as on a
// single server (and as the leader numbered what followed it).
func boundPurge(req store.PurgeRequest, at, last, above uint64) store.PurgeRequest {
	switch {
	case last <= at:
	case req.Seq > 0:
		req.Seq = min(req.Seq, at+1)
	case req.Keep > 0:
		req.Keep += above
	default:
		req.Seq = at + 1
	}
	return req
}

// applyExpireLocked removes what an expire entry lists, at or below its
// at, as a single server's timer would (subject delete markers in the
// sequences the leader reserved, the rest of those skipped), and reports
// how many messages went. Replayed (the stream past at) it places no
// markers: they are stored already.
func (s *Stream) applyExpireLocked(e *Entry) uint64 {
	var reserve uint64
	if s.last == e.Seq {
		reserve = e.Markers
	}
	var n, placed uint64
	removed := func(m *store.Msg, reason string) {
		n++
		if placed < reserve && s.markDeletedLocked(m, reason, e.Time) {
			placed++
		}
	}
	for _, m := range s.ttlOrderLocked(e.Seqs, e.Seq) {
		if ok, err := s.st.Delete(m.Seq, false); ok {
			removed(m, "TTL")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("ttl: delete failed", "stream", s.cfg.Name, "seq", m.Seq, "err", err)
		}
	}
	bound := min(e.Target, e.Seq)
	if s.cfg.SubjectDeleteMarkerTTL > 0 {
		// One at a time, for the markers; bounded by the messages stored.
		for range s.st.State().Msgs {
			m, err := s.st.LoadNext(">", 0)
			if err != nil || m.Seq > bound {
				break
			}
			if ok, _ := s.st.Delete(m.Seq, false); !ok {
				break
			}
			removed(m, "MaxAge")
		}
	} else if b := min(bound, s.last); b > 0 {
		got, err := s.st.Purge(store.PurgeRequest{Seq: b + 1})
		if err != nil {
			s.log.Error("max age: purge failed", "stream", s.cfg.Name, "err", err)
		}
		n += got
	}
	if end := e.Seq + reserve; s.last < end {
		if err := s.skipToLocked(end); err != nil {
			s.log.Error("expiry: skip failed", "stream", s.cfg.Name, "err", err)
		}
	}
	s.syncLastLocked()
	s.prop.applied(s.last, nil) // the markers the leader reserved
	s.pruneStaleTTLsLocked()
	s.reportedAt, s.armedAt = 0, 0 // the report is answered: look again
	s.scheduleLocked()
	return n
}

// pruneStaleTTLsLocked prunes the expiry heap once most of it is messages
// gone. A follower never pops its heap (its timer does not run), so
// without this it would grow with every message with a TTL; with it the
// heap stays within twice the stored messages, and a removal does not
// scan a heap that is mostly live.
func (s *Stream) pruneStaleTTLsLocked() {
	if len(s.ttls) > 2*int(min(s.st.State().Msgs, 1<<30)) {
		s.pruneTTLsLocked()
	}
}
