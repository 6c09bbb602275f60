package consumer

import (
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// Outlet is how a consumer sends messages; core.InternalClient is one.
type Outlet interface {
	Publish(subject, reply string, hdr, data []byte) (bool, error)
	// PublishTo delivers to deliver's subscribers a message they see on
	// subject.
	PublishTo(deliver, subject, reply string, hdr, data []byte) (bool, error)
	// PublishToDeferred is PublishTo without the flush; Flush sends.
	PublishToDeferred(deliver, subject, reply string, hdr, data []byte) (bool, error)
	Flush()
	HasInterest(subject string) bool
}

// Source is the stream a consumer reads.
type Source interface {
	Name() string
	Store() store.Store
	Config() jsapi.StreamConfig
	// OnStored calls fn after each stored message; cancel stops it. fn
	// runs with the stream's lock held: it must not block.
	OnStored(fn func()) (cancel func())
}

// Options are a consumer's collaborators.
type Options struct {
	Source  Source
	Out     Outlet
	Created time.Time
	Logger  *slog.Logger
	// OnInactive is called (on a goroutine of its own) once an ephemeral
	// consumer, or one with inactive_threshold, saw no interest for that
	// long; the owner then deletes it.
	OnInactive func()
	// OnAck is called after acks, so interest and work-queue streams can
	// remove acknowledged messages; nil for limits streams.
	OnAck func(seq uint64)
	// State restores a durable consumer's delivery state.
	State *State
	// Advise publishes an advisory (max deliveries, terminated); nil
	// sends none. It must not block.
	Advise func(subject string, event any)
	// Persist saves the consumer's state before an AckSync is confirmed;
	// nil for consumers that keep nothing on disk.
	Persist func()
	Now     func() time.Time
	// Domain is the JetStream domain advisories name ("" for none).
	Domain string
	// Replicate, set on the leader of a replicated consumer, takes each
	// batch of decided events (EncodeBatch), in decision order, for the
	// consumer's Raft group; the caller hands every committed batch back
	// to ApplyReplicated (replicate.go). It is called with no lock held
	// and may call into the consumer; it should not block for long: the
	// events decided meanwhile wait for it.
	Replicate func(batch []byte)
	// Applied is the sequence of the last batch State includes, for a
	// leader started from a replica; 0 for a new replicated consumer,
	// whose first batch then carries its starting state.
	Applied uint64
}

// ErrClosed is returned after Stop.
var ErrClosed = errors.New("consumer: closed")

// Defaults applied like nats-server's.
const (
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1000
	DefaultMaxWaiting    = 512
	defaultInactive      = 5 * time.Second
	maxPullBatch         = 1 << 20
)

// pendingAck is a delivered message awaiting its ack.
type pendingAck struct {
	cseq     uint64
	dc       int   // deliveries so far
	deadline int64 // unix ns when it is redelivered without an ack
	sent     int64 // unix ns of the last delivery (ack sampling)
	queued   bool  // on the redelivery queue
}

// pullRequest is a waiting CONSUMER.MSG.NEXT.
type pullRequest struct {
	reply     string
	batch     int
	maxBytes  int
	expires   int64 // unix ns, 0 = never
	noWait    bool
	hb        time.Duration
	lastHB    int64
	sent      int
	sentBytes int
	pin       jsapi.PriorityGroup // group, pin id, overflow thresholds
}

// Consumer is one consumer. Its methods are safe for concurrent use.
type Consumer struct {
	mu      sync.Mutex
	name    string
	stream  string // the stream's name, which never changes: no stream lock per delivery
	src     Source
	st      store.Store
	out     Outlet
	log     *slog.Logger
	now     func() time.Time
	created time.Time
	cfg     jsapi.ConsumerConfig
	filters []string
	onIdle  func()
	onAck   func(uint64)
	advise  func(string, any)
	persist func()
	domain  string

	// The persisted state: changed only by events (transition.go).
	deliveryState

	lastActive int64
	redeliver  []uint64 // stream sequences due again, in order
	fromLPS    bool     // the last new message read came from lps
	waiting    []*pullRequest

	earliest int64    // no pending deadline is before this (0: none)
	ackedOut []uint64 // acked since the last report to onAck

	replayPrevTS int64 // stored time of the last delivery (replay original)
	replayPrevAt int64 // when it went out
	rlNext       int64 // rate limit: the next delivery may go at this time
	holdUntil    int64 // a held-back message is due then

	fcReply    string // outstanding flow-control request, "" when none
	fcDeadline int64
	fcBytes    int
	fcSeq      uint64
	np         uint64 // messages still to deliver, as last counted
	npValid    bool
	npAt       int64 // when np was counted
	idleSince  int64 // push: when interest went away; pull: last request
	lastSend   int64
	dirty      bool
	lastSweep  int64 // last interest check of every waiting request

	resumeDue bool // a pause is running: advise when it ends

	// The pinned client of a pinned_client consumer: its id, the group it
	// asked for, when it was pinned, when the pin lapses unless renewed.
	pinID      string
	pinGroup   string
	pinnedAt   time.Time
	pinExpires int64

	// hadInterest: a push consumer's last turn saw a subscriber; the
	// inactivity clock starts when one finds none. forceSweep: the turn
	// checks every waiting request's interest now (subscriptions changed).
	hadInterest bool
	forceSweep  bool
	idleFired   bool // OnInactive was called: nothing more goes out

	// wantsMsgs tells the stream's store callback whether a new message
	// can matter now (push consumers; pull consumers with requests), so a
	// publish does not wake every idle pull consumer of the stream.
	outbox   []outMsg // what the running turn sends once it lets the lock go
	outBytes int

	// Replication (replicate.go): events decided and not yet handed to
	// replicate, the start state a new consumer's first batch carries,
	// the last batch proposed and committed, AckSyncs awaiting a commit.
	replicate    func([]byte)
	replEvents   []Event
	replStart    *State
	replFlushing bool
	replPoked    bool  // a turn is queued to propose the events plain acks left (see Ack)
	lastProposal int64 // when the last batch was proposed (unix ns, the consumer's clock)
	proposed     uint64
	committed    uint64
	syncWaits    []syncWait

	wantsMsgs atomic.Bool
	sched     *scheduler
	sl        slot
	cancel    func()
	closed    bool
}

// New validates nothing (the caller did) and starts the consumer.
func New(name string, cfg jsapi.ConsumerConfig, o Options) *Consumer {
	c := &Consumer{
		name:    name,
		stream:  o.Source.Name(),
		src:     o.Source,
		st:      o.Source.Store(),
		out:     o.Out,
		log:     o.Logger,
		now:     o.Now,
		created: o.Created,
		onIdle:  o.OnInactive,
		onAck:   o.OnAck,
		advise:  o.Advise,
		persist: o.Persist,
		domain:  o.Domain,
		sched:   shared,
	}
	c.sl.hidx = -1
	c.pending = map[uint64]*pendingAck{}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.created.IsZero() {
		c.created = c.now().UTC()
	}
	c.setConfig(cfg)
	if o.State != nil {
		c.restore(o.State)
	} else {
		c.start()
	}
	if o.Replicate != nil {
		c.replicate, c.proposed, c.committed = o.Replicate, o.Applied, o.Applied
		if o.Applied == 0 {
			st := c.stateLocked()
			c.replStart = &st
		}
		c.flushReplicated()
	}
	c.idleSince = c.now().UnixNano()
	c.resumeDue = c.pausedLocked(c.idleSince)
	c.wantsMsgs.Store(cfg.DeliverSubject != "")
	c.cancel = c.src.OnStored(c.stored)
	c.poke() // the first turn delivers what is there and sets the timers
	return c
}

func (c *Consumer) setConfig(cfg jsapi.ConsumerConfig) {
	c.cfg = cfg
	c.filters = nil
	switch {
	case len(cfg.FilterSubjects) > 0:
		c.filters = append(c.filters, cfg.FilterSubjects...)
	case cfg.FilterSubject != "":
		c.filters = []string{cfg.FilterSubject}
	default:
		c.filters = []string{">"}
	}
}

// start positions the cursor per the deliver policy.
func (c *Consumer) start() {
	st := c.st.State()
	switch c.cfg.DeliverPolicy {
	case jsapi.DeliverAll:
		c.sseq = max(st.FirstSeq, 1)
	case jsapi.DeliverLast:
		c.sseq = st.LastSeq + 1
		var last uint64
		for _, f := range c.filters {
			if m, err := c.st.LoadLast(f); err == nil && m.Seq > last {
				last = m.Seq
			}
		}
		if last > 0 {
			c.sseq = last
		}
	case jsapi.DeliverNew:
		c.sseq = st.LastSeq + 1
	case jsapi.DeliverByStartSequence:
		c.sseq = max(c.cfg.OptStartSeq, 1)
	case jsapi.DeliverByStartTime:
		c.sseq = max(c.st.State().FirstSeq, 1)
		if c.cfg.OptStartTime != nil {
			c.sseq = store.SeqAtTime(c.st, c.cfg.OptStartTime.UnixNano())
		}
	case jsapi.DeliverLastPerSubject:
		seen := map[uint64]bool{}
		for _, f := range c.filters {
			for _, ss := range c.st.SubjectsState(f) {
				if !seen[ss.Last] {
					seen[ss.Last] = true
					c.lps = append(c.lps, ss.Last)
				}
			}
		}
		sort.Slice(c.lps, func(i, j int) bool { return c.lps[i] < c.lps[j] })
		c.sseq = st.LastSeq + 1
	}
	c.floorS = c.sseq - 1
	if len(c.lps) > 0 {
		c.floorS = c.lps[0] - 1
	}
}

// Name returns the consumer's name.
func (c *Consumer) Name() string { return c.name }

// Config returns the configuration in force.
func (c *Consumer) Config() jsapi.ConsumerConfig {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// Persists reports whether the consumer keeps its state on disk (a
// durable of a file stream, without mem_storage). It takes no lock.
func (c *Consumer) Persists() bool { return c.persist != nil }

// Created returns the creation time.
func (c *Consumer) Created() time.Time { return c.created }

// Update installs a new configuration (checked by the caller). A new
// pause deadline is advised; a policy that no longer pins drops the pin.
func (c *Consumer) Update(cfg jsapi.ConsumerConfig) {
	c.mu.Lock()
	old := c.cfg
	c.setConfig(cfg)
	if !samePause(old.PauseUntil, cfg.PauseUntil) {
		c.pauseChangedLocked(c.now().UnixNano())
	}
	if cfg.PriorityPolicy != jsapi.PriorityPinnedClient && c.pinID != "" {
		c.pinID, c.pinnedAt, c.pinExpires = "", time.Time{}, 0
	}
	c.mu.Unlock()
	c.poke()
}

// Info describes the consumer.
func (c *Consumer) Info() *jsapi.ConsumerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := c.cfg
	info := &jsapi.ConsumerInfo{
		Stream:         c.stream,
		Name:           c.name,
		Created:        c.created,
		Config:         &cfg,
		Delivered:      jsapi.SequenceInfo{Consumer: c.dseq, Stream: c.lastSSeq},
		AckFloor:       jsapi.SequenceInfo{Consumer: c.floorC, Stream: c.floorS},
		NumAckPending:  len(c.pending),
		NumRedelivered: c.redelivers,
		NumWaiting:     len(c.waiting),
		NumPending:     c.numPendingLocked(),
		TimeStamp:      c.now().UTC(),
		PriorityGroups: c.priorityInfoLocked(),
	}
	if now := c.now(); c.pausedLocked(now.UnixNano()) {
		info.Paused, info.PauseRemaining = true, c.cfg.PauseUntil.Sub(now)
	}
	if c.lastActive > 0 {
		t := time.Unix(0, c.lastActive).UTC()
		info.Delivered.Last = &t
	}
	if c.cfg.DeliverSubject != "" {
		info.PushBound = c.out.HasInterest(c.cfg.DeliverSubject)
	}
	if c.cfg.AckPolicy == jsapi.AckNone {
		info.AckFloor = info.Delivered
		info.AckFloor.Last = nil
	}
	return info
}

// numPendingLocked counts messages not yet delivered.
func (c *Consumer) numPendingLocked() uint64 {
	var n uint64
	for _, f := range c.filters {
		n += c.st.NumPending(c.sseq, f, false)
	}
	return n + uint64(len(c.lps))
}

// poke queues a delivery turn.
func (c *Consumer) poke() { c.sched.wake(c) }

// stored is the stream's callback after each stored message.
func (c *Consumer) stored() {
	if c.wantsMsgs.Load() {
		c.sched.wake(c)
	}
}

func (c *Consumer) slot() *slot { return &c.sl }

// Stop ends delivery; waiting pull requests are told the consumer is gone.
func (c *Consumer) Stop() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	waiting := c.waiting
	c.waiting = nil
	// Unconfirmed AckSyncs stay unanswered: the client retries.
	c.syncWaits = nil
	c.mu.Unlock()
	c.cancel()
	c.sched.remove(c)
	for _, r := range waiting {
		c.status(r.reply, 409, "Consumer Deleted", "")
	}
}

// status sends a status-only message ("NATS/1.0 404 No Messages") now;
// the caller holds no lock (under the lock, statusLocked queues one).
func (c *Consumer) status(subject string, code int, desc, extra string) {
	if _, err := c.out.Publish(subject, "", statusHeader(code, desc, extra), nil); err != nil {
		c.log.Debug("consumer status not sent", "err", err)
	}
}
