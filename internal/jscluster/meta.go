package jscluster

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

// MetaGroup is the meta group's id: every JetStream server of the cluster
// is a member, and its log orders the assignments of every stream and
// consumer (internal/jsmeta).
const MetaGroup uint64 = 1

// changeQueue bounds the changes applied but not yet hosted. A full queue
// holds the Raft loop back rather than drop a change: changes are
// administrative operations, rare, and every one must be hosted.
const changeQueue = 1024

// Meta is this server's member of the meta group.
type Meta struct {
	node *Node
	sm   *metaSM
	done chan struct{}
	wg   sync.WaitGroup
}

// Hosting receives, in log order and on a goroutine of its own, what each
// committed operation changed; after a snapshot was restored it gets
// Restored with the whole state instead. It may take its time (open
// stores): the Raft loop does not wait for it.
type Hosting interface {
	Changed(jsmeta.Change)
	Restored(*jsmeta.State)
}

// StartMeta joins the meta group with peers (every JetStream server's node
// id, this one's included).
func (n *Node) StartMeta(ctx context.Context, peers []uint64, h Hosting) (*Meta, error) {
	m := &Meta{node: n, done: make(chan struct{})}
	m.sm = &metaSM{st: jsmeta.New(), changes: make(chan func(), changeQueue), h: h, done: m.done}
	m.wg.Add(1)
	go m.host()
	if err := n.Host.AddGroup(ctx, MetaGroup, peers, m.sm); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// host hands the changes to Hosting in order.
func (m *Meta) host() {
	defer m.wg.Done()
	for {
		select {
		case fn := <-m.sm.changes:
			fn()
		case <-m.done:
			return
		}
	}
}

// Close stops handing changes over (the group stops with the host).
func (m *Meta) Close() {
	select {
	case <-m.done:
	default:
		close(m.done)
	}
	m.wg.Wait()
}

// Propose commits op and returns what it changed, or the error every
// member got applying it (an answer, such as jsmeta.ErrStreamExists). On
// a member that is not the leader the error is a
// *raftnode.NotLeaderError naming the leader when known.
func (m *Meta) Propose(ctx context.Context, op jsmeta.Op) (jsmeta.Change, error) {
	b, err := jsmeta.Encode(op)
	if err != nil {
		return jsmeta.Change{}, err
	}
	p, err := m.node.Host.Propose(ctx, MetaGroup, b)
	if err != nil {
		return jsmeta.Change{}, err
	}
	r, err := p.Wait(ctx)
	if err != nil {
		return jsmeta.Change{}, err
	}
	res, _ := r.Value.(applied)
	return res.change, res.err
}

// Reconcile hands Hosting the whole state as applied now (Restored), on
// the hosting goroutine, after every change applied before this call;
// before runs just ahead of it there, after just behind.
func (m *Meta) Reconcile(before, after func()) error {
	m.sm.mu.Lock()
	snap, err := m.sm.st.Snapshot()
	m.sm.mu.Unlock()
	if err != nil {
		return err
	}
	whole := jsmeta.New()
	if err := whole.Restore(snap); err != nil {
		return err
	}
	m.sm.queue(func() {
		before()
		m.sm.h.Restored(whole)
		after()
	})
	return nil
}

// Leader is the meta leader's node id, 0 when none is known.
func (m *Meta) Leader(ctx context.Context) (uint64, error) {
	st, err := m.node.Host.Status(ctx, MetaGroup)
	return st.Leader, err
}

// IsLeader reports whether this member leads the meta group now (as the
// loop last saw it): the meta leader answers the API requests that
// change or list assignments.
func (m *Meta) IsLeader() bool { return m.sm.leader.Load() }

// Read runs fn on the state as this member last applied it; fn must not
// keep st or call into the meta group.
func (m *Meta) Read(fn func(st *jsmeta.State)) {
	m.sm.mu.Lock()
	defer m.sm.mu.Unlock()
	fn(m.sm.st)
}

// applied is one entry's outcome, handed to its proposer.
type applied struct {
	change jsmeta.Change
	err    error
}

// metaSM is the meta group's state machine over jsmeta.State.
type metaSM struct {
	mu      sync.Mutex // the state: the loop applies, readers read
	st      *jsmeta.State
	changes chan func()
	h       Hosting
	done    <-chan struct{} // Meta closed: changes are no longer taken
	leader  atomic.Bool     // this member leads (raftnode.LeaderWatcher)
	flips   atomic.Uint64   // times it became or stopped being leader
}

// LeaderChanged implements raftnode.LeaderWatcher.
func (s *metaSM) LeaderChanged(leader bool, _ uint64) {
	s.leader.Store(leader)
	s.flips.Add(1)
}

// LeaderChanges counts the times this member became or stopped being the
// meta group's leader.
func (m *Meta) LeaderChanges() uint64 { return m.sm.flips.Load() }

// queue hands fn to the hosting goroutine, or drops it once the Meta is
// closed (so the Raft loop never waits on a goroutine that is gone).
func (s *metaSM) queue(fn func()) {
	select {
	case s.changes <- fn:
	case <-s.done:
	}
}

func (s *metaSM) Apply(entries []raftnode.Entry) ([]any, error) {
	out := make([]any, len(entries))
	var hosted []func()
	s.mu.Lock()
	for i, e := range entries {
		if len(e.Data) == 0 {
			continue // a new leader's empty entry
		}
		op, err := jsmeta.Decode(e.Data)
		if err != nil {
			out[i] = applied{err: err} // every member refuses it alike
			continue
		}
		ch, err := s.st.Apply(op)
		out[i] = applied{change: ch, err: err}
		if err != nil {
			continue
		}
		if ch.Kind == jsmeta.RemovePeer {
			// Groups gained and lost members all over: hosting
			// reconciles with a copy of the whole state.
			snap, err := s.st.Snapshot()
			if err != nil {
				s.mu.Unlock()
				return nil, err
			}
			whole := jsmeta.New()
			if err := whole.Restore(snap); err != nil {
				s.mu.Unlock()
				return nil, err
			}
			hosted = append(hosted, func() { s.h.Changed(ch); s.h.Restored(whole) })
			continue
		}
		hosted = append(hosted, func() { s.h.Changed(ch) })
	}
	s.mu.Unlock()
	// Queued after the lock: Hosting may read the state.
	for _, fn := range hosted {
		s.queue(fn)
	}
	return out, nil
}

func (s *metaSM) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Snapshot()
}

func (s *metaSM) Restore(b []byte) error {
	next := jsmeta.New()
	if len(b) > 0 {
		if err := next.Restore(b); err != nil {
			return err
		}
	}
	// Hosting gets a state of its own: the loop goes on applying to this
	// one meanwhile.
	hosting := jsmeta.New()
	if len(b) > 0 {
		if err := hosting.Restore(b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.st = next
	s.mu.Unlock()
	s.queue(func() { s.h.Restored(hosting) })
	return nil
}
