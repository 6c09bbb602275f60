package jscluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
)

// StreamGroup replicates one stream: its leader proposes each publish
// (stream.Propose decides the entry, with every check a single server
// makes), the group commits it to a quorum's logs, and every replica
// applies it (stream.ApplyEntry) in log order; the publisher's answer is
// the applied sequence. A message is acknowledged only once a quorum has
// it on stable storage.
type StreamGroup struct {
	node  *Node
	group uint64
	s     *stream.Stream
	sm    *streamSM

	// order keeps the stream's proposals and the group's log in the same
	// order: the pipeline gives each proposal the next sequence, so they
	// must reach Raft in the order they were decided.
	order sync.Mutex
	// waiting holds publishes behind a refusal that may not be final, and
	// pumping says its goroutine runs (streamgroup_expect.go); both under
	// order.
	waiting []waiter
	pumping bool
	// inflight counts the stream's entries handed to Raft whose outcome
	// has not come back (propose).
	inflight atomic.Int64
}

// JoinStream runs s as a member of group with peers (node ids, in the
// order every founder gives them); a group found in the log restarts
// from it (peers are then ignored). No peers: s joins the running group
// with an empty log, once its leader adds this server (ChangeMembers).
func (n *Node) JoinStream(ctx context.Context, group uint64, peers []uint64, s *stream.Stream, hooks StreamHooks) (*StreamGroup, error) {
	sm := &streamSM{s: s, hooks: hooks, every: hooks.CompactEvery}
	g := &StreamGroup{node: n, group: group, s: s, sm: sm}
	if err := n.Host.AddGroup(ctx, group, peers, sm); err != nil {
		return nil, err
	}
	return g, nil
}

// LeaseValid reports whether this member may act as the stream's leader
// now, outside the log (deliver, answer acks): it leads and a quorum
// answered it recently (raftnode's lease).
func (g *StreamGroup) LeaseValid() bool {
	if f := g.sm.lease.Load(); f != nil {
		return (*f)()
	}
	return false
}

// Leave stops this member of the group and drops its log (the stream is
// no longer hosted here).
func (g *StreamGroup) Leave(ctx context.Context) error { return g.node.Host.RemoveGroup(ctx, g.group) }

// Status is the group's Raft state on this member.
func (g *StreamGroup) Status(ctx context.Context) (raftnode.Status, error) {
	return g.node.Host.Status(ctx, g.group)
}

// ID is the group's Raft id.
func (g *StreamGroup) ID() uint64 { return g.group }

// Publish proposes a message on the group's leader and waits for its
// answer: the sequence once committed and applied, a duplicate's original
// sequence, or the error a single server would give. On a member that is
// not the leader the error is a *raftnode.NotLeaderError.
func (g *StreamGroup) Publish(ctx context.Context, subject string, hdr, data []byte) (*stream.Answer, error) {
	type outcome struct {
		ans *stream.Answer
		err error
	}
	done := make(chan outcome, 1)
	g.PublishAsync(subject, hdr, data, func(ans *stream.Answer, err error) { done <- outcome{ans, err} })
	select {
	case o := <-done:
		return o.ans, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// PublishAsync is Publish for a caller that must not wait (a publisher's
// read loop): done is told the answer later, on the Raft loop, on the
// group's queue of conditional publishes (streamgroup_expect.go) or at
// once, and must return quickly (hand the ack to a queue, or send it).
func (g *StreamGroup) PublishAsync(subject string, hdr, data []byte, done func(*stream.Answer, error)) {
	g.order.Lock()
	if len(g.waiting) > 0 {
		// Behind a conditional publish still being decided.
		queued := g.waitLocked(subject, hdr, data, done, 0)
		g.order.Unlock()
		if !queued {
			done(&stream.Answer{Err: jsapi.NewError(jsapi.ErrClusterNotAvail)}, nil)
		}
		return
	}
	ans, err := g.submitLocked(subject, hdr, data, done)
	if ans != nil && ans.Expect && ans.InFlight > 0 && g.waitLocked(subject, hdr, data, done, ans.InFlight) {
		ans = nil
	}
	g.order.Unlock()
	g.finish(ans, err, done)
}

// ChainMsg is one message of a chain (PublishChain).
type ChainMsg struct {
	Subject   string
	Hdr, Data []byte
}

// ChainResult is the outcome of one message of a chain: as Publish's.
type ChainResult struct {
	Ans *stream.Answer
	Err error
}

// PublishChain proposes msgs back to back, with nothing proposed between
// them, as a chain for a copier that must not leave holes (a replicated
// source): every entry after the chain's first is applied only if the
// one before it was (stream.ProposeChained), so the messages applied are
// always a prefix of the chain, whatever Raft drops. It waits for every
// outcome, or until ctx ends (the outcomes then missing are ctx's error:
// unknown). A chain behind a conditional publish still being decided is
// refused whole, as not available now, and so is one on a leader that has
// not applied every entry of earlier terms yet, or whose pipeline was
// reset (a dropped proposal) with entries proposed before the reset still
// unapplied.
//
// Why: a guard checks the stream's last sequence, not who wrote it. A
// leader that numbers a link from what it applied while an entry numbered
// before that is still ahead of it in the log (another leader's, or its
// own from before a reset) gives the link a taken sequence: the link is
// refused (stream.ErrApplied) while the stream's last sequence is what
// the next link expects, and the chain would lose a link. With every
// earlier term's entries applied and no reset pending, the entries before
// a chain in the log are numbered in order with it. (A leader that loses
// its leadership clears ready before it could win another term, and its
// chains proposed meanwhile fail as not leader; only a proposal left in
// the host's queue for longer than an election could be taken in a later
// term.)
func (g *StreamGroup) PublishChain(ctx context.Context, msgs []ChainMsg) []ChainResult {
	res := make([]ChainResult, len(msgs))
	// left counts the outcomes still to come, plus one held until every
	// message is proposed; the last to arrive closes done.
	var left atomic.Int32
	left.Store(1)
	done := make(chan struct{})
	arrived := func() {
		if left.Add(-1) == 0 {
			close(done)
		}
	}
	g.order.Lock()
	settled := g.s.ProposalsSettled() || g.inflight.Load() == 0
	if len(g.waiting) > 0 || !g.sm.ready.Load() || !settled {
		g.order.Unlock()
		for i := range res {
			res[i].Ans = &stream.Answer{Err: jsapi.NewError(jsapi.ErrClusterNotAvail)}
		}
		return res
	}
	chained := false // the first link follows whatever is before it
	for i := range msgs {
		m := &msgs[i]
		var entry []byte
		var ans *stream.Answer
		if chained {
			entry, ans = g.s.ProposeChained(m.Subject, m.Hdr, m.Data)
		} else {
			entry, ans = g.s.Propose(m.Subject, m.Hdr, m.Data)
		}
		if ans != nil && ans.Err != nil && ans.Err.Code >= 500 {
			// Not taken now (a full pipeline, a closing stream): the
			// links after it must not be stored without it.
			for j := i; j < len(msgs); j++ {
				res[j].Ans = ans
			}
			break
		}
		if ans != nil {
			// Decided for good at once (a duplicate, a limit): no entry,
			// and the chain goes on.
			res[i].Ans = ans
			continue
		}
		left.Add(1)
		err := g.propose(entry, func(r raftnode.Result, err error) {
			defer arrived()
			if err != nil {
				g.s.ResetProposals()
				res[i].Err = err
				return
			}
			if e, ok := r.Value.(error); ok {
				res[i].Ans = &stream.Answer{Err: asAPIError(e)}
				return
			}
			seq, _ := r.Value.(uint64)
			res[i].Ans = &stream.Answer{Seq: seq}
		})
		if err != nil {
			// Not taken: nothing may be proposed on top of it.
			g.s.ResetProposals()
			left.Add(-1)
			for j := i; j < len(msgs); j++ {
				res[j] = ChainResult{Err: err}
			}
			break
		}
		chained = true
	}
	g.order.Unlock()
	arrived()
	select {
	case <-done:
		return res
	case <-ctx.Done():
		// Outcomes may still arrive and write res: answer with a copy
		// that calls every outcome unknown.
		out := make([]ChainResult, len(msgs))
		for i := range out {
			out[i] = ChainResult{Err: ctx.Err()}
		}
		return out
	}
}

// propose hands one of the stream's entries to Raft (g.order held),
// counted in flight until done hears its outcome.
func (g *StreamGroup) propose(entry []byte, done func(raftnode.Result, error)) error {
	g.inflight.Add(1)
	err := g.node.Host.ProposeAsync(g.group, entry, func(r raftnode.Result, err error) {
		g.inflight.Add(-1)
		done(r, err)
	})
	if err != nil {
		g.inflight.Add(-1)
	}
	return err
}

// submitLocked decides a publish and, unless that answers it at once
// (ans), hands its entry to Raft, which tells done the outcome; err is
// Raft's refusal to take it. g.order is held.
func (g *StreamGroup) submitLocked(subject string, hdr, data []byte, done func(*stream.Answer, error)) (ans *stream.Answer, err error) {
	entry, ans := g.s.Propose(subject, hdr, data)
	if ans != nil {
		return ans, nil
	}
	return nil, g.propose(entry, func(r raftnode.Result, err error) {
		if err != nil {
			// Not leader any more, dropped, stopped: what the pipeline
			// assumed will not be applied as proposed.
			g.s.ResetProposals()
			done(nil, err)
			return
		}
		if e, ok := r.Value.(error); ok {
			done(&stream.Answer{Err: asAPIError(e)}, nil)
			return
		}
		seq, _ := r.Value.(uint64)
		done(&stream.Answer{Seq: seq}, nil)
	})
}

// streamSM applies a stream group's committed entries to the stream, and
// its consumers' batches to them. It runs on the Raft loop only.
type streamSM struct {
	s     *stream.Stream
	hooks StreamHooks
	lease atomic.Pointer[func() bool] // the member's leader lease (raftnode.LeaseUser)

	// index is the last entry applied to the stream (or the snapshot's
	// it fetched); every is how many entries pass between the store
	// syncs that let the log be compacted (0: never).
	index atomic.Uint64
	every uint64
	// ready: this member leads and has applied every entry of earlier
	// terms (LeaderReady), so what it proposes is decided on the whole
	// log; any change of leadership clears it.
	ready atomic.Bool
	dur   durability
	fetch fetching
}

// UseLease implements raftnode.LeaseUser.
func (m *streamSM) UseLease(valid func() bool) { m.lease.Store(&valid) }

func (m *streamSM) Apply(entries []raftnode.Entry) ([]any, error) {
	out := make([]any, len(entries))
	if n := len(entries); n > 0 {
		defer m.index.Store(entries[n-1].Index)
	}
	for i, e := range entries {
		if len(e.Data) == 0 {
			continue // a new leader's empty entry
		}
		if e.Data[0] == consumerEntry {
			out[i] = m.applyConsumer(e.Data)
			continue
		}
		seq, err := m.s.ApplyEntry(e.Data)
		switch {
		case err == nil:
			out[i] = seq
		case errors.Is(err, stream.ErrApplied):
			// The sequence was taken by an entry before it (a new leader
			// proposed before the old leader's entries were applied):
			// this message was not stored, and its publisher must hear
			// so and retry. A replay after a restart has no publisher.
			out[i] = jsapi.NewError(jsapi.ErrClusterNotAvail)
		default:
			// Every replica meets the same entry on the same state, so
			// an error here is the publisher's answer, not a fault.
			out[i] = err
		}
	}
	return out, nil
}

// LeaderChanged runs the stream's leader-only duties (the expiry timer)
// on the leader alone, and starts a new leader's pipeline from what is
// applied.
func (m *streamSM) LeaderChanged(leader bool, _ uint64) {
	m.ready.Store(false)
	if leader {
		m.s.ResetProposals()
	}
	m.s.SetLeader(leader)
	if !leader && m.hooks.OnLeader != nil {
		m.hooks.OnLeader(false)
	}
}

// LeaderReady tells the server that this member leads with every earlier
// entry applied: only now may it run the stream's consumers, whose state
// is in what it applied (raftnode.LeaderReadyWatcher).
func (m *streamSM) LeaderReady() {
	m.ready.Store(true)
	if m.hooks.OnLeader != nil {
		m.hooks.OnLeader(true)
	}
}

// applyConsumer hands a consumer's batch on; its error is the proposer's
// outcome (a replica that cannot follow logs it itself).
func (m *streamSM) applyConsumer(b []byte) error {
	name, batch, err := decodeConsumerEntry(b)
	if err != nil || m.hooks.Consumers == nil {
		return err
	}
	return m.hooks.Consumers.ApplyConsumer(name, batch)
}

// asAPIError keeps an API error as it is and makes any other a store
// failure, as a single server reports one.
func asAPIError(err error) *jsapi.ApiError {
	var ae *jsapi.ApiError
	if errors.As(err, &ae) {
		return ae
	}
	return jsapi.NewError(jsapi.ErrStreamStoreFailed, fmt.Errorf("replicated publish: %w", err))
}

// Delete removes message seq on every replica, as a single server's
// message delete does: nil once committed and applied, or the error a
// single server answers (the API error), or the group's.
func (g *StreamGroup) Delete(ctx context.Context, seq uint64, erase bool) error {
	entry, aerr := g.s.ProposeDelete(seq, erase)
	if aerr != nil {
		return aerr
	}
	_, err := g.proposeOp(ctx, entry)
	return err
}

// Purge purges on every replica as a single server's purge does and
// returns how many messages went.
func (g *StreamGroup) Purge(ctx context.Context, req store.PurgeRequest) (uint64, error) {
	entry, aerr := g.s.ProposePurge(req)
	if aerr != nil {
		return 0, aerr
	}
	return g.proposeOp(ctx, entry)
}

// Update puts cfg (checked by the caller, as for a single server) in
// force on every replica.
func (g *StreamGroup) Update(ctx context.Context, cfg jsapi.StreamConfig) error {
	entry, aerr := g.s.ProposeUpdate(cfg)
	if aerr != nil {
		return aerr
	}
	_, err := g.proposeOp(ctx, entry)
	return err
}

// ProposeEntryAsync commits an entry decided outside the stream's publish
// path (a replicated mirror's copy of an origin's message: see
// stream.MirrorEntryAfter) without waiting: done hears what applying the
// entry returned, or why it was not committed, on the Raft loop (it must
// return at once), or at once when it cannot be queued.
func (g *StreamGroup) ProposeEntryAsync(entry []byte, done func(uint64, error)) {
	g.order.Lock()
	err := g.propose(entry, func(r raftnode.Result, err error) {
		if err == nil {
			if e, ok := r.Value.(error); ok {
				err = asAPIError(e)
			}
		}
		n, _ := r.Value.(uint64)
		done(n, err)
	})
	g.order.Unlock()
	if err != nil {
		done(0, err)
	}
}

// proposeOp commits an operation's entry, in order with the publishes,
// and returns what applying it returned.
func (g *StreamGroup) proposeOp(ctx context.Context, entry []byte) (uint64, error) {
	type outcome struct {
		n   uint64
		err error
	}
	done := make(chan outcome, 1)
	g.ProposeEntryAsync(entry, func(n uint64, err error) { done <- outcome{n, err} })
	select {
	case o := <-done:
		return o.n, o.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Expiry takes a replicated stream's expiry reports (stream.Options
// .Expired, made before the group exists) to its group once bound.
type Expiry struct{ g atomic.Pointer[StreamGroup] }

// Bind sends the reports to g from now on.
func (x *Expiry) Bind(g *StreamGroup) { x.g.Store(g) }

// Report proposes an expire entry the leader's stream decided; a report
// that cannot be queued is dropped (the stream reports again).
func (x *Expiry) Report(entry []byte) {
	g := x.g.Load()
	if g == nil {
		return
	}
	g.order.Lock()
	_ = g.propose(entry, func(raftnode.Result, error) {})
	g.order.Unlock()
}

// DeleteAsync proposes the removal of message seq without waiting (an
// acknowledged message of a work-queue or interest stream): a removal
// that cannot be proposed is left, as the leader's next decision.
func (g *StreamGroup) DeleteAsync(seq uint64) {
	entry, aerr := g.s.ProposeDelete(seq, false)
	if aerr != nil {
		return
	}
	g.order.Lock()
	_ = g.propose(entry, func(raftnode.Result, error) {})
	g.order.Unlock()
}
