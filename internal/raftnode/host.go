package raftnode

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Host runs one server's Raft groups on one goroutine. Methods may be
// called from any goroutine; they reach the loop through bounded queues.
type Host struct {
	eng     *engine
	ticker  Ticker
	inbox   chan Envelope
	ops     chan func(*engine)
	reports chan report        // the transport's news of peers (report.go)
	props   chan asyncProposal // ProposeAsync's, in order

	propsMu     sync.RWMutex // Close stops ProposeAsync under it (async.go)
	propsClosed bool
	quit        chan struct{}
	wg          sync.WaitGroup

	closeOnce sync.Once
	dropped   atomic.Uint64
}

// opQueue bounds the requests (proposals, admin calls) waiting for the
// loop; callers block on it under their context.
const opQueue = 1024

// drainMax bounds how many queued inputs one iteration takes before it
// processes, so a flood of messages cannot starve ticks or the save.
const drainMax = 1024

// New validates opts and returns a Host; Start runs it.
func New(opts Options) (*Host, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Seed == 0 {
		opts.Seed = time.Now().UnixNano()
	}
	if opts.ProposalIDBase == 0 {
		opts.ProposalIDBase = uint64(time.Now().UnixNano()) << 8
	}
	t := opts.Ticker
	if t == nil {
		t = realTicker{time.NewTicker(opts.TickInterval)}
	}
	return &Host{
		eng:     newEngine(opts),
		ticker:  t,
		inbox:   make(chan Envelope, opts.InboxSize),
		ops:     make(chan func(*engine), opQueue),
		reports: make(chan report, reportQueue),
		props:   make(chan asyncProposal, opts.MaxPendingProposals),
		quit:    make(chan struct{}),
	}, nil
}

// Start runs the loop.
func (h *Host) Start() {
	h.wg.Add(1)
	go h.loop()
}

// Close stops the loop and waits for it; proposals in flight end with
// ErrStopped. Close is idempotent.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.propsMu.Lock()
		h.propsClosed = true
		h.propsMu.Unlock()
		close(h.quit)
		h.wg.Wait()
		h.ticker.Stop()
		h.refuseQueued() // queued after the loop's last look, before the lock
	})
	return nil
}

func (h *Host) loop() {
	defer h.wg.Done()
	defer h.eng.stop()
	defer h.refuseQueued()
	failed := false
	for {
		if h.eng.hasReady() {
			// Advancing a node can make it ready again at once: a member
			// alone in its group commits its entry when it learns of its
			// own save. Waiting for the next input would stall it; the
			// clock is still read, so a busy loop does not lose ticks.
			select {
			case <-h.quit:
				return
			case <-h.ticker.C():
				h.eng.tick()
			default:
			}
		} else {
			select {
			case <-h.quit:
				return
			case <-h.ticker.C():
				h.eng.tick()
			case env := <-h.inbox:
				h.eng.step(env)
			case op := <-h.ops:
				op(h.eng)
			case r := <-h.reports:
				h.eng.report(r)
			case ap := <-h.props:
				// An idle loop must wake for a queued proposal, or a
				// lone publish waits for the next tick or heartbeat;
				// drain proposes it with whatever follows it.
				h.eng.queueAsync(ap)
			}
		}
		h.drain()
		if err := h.eng.process(); err != nil && !failed {
			// The engine refuses everything from now on; the server must
			// restart the host from its log. Keep serving calls with errors.
			failed = true
			h.eng.log.Error("raft host failed", "err", err)
		}
	}
}

// drain takes what else is already queued, up to a bound, so one save
// covers as much as possible (the group commit).
func (h *Host) drain() {
	defer h.eng.flushAsync()
	for range drainMax {
		select {
		case env := <-h.inbox:
			h.eng.step(env)
		case op := <-h.ops:
			h.eng.flushAsync() // an op may propose: after what was queued
			op(h.eng)
		case r := <-h.reports:
			h.eng.report(r)
		case ap := <-h.props:
			h.eng.queueAsync(ap)
		default:
			return
		}
	}
}

// Step queues messages from the transport. It never blocks: when the
// queue is full the rest are dropped (Raft retransmits) and counted.
func (h *Host) Step(msgs []Envelope) {
	for i, m := range msgs {
		select {
		case h.inbox <- m:
		default:
			h.dropped.Add(uint64(len(msgs) - i))
			return
		}
	}
}

// Err returns the error that stopped the host (its log failed), or nil.
func (h *Host) Err(ctx context.Context) error {
	var err error
	if cerr := h.call(ctx, func(e *engine) { err = e.failed }); cerr != nil {
		return cerr
	}
	return err
}

// Dropped is how many messages Step dropped because the loop was behind.
func (h *Host) Dropped() uint64 { return h.dropped.Load() }

// call runs fn on the loop and waits for it to finish.
func (h *Host) call(ctx context.Context, fn func(*engine)) error {
	done := make(chan struct{})
	op := func(e *engine) { fn(e); close(done) }
	select {
	case h.ops <- op:
	case <-ctx.Done():
		return ctx.Err()
	case <-h.quit:
		return ErrStopped
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-h.quit:
		return ErrStopped
	}
}

// AddGroup starts a group on this host with peers (node ids, this one
// included) as its first voters, or restarts it from the log when the log
// knows it. With no peers and a log that does not know the group, the
// member starts empty to join a running group: it does nothing until the
// group's leader, having added it (AddMember), sends it a snapshot.
func (h *Host) AddGroup(ctx context.Context, group uint64, peers []uint64, sm StateMachine) error {
	var err error
	if cerr := h.call(ctx, func(e *engine) { err = e.addGroup(group, peers, sm) }); cerr != nil {
		return cerr
	}
	return err
}

// Resume tells the group's host that its state machine has fetched what
// the snapshot it was given named (it had answered ErrFetching): the
// entries held since are applied, in order, before any newer one.
func (h *Host) Resume(ctx context.Context, group uint64) error {
	var err error
	if cerr := h.call(ctx, func(e *engine) { err = e.resume(group) }); cerr != nil {
		return cerr
	}
	return err
}

// RemoveGroup stops the group (if it runs) and removes it from the log.
func (h *Host) RemoveGroup(ctx context.Context, group uint64) error {
	var err error
	if cerr := h.call(ctx, func(e *engine) { err = e.removeGroup(group) }); cerr != nil {
		return cerr
	}
	return err
}

// Propose proposes data to the group. It fails at once when this host
// is not the leader (*NotLeaderError names the leader when known);
// otherwise the returned Proposal settles when the entry is applied or
// known lost (see Proposal).
func (h *Host) Propose(ctx context.Context, group uint64, data []byte) (*Proposal, error) {
	var (
		p   *Proposal
		err error
	)
	if cerr := h.call(ctx, func(e *engine) { p, err = e.propose(group, data) }); cerr != nil {
		return nil, cerr
	}
	return p, err
}

// Campaign makes this host stand for election in the group.
func (h *Host) Campaign(ctx context.Context, group uint64) error {
	var err error
	if cerr := h.call(ctx, func(e *engine) { err = e.campaign(group) }); cerr != nil {
		return cerr
	}
	return err
}

// TransferLeadership asks the group's leader (this host) to hand
// leadership to node to; Status shows when it happened.
func (h *Host) TransferLeadership(ctx context.Context, group, to uint64) error {
	var err error
	if cerr := h.call(ctx, func(e *engine) { err = e.transferLeadership(group, to) }); cerr != nil {
		return cerr
	}
	return err
}

// Status returns the group's Raft state on this host.
//
// A group this host does not run answers ErrNoGroup, or ErrLogLost when
// it was stopped because its log lost entries it had acknowledged.
func (h *Host) Status(ctx context.Context, group uint64) (Status, error) {
	var (
		s   Status
		err error
	)
	if cerr := h.call(ctx, func(e *engine) { s, err = e.status(group) }); cerr != nil {
		return Status{}, cerr
	}
	return s, err
}

// HeartbeatInterval is how often a leader sends its heartbeats (0 with a
// caller's Ticker and no TickInterval).
func (h *Host) HeartbeatInterval() time.Duration {
	return h.eng.cfg.TickInterval * time.Duration(h.eng.cfg.HeartbeatTicks)
}

// AddMember proposes adding node to the group as a voter. Start the group
// on the node's host first (AddGroup with no peers) or soon after: the
// group's quorum counts the new voter from the moment the change applies.
// The Proposal settles once the change is applied here; its Value is the
// new Members.
func (h *Host) AddMember(ctx context.Context, group, node uint64) (*Proposal, error) {
	return h.ChangeMembers(ctx, group, []uint64{node}, nil)
}

// RemoveMember proposes removing node from the group's voters or learners. Removing
// the leader itself is allowed: it steps down once the change applies and
// the others elect a leader. The removed member's Status shows Removed;
// the caller then calls RemoveGroup on its host.
func (h *Host) RemoveMember(ctx context.Context, group, node uint64) (*Proposal, error) {
	return h.ChangeMembers(ctx, group, nil, []uint64{node})
}

// ChangeMembers proposes adding and removing voters in one change, as
// replacing a member needs; more than one voter changed goes through
// joint consensus, and the Proposal settles once the group left it. Only
// the leader accepts (*NotLeaderError elsewhere), one change at a time
// (ErrChangePending).
func (h *Host) ChangeMembers(ctx context.Context, group uint64, add, remove []uint64) (*Proposal, error) {
	var (
		p   *Proposal
		err error
	)
	if cerr := h.call(ctx, func(e *engine) { p, err = e.changeMembers(group, add, remove, nil) }); cerr != nil {
		return nil, cerr
	}
	return p, err
}

// AddLearner proposes adding node to the group as a learner: it gets the
// log as a voter would, but neither votes nor counts toward the quorum,
// so a member that starts empty can catch up without holding commits
// back; AddMember on it later makes it a voter.
func (h *Host) AddLearner(ctx context.Context, group, node uint64) (*Proposal, error) {
	var (
		p   *Proposal
		err error
	)
	if cerr := h.call(ctx, func(e *engine) { p, err = e.changeMembers(group, nil, nil, []uint64{node}) }); cerr != nil {
		return nil, cerr
	}
	return p, err
}

// refuseQueued tells the asynchronous proposals still queued at Close
// that they will not be made.
func (h *Host) refuseQueued() {
	for {
		select {
		case ap := <-h.props:
			ap.notify(Result{}, ErrStopped)
		default:
			return
		}
	}
}
