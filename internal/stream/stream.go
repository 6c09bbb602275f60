package stream

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/subject"
)

// Publisher sends server-originated messages (acks, delete markers).
// core.InternalClient implements it.
type Publisher interface {
	Publish(subject, reply string, hdr, data []byte) (bool, error)
}

// Options are a stream's collaborators.
type Options struct {
	// Store holds the messages; the stream owns it from now on.
	Store store.Store
	// Out sends acks. Required.
	Out Publisher
	// Republish sends republished messages (the republish setting); nil
	// means Out. It is called from a goroutine of the stream's, never
	// under the stream's lock.
	Republish Publisher
	// Logger for the stream; nil discards.
	Logger *slog.Logger
	// Domain is the JetStream domain named in acks ("" for none).
	Domain string
	// Created is the stream's creation time (kept across restarts).
	Created time.Time
	// ResourcesExceeded, when set, is the error of storing n more bytes
	// of this storage type (the account's or the server's JetStream limit
	// passed), nil when they fit.
	ResourcesExceeded func(st jsapi.StorageType, n uint64) *jsapi.ApiError
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Replicated makes the stream a replica of a replicated stream
	// (ops.go): expiry by max_age and TTL removes nothing on its own and
	// comes as entries instead, proposed by the leader.
	Replicated bool
	// Expired receives, on a replicated stream's leader (SetLeader), an
	// encoded expire entry when its timer finds messages due; the caller
	// proposes it. It is called from the timer's goroutine, never under
	// the stream's lock, and must not call Close.
	Expired func(entry []byte)
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("stream: closed")

// Stream is one stream. Its methods are safe for concurrent use.
type Stream struct {
	mu      sync.Mutex
	cfg     jsapi.StreamConfig
	st      store.Store
	out     Publisher
	log     *slog.Logger
	now     func() time.Time
	created time.Time
	domain  string
	exceed  func(jsapi.StorageType, uint64) *jsapi.ApiError

	ackPrefix []byte // {"stream":"NAME","seq":  (and domain)
	lastTS    int64  // keeps stored times non-decreasing for age expiry
	last      uint64 // the store's LastSeq, so propose numbers entries without asking; see syncLastLocked
	lmsgID    string // Nats-Msg-Id of the last stored message
	dedup     *dedup
	ttls      ttlHeap
	timer     *time.Timer
	armedAt   int64 // when the timer fires (unix ns), 0 when idle
	closed    bool
	consumers int
	acks      *ackQueue
	inq       inQueue            // in-process publishes waiting to be stored (inqueue.go)
	listeners map[uint64]func()  // called after each store (consumers, mirrors, sources)
	lisNext   uint64             // key of the next listener
	itr       *subject.Transform // subject_transform of incoming messages
	tracing   *Trace             // set during a traced ingest (trace.go)
	prop      proposals          // a leader's proposals not yet applied (proposals.go)
	unsettled uint64             // the last sequence proposed before the last ResetProposals (ProposalsSettled)
	settled   chan struct{}      // closed when proposals are applied or dropped, for Settle (settle.go)
	rpRule    *republishRule     // republish setting, nil without
	quiet     bool               // applying a catch-up (catchup.go): no republishing
	rpOut     Publisher          // sends republished messages
	rp        *republisher       // started on the first republished message
	// Bounds of the republish queue (tests make them small).
	rpMaxMsgs, rpMaxBytes int

	replicated bool           // Options.Replicated
	leader     bool           // SetLeader
	expired    func([]byte)   // Options.Expired
	reportedAt int64          // when the leader last reported an expiry, 0 once applied
	hooks      sync.WaitGroup // Expired calls running
}

// New opens a stream over o.Store with cfg, which the caller validated.
// The store may hold messages from a previous run: de-duplication IDs in
// the window and per-message TTLs are rebuilt from it.
func New(cfg jsapi.StreamConfig, o Options) (*Stream, error) {
	if o.Store == nil || o.Out == nil {
		return nil, errors.New("stream: store and publisher are required")
	}
	s := &Stream{
		st:      o.Store,
		out:     o.Out,
		log:     o.Logger,
		now:     o.Now,
		created: o.Created,
		domain:  o.Domain,
		exceed:  o.ResourcesExceeded,
		rpOut:   o.Republish,

		replicated: o.Replicated,
		expired:    o.Expired,

		rpMaxMsgs:  republishQueueMsgs,
		rpMaxBytes: republishQueueBytes,
	}
	if s.rpOut == nil {
		s.rpOut = o.Out
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.created.IsZero() {
		s.created = s.now().UTC()
	}
	s.acks = newAckQueue(s)
	s.applyConfig(cfg)
	st := s.st.State()
	if st.LastSeq == 0 && cfg.FirstSeq > 1 {
		if _, err := s.st.Compact(cfg.FirstSeq); err != nil {
			return nil, err
		}
	}
	s.lastTS = st.LastTime.UnixNano()
	if st.LastSeq == 0 {
		s.lastTS = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncLastLocked()
	if err := s.rebuildLocked(); err != nil {
		return nil, err
	}
	s.enforceLimitsLocked()
	s.expireLocked()
	return s, nil
}

// applyConfig installs cfg; the caller holds mu or owns s exclusively.
func (s *Stream) applyConfig(cfg jsapi.StreamConfig) {
	s.cfg = cfg
	s.ackPrefix = buildAckPrefix(cfg.Name, s.domain)
	s.itr = nil
	s.rpRule = newRepublishRule(cfg.RePublish)
	if tr := cfg.SubjectTransform; tr != nil {
		// Validated with the configuration; a failure here leaves
		// subjects as published.
		if t, err := subject.NewTransform(tr.Source, tr.Destination); err == nil {
			s.itr = t
		}
	}
	if s.dedup == nil {
		s.dedup = newDedup(int64(cfg.Duplicates))
	} else {
		s.dedup.setWindow(int64(cfg.Duplicates))
	}
}

// rebuildLocked restores the in-memory indexes that are derived from the
// stored messages: message IDs inside the duplicate window, and expiry
// times of messages with a TTL.
func (s *Stream) rebuildLocked() error {
	st := s.st.State()
	if st.Msgs == 0 {
		return nil
	}
	now := s.now().UnixNano()
	if win := int64(s.cfg.Duplicates); win > 0 {
		// Walk back from the newest message until the window ends; the
		// IDs are then re-added oldest first.
		var found []dedupItem
		var seqs []uint64
		for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; {
			m, err := s.st.LoadPrev(">", seq)
			if err != nil || m.Time <= now-win {
				break
			}
			if id, ok := headerValue(m.Header, hdrMsgID); ok && id != "" {
				found = append(found, dedupItem{id: id, ts: m.Time})
				seqs = append(seqs, m.Seq)
			}
			seq = m.Seq - 1
		}
		for i := len(found) - 1; i >= 0; i-- {
			s.dedup.add(found[i].id, seqs[i], found[i].ts)
		}
	}
	if s.cfg.AllowMsgTTL {
		for seq := st.FirstSeq; ; {
			m, err := s.st.LoadNext(">", seq)
			if err != nil {
				break
			}
			if m.TTL > 0 {
				s.ttls.push(ttlItem{at: m.Time + m.TTL, seq: m.Seq})
			}
			seq = m.Seq + 1
		}
	}
	if m, err := s.st.LoadLast(">"); err == nil {
		if id, ok := headerValue(m.Header, hdrMsgID); ok {
			s.lmsgID = id
		}
	}
	return nil
}

// Name returns the stream name.
func (s *Stream) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Name
}

// Config returns the configuration in force.
func (s *Stream) Config() jsapi.StreamConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Created returns the creation time.
func (s *Stream) Created() time.Time { return s.created }

// Store gives read access to the messages (message get, direct get).
func (s *Stream) Store() store.Store { return s.st }

// SetConsumerCount records how many consumers the stream has (for info
// and interest retention).
func (s *Stream) SetConsumerCount(n int) {
	s.mu.Lock()
	s.consumers = n
	s.mu.Unlock()
}

// Update installs a new configuration (validated by the caller against
// the old one) and applies tightened limits at once.
func (s *Stream) Update(cfg jsapi.StreamConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.updateLocked(cfg, true)
	return nil
}

// updateLocked installs cfg, with enforce taking tightened limits out at
// once.
func (s *Stream) updateLocked(cfg jsapi.StreamConfig, enforce bool) {
	hadTTL := s.cfg.AllowMsgTTL
	s.applyConfig(cfg)
	if cfg.AllowMsgTTL && !hadTTL {
		s.ttls = nil
	}
	if enforce {
		s.enforceLimitsLocked()
	}
	s.armedAt = 0 // max_age may have changed: recompute
	s.expireLocked()
}

// Info describes the stream.
func (s *Stream) Info(deleted bool, subjectsFilter string) *jsapi.StreamInfo {
	s.mu.Lock()
	cfg, consumers := s.cfg, s.consumers
	s.mu.Unlock()
	st := s.st.State()
	state := jsapi.StreamState{
		Msgs:        st.Msgs,
		Bytes:       st.Bytes,
		FirstSeq:    st.FirstSeq,
		LastSeq:     st.LastSeq,
		NumSubjects: st.NumSubjects,
		NumDeleted:  st.NumDeleted,
		Consumers:   consumers,
	}
	// nats-server reports zero times for an empty stream, and UTC times
	// otherwise.
	if st.Msgs > 0 {
		state.FirstTime = st.FirstTime.UTC()
	}
	if st.LastSeq > 0 && !st.LastTime.IsZero() {
		state.LastTime = st.LastTime.UTC()
	}
	if deleted && st.NumDeleted > 0 {
		state.Deleted = s.st.Deleted(0)
	}
	if len(st.Lost.Msgs) > 0 {
		state.Lost = &jsapi.LostStreamData{Msgs: st.Lost.Msgs, Bytes: st.Lost.Bytes}
	}
	if subjectsFilter != "" {
		subs := s.st.SubjectsState(subjectsFilter)
		if len(subs) > 0 {
			state.Subjects = make(map[string]uint64, len(subs))
			for subj, ss := range subs {
				state.Subjects[subj] = ss.Msgs
			}
		}
	}
	return &jsapi.StreamInfo{
		Config:    cfg,
		Created:   s.created,
		State:     state,
		TimeStamp: s.now().UTC(),
	}
}

// Purge removes messages as req says.
func (s *Stream) Purge(req store.PurgeRequest) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	n, err := s.st.Purge(req)
	s.syncLastLocked() // purging past the end moves the last sequence
	if err == nil {
		s.pruneTTLsLocked()
	}
	return n, err
}

// syncLastLocked reads the last sequence back from the store, after a
// change other than a stored entry that may have moved it (a purge or
// compaction past the end, a failed write).
func (s *Stream) syncLastLocked() { s.last = s.st.State().LastSeq }

// DeleteMsg removes one message; with erase its bytes are overwritten.
func (s *Stream) DeleteMsg(seq uint64, erase bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	return s.st.Delete(seq, erase)
}

// Close stops timers and closes the store, syncing it.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	rp := s.rp
	s.mu.Unlock()
	s.hooks.Wait()
	s.stopIn()
	// Closing syncs the store, which runs the last durability callbacks;
	// their acks are sent before the queue stops.
	err := s.st.Close()
	s.acks.stop()
	if rp != nil {
		rp.stop()
	}
	return err
}

// Destroy closes the stream and removes its messages.
func (s *Stream) Destroy() error {
	s.mu.Lock()
	wasClosed := s.closed
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	rp := s.rp
	s.mu.Unlock()
	s.hooks.Wait()
	s.stopIn()
	err := s.st.Destroy()
	if !wasClosed {
		s.acks.stop()
		if rp != nil {
			rp.stop()
		}
	}
	return err
}
