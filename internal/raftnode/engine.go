package raftnode

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// engine is every group of one host, driven one step at a time. It starts
// no goroutine and reads no clock: Host runs it from its loop, and the
// simulation drives it directly, which is what makes a seeded run replay.
type engine struct {
	cfg       Options
	storage   Storage
	transport Transport
	log       *slog.Logger

	groups map[uint64]*group
	order  []uint64        // group ids, sorted: every iteration visits groups in the same order
	nextID uint64          // next proposal id
	rng    *rand.Rand      // election timeouts (see tick)
	failed error           // set when the log failed: nothing is safe to do after
	queued []asyncProposal // ProposeAsync's, taken by a drain (flushAsync)
	// lost are the groups stopped because their log lost acknowledged
	// entries (ErrLogLost), until removed or added again: Status says
	// so, where another stopped group is just not there (ErrNoGroup).
	lost map[uint64]bool

	// scratch reused by process
	work []readyWork
	ups  []Update
}

type readyWork struct {
	g  *group
	rd raft.Ready
}

func newEngine(cfg Options) *engine {
	return &engine{
		cfg:       cfg,
		storage:   cfg.Storage,
		transport: cfg.Transport,
		log:       cfg.Logger,
		groups:    make(map[uint64]*group),
		lost:      make(map[uint64]bool),
		nextID:    cfg.ProposalIDBase,
		rng:       rand.New(rand.NewSource(cfg.Seed)),
	}
}

// addGroup opens the group's log and starts its Raft node. A group the log
// has never seen is bootstrapped with peers as its voters, or, when peers
// is empty, starts with an empty log and configuration to join a running
// group (doc.go, "Membership"); a known group restarts from its log, and
// peers is ignored.
func (e *engine) addGroup(id uint64, peers []uint64, sm StateMachine) error {
	if e.failed != nil {
		return e.failed
	}
	delete(e.lost, id)
	if e.groups[id] != nil {
		return ErrGroupExists
	}
	st, err := e.storage.Open(id)
	if err != nil {
		return err
	}
	_, cs, err := st.InitialState()
	if err != nil {
		return err
	}
	last, err := st.LastIndex()
	if err != nil {
		return err
	}
	whole := keepsWholeLog(sm)
	founding := len(cs.GetVoters()) == 0 && last == 0 && len(peers) > 0
	joining := len(cs.GetVoters()) == 0 && last == 0 && len(peers) == 0
	if founding && !whole {
		if err := e.bootstrap(id, peers); err != nil {
			return err
		}
	}
	snap, err := st.Snapshot()
	if err != nil {
		return err
	}
	if err := e.commitSnapshot(id, st, snap); err != nil {
		return err
	}
	held, err := restoreSM(sm, snap.GetData(), false)
	if err != nil {
		return fmt.Errorf("raftnode: group %d: restore: %w", id, err)
	}
	applied := snap.GetMetadata().GetIndex()
	live := &liveSnapshots{Storage: st}
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        e.cfg.NodeID,
		ElectionTick:              e.cfg.ElectionTicks,
		HeartbeatTick:             e.cfg.HeartbeatTicks,
		Storage:                   live,
		Applied:                   applied,
		MaxSizePerMsg:             e.cfg.MaxSizePerMsg,
		MaxInflightMsgs:           e.cfg.MaxInflightMsgs,
		MaxUncommittedEntriesSize: e.cfg.MaxUncommittedBytes,
		CheckQuorum:               true,
		PreVote:                   true,
		// A follower refuses proposals, so Propose can tell the caller
		// where the leader is instead of forwarding blind.
		DisableProposalForwarding: true,
		StepDownOnRemoval:         true,
		Logger:                    raftLogger{e.log.With("group", id)},
	})
	if err != nil {
		return err
	}
	if founding && whole {
		if err := bootstrapEntries(rn, id, e.cfg.NodeID, peers); err != nil {
			return err
		}
	}
	_, cs, _ = st.InitialState()
	g := &group{
		id: id, rn: rn, sm: sm, log: st,
		cs:       cs,
		applied:  applied,
		snapAt:   applied,
		held:     held,
		heldTo:   applied,
		unplaced: make(map[uint64]*Proposal),
		placed:   make(map[uint64]*Proposal),
		leaseFor: time.Duration(e.cfg.ElectionTicks) * e.cfg.TickInterval * 4 / 5,
		amnesiac: joining,
	}
	live.g = g
	if u, ok := sm.(LeaseUser); ok {
		u.UseLease(g.leaseValid)
	}
	e.groups[id] = g
	g.resetTimer(e.rng, e.cfg.ElectionTicks)
	i, _ := slices.BinarySearch(e.order, id)
	e.order = slices.Insert(e.order, i, id)
	return nil
}

// bootstrap saves the group's first configuration as a snapshot at index 1
// (what raft's docs recommend over RawNode.Bootstrap): every member starts
// from the same log, so none needs the others to begin.
func (e *engine) bootstrap(id uint64, peers []uint64) error {
	if !slices.Contains(peers, e.cfg.NodeID) {
		return fmt.Errorf("raftnode: group %d: peers %v do not include this node (%d)", id, peers, e.cfg.NodeID)
	}
	snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
		Index:     new(uint64(1)),
		Term:      new(uint64(1)),
		ConfState: &raftpb.ConfState{Voters: slices.Clone(peers)},
	}}
	return e.storage.Save([]Update{{Group: id, Snapshot: snap, MustSync: true}})
}

// commitSnapshot repairs a log where a crash kept a snapshot received from
// the leader but not the hard state saved after it: the commit index
// would then lie below the snapshot, which raft refuses to start from. A
// snapshot holds committed entries only, so its index is a safe commit
// index. Term and vote stay as saved: raising the term would turn the
// saved vote into a vote in a term it was not cast in.
func (e *engine) commitSnapshot(id uint64, st raft.Storage, snap *raftpb.Snapshot) error {
	hs, _, err := st.InitialState()
	if err != nil {
		return err
	}
	idx := snap.GetMetadata().GetIndex()
	if hs.GetCommit() >= idx {
		return nil
	}
	fixed := &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(idx)}
	return e.storage.Save([]Update{{Group: id, HardState: fixed, MustSync: true}})
}

// removeGroup stops the group if it runs and removes it from the log,
// also when it does not run: a group stopped because its log was found
// damaged, or refused at start, is removed the same way.
func (e *engine) removeGroup(id uint64) error {
	delete(e.lost, id)
	if g := e.groups[id]; g != nil {
		e.dropGroup(g, ErrStopped)
	}
	return e.storage.Remove(id)
}

// dropGroup stops running a group (its log stays). A leader that stops
// says so to its state machine: whatever it serves as leader (a stream's
// publishes, the meta group's answers) must stop with it, or clients keep
// reaching a member that can no longer commit (a host whose log failed).
func (e *engine) dropGroup(g *group, err error) {
	g.failAll(err)
	if g.leading {
		g.leading = false
		g.dropLease()
		if w, ok := g.sm.(LeaderWatcher); ok {
			w.LeaderChanged(false, g.term)
		}
	}
	delete(e.groups, g.id)
	if i, ok := slices.BinarySearch(e.order, g.id); ok {
		e.order = slices.Delete(e.order, i, i+1)
	}
}

func (e *engine) propose(id uint64, data []byte) (*Proposal, error) {
	if e.failed != nil {
		return nil, ErrStopped
	}
	g := e.groups[id]
	if g == nil {
		return nil, ErrNoGroup
	}
	e.nextID++
	return g.propose(e.nextID, data, e.cfg.MaxPendingProposals)
}

func (e *engine) changeMembers(id uint64, add, remove, learn []uint64) (*Proposal, error) {
	if e.failed != nil {
		return nil, ErrStopped
	}
	g := e.groups[id]
	if g == nil {
		return nil, ErrNoGroup
	}
	e.nextID++
	return g.proposeChange(e.nextID, add, remove, learn, e.cfg.MaxPendingProposals)
}

// step hands a message from the transport to its group; messages of
// groups this host does not run are dropped.
func (e *engine) step(env Envelope) {
	g := e.groups[env.Group]
	if g == nil && e.cfg.UnknownGroup != nil && e.failed == nil && env.Msg != nil && env.Msg.GetTo() == e.cfg.NodeID {
		switch env.Msg.GetType() {
		case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap:
			e.cfg.UnknownGroup(env.Group, env.Msg.GetFrom())
		}
	}
	if g == nil || e.failed != nil || env.Msg == nil || env.Msg.GetTo() != e.cfg.NodeID {
		return // misrouted messages too: raft does not check the recipient
	}
	switch env.Msg.GetType() {
	case raftpb.MsgApp, raftpb.MsgHeartbeat, raftpb.MsgSnap:
		// Raft follows a leader of at least its term; hearing from it
		// restarts the election timer, as raft's own would.
		if env.Msg.GetTerm() >= g.term {
			g.elapsed = 0
		}
	}
	if e.lostAcknowledged(g, env.Msg) {
		return
	}
	if g.amnesiac && !g.mayVote(env.Msg) {
		return
	}
	if err := g.rn.Step(env.Msg); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) {
		e.log.Debug("raft step", "group", env.Group, "err", err)
	}
}

// tick advances every group's logical clock by one tick. A leader ticks
// Raft itself (heartbeats, the CheckQuorum step-down). Any other member
// ticks without Raft's own election timer, which draws its randomized
// timeout from a source nobody can seed; the host keeps its own timer,
// drawn from its seeded source, and campaigns when it expires. Campaign is
// what Raft's timer would do (a pre-vote first), so this changes when an
// election starts, never whether one is safe; and it is what lets a
// simulation replay a seed exactly.
func (e *engine) tick() {
	if e.failed != nil {
		return
	}
	for _, id := range e.order {
		g := e.groups[id]
		if g.rn.BasicStatus().RaftState == raft.StateLeader {
			g.rn.Tick()
			now := time.Now()
			g.renewSoloLease(now)
			g.askLease(now)
			g.tellReady()
			continue
		}
		g.rn.TickQuiesced()
		g.elapsed++
		if g.elapsed >= g.timeout {
			g.resetTimer(e.rng, e.cfg.ElectionTicks)
			// A member that is no voter (joining, removed, a learner)
			// cannot be elected; Raft would refuse with a warning. One
			// holding entries (held.go) would lead without its state.
			if g.isVoter(e.cfg.NodeID) && !g.holding() && g.healed() {
				_ = g.rn.Campaign()
			}
		}
	}
}

func (e *engine) campaign(id uint64) error {
	g := e.groups[id]
	if g == nil {
		return ErrNoGroup
	}
	return g.rn.Campaign()
}

func (e *engine) transferLeadership(id, to uint64) error {
	g := e.groups[id]
	if g == nil {
		return ErrNoGroup
	}
	g.rn.TransferLeader(to)
	return nil
}

func (e *engine) status(id uint64) (Status, error) {
	g := e.groups[id]
	if g == nil && e.lost[id] {
		return Status{}, ErrLogLost
	}
	if g == nil {
		return Status{}, ErrNoGroup
	}
	return g.status(e.cfg.NodeID), nil
}

// process runs one iteration: it takes the Ready of every group that has
// one, saves them all in one batch (one sync), then sends their messages,
// applies their committed entries and advances each node. Messages go out
// only after the save, as Raft requires: a vote or an append
// acknowledgement must be durable before anyone hears of it.
func (e *engine) process() error {
	if e.failed != nil {
		return e.failed
	}
	e.catchUpAll()
	work, ups := e.work[:0], e.ups[:0]
	for _, id := range e.order {
		g := e.groups[id]
		if !g.rn.HasReady() {
			continue
		}
		rd := g.rn.Ready()
		work = append(work, readyWork{g: g, rd: rd})
		u := Update{Group: id, MustSync: rd.MustSync}
		if !raft.IsEmptyHardState(rd.HardState) {
			u.HardState = rd.HardState
		}
		if !raft.IsEmptySnap(rd.Snapshot) {
			u.Snapshot = rd.Snapshot
		}
		u.Entries = rd.Entries
		if u.HardState != nil || u.Snapshot != nil || len(u.Entries) > 0 {
			ups = append(ups, u)
		}
	}
	defer func() {
		clear(work)
		clear(ups)
		e.work, e.ups = work[:0], ups[:0]
	}()
	if len(work) == 0 {
		return nil
	}
	// A leader's messages (appends, heartbeats) go out before the save:
	// the leader writes its log while the followers write theirs, so a
	// commit costs one sync's time instead of two in a row (the Raft
	// thesis, 10.2.1; etcd's server does the same). It is safe because a
	// leader's Ready changes no term or vote, and an entry counts toward a
	// commit only once a majority saved it, with or without the leader.
	// Everyone else's messages (votes, acknowledgements) wait for the
	// save, as raft requires.
	early := e.sendLeaders(work)
	if len(ups) > 0 {
		if err := e.storage.Save(ups); err != nil {
			e.fail(fmt.Errorf("raftnode: save: %w", err))
			return e.failed
		}
	}
	e.sendRest(work, early)
	for _, w := range work {
		if err := e.handle(w); err != nil {
			e.log.Error("raft group stopped", "group", w.g.id, "err", err)
			e.dropGroup(w.g, ErrStopped)
		}
	}
	return nil
}

// hasReady reports whether a group has work for process.
func (e *engine) hasReady() bool {
	if e.failed != nil {
		return false
	}
	for _, id := range e.order {
		if e.groups[id].rn.HasReady() {
			return true
		}
	}
	return e.canCatchUp()
}

// leads reports whether the group leads as of this Ready.
func leads(w readyWork) bool {
	if w.rd.SoftState != nil {
		return w.rd.SoftState.RaftState == raft.StateLeader
	}
	return w.g.leading
}

// sendLeaders hands the messages of the groups this host leads to the
// transport before the save, and reports whether it sent any.
func (e *engine) sendLeaders(work []readyWork) bool {
	return e.sendWhere(work, true)
}

// sendRest hands the other groups' messages to the transport after the
// save (all of them when none went early).
func (e *engine) sendRest(work []readyWork, early bool) {
	if !early {
		e.sendWhere(work, false)
		return
	}
	out := []Envelope(nil)
	for _, w := range work {
		if !leads(w) {
			for _, m := range w.rd.Messages {
				out = append(out, Envelope{Group: w.g.id, Msg: m})
			}
		}
	}
	if len(out) > 0 {
		e.transport.Send(out)
	}
}

// sendWhere sends, in one call, the messages of the leading groups (lead)
// or of every group (!lead); the slice is new each time: the transport
// may keep it.
func (e *engine) sendWhere(work []readyWork, lead bool) bool {
	n := 0
	for _, w := range work {
		if !lead || leads(w) {
			n += len(w.rd.Messages)
		}
	}
	if n == 0 {
		return false
	}
	out := make([]Envelope, 0, n)
	for _, w := range work {
		if !lead || leads(w) {
			for _, m := range w.rd.Messages {
				out = append(out, Envelope{Group: w.g.id, Msg: m})
			}
		}
	}
	e.transport.Send(out)
	return true
}

// handle does what follows the save for one group's Ready.
func (e *engine) handle(w readyWork) error {
	g, rd := w.g, w.rd
	g.noteState(rd, e.rng, e.cfg.ElectionTicks)
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := g.restore(rd.Snapshot); err != nil {
			return err
		}
	}
	g.noteEntries(rd.Entries)
	g.sweepUnplaced()
	if g.holding() {
		if err := g.hold(rd.CommittedEntries); err != nil {
			return err
		}
	} else if err := g.apply(rd.CommittedEntries); err != nil {
		return err
	}
	g.noteLeadership(rd)
	g.noteReadStates(rd.ReadStates)
	g.rn.Advance(rd)
	// The transport gives no delivery report; saying the snapshot
	// arrived lets the leader probe again, and a lost one is re-sent.
	for _, m := range rd.Messages {
		if m.GetType() == raftpb.MsgSnap {
			g.rn.ReportSnapshot(m.GetTo(), raft.SnapshotFinish)
		}
	}
	return e.maybeSnapshot(g)
}

// maybeSnapshot takes a state machine snapshot and compacts the log once
// SnapshotEntries entries were applied since the last one.
func (e *engine) maybeSnapshot(g *group) error {
	if g.holding() {
		return nil
	}
	if d, ok := g.sm.(DurableState); ok {
		return e.compactDurable(g, d)
	}
	n := e.cfg.SnapshotEntries
	if n == 0 || g.applied < g.snapAt+n || keepsWholeLog(g.sm) {
		return nil
	}
	term, err := g.log.Term(g.applied)
	if err != nil {
		return fmt.Errorf("raftnode: group %d: term of %d: %w", g.id, g.applied, err)
	}
	data, err := g.sm.Snapshot()
	if err != nil {
		return fmt.Errorf("raftnode: group %d: snapshot: %w", g.id, err)
	}
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		Index: new(g.applied), Term: new(term), ConfState: g.cs,
	}}
	if err := e.storage.Compact(g.id, snap); err != nil {
		return fmt.Errorf("raftnode: group %d: compact: %w", g.id, err)
	}
	g.snapAt = g.applied
	return nil
}

// fail stops everything after a failure of the log: what was saved is
// unknown, so the host must restart from its log.
func (e *engine) fail(err error) {
	e.failed = err
	for _, id := range slices.Clone(e.order) {
		e.dropGroup(e.groups[id], ErrStopped)
	}
}

// stop ends every group, as at shutdown.
func (e *engine) stop() {
	for _, id := range slices.Clone(e.order) {
		e.dropGroup(e.groups[id], ErrStopped)
	}
}

// ErrLogLost stops a group whose log lost entries it had acknowledged.
var ErrLogLost = errors.New("raftnode: the log lost entries this member had acknowledged")

// lostAcknowledged stops g when its leader's heartbeat commits past the
// end of g's saved log. The leader commits up to what this member
// acknowledged, and it acknowledges an append only after saving it, so
// such a heartbeat means the log lost synced entries (a file cut short
// reads as a torn tail at recovery). Raft would panic; the member instead
// leaves the group on this host, and neither votes nor leads with the
// log it has.
func (e *engine) lostAcknowledged(g *group, m *raftpb.Message) bool {
	if m.GetType() != raftpb.MsgHeartbeat || m.GetTerm() < g.term {
		return false
	}
	last, err := g.log.LastIndex()
	if err != nil || m.GetCommit() <= last {
		return false
	}
	e.log.Error("raft group stopped: its log lost entries it had acknowledged", "group", g.id, "commit", m.GetCommit(), "last", last)
	e.dropGroup(g, ErrLogLost)
	e.lost[g.id] = true
	return true
}
