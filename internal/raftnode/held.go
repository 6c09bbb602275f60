package raftnode

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// Holding a group's entries while its state machine fetches state.
//
// A snapshot of a stream names its messages rather than carrying them:
// the state machine installs what the snapshot holds and fetches the
// rest from a peer, which takes longer than the loop may wait. Until it
// is done, the entries committed after the snapshot cannot be applied
// (they would land on a stream missing the messages before them), so the
// host holds them: they stay in the log, and only their configuration
// changes are applied to Raft at once (Raft counts them as applied when
// the Ready is advanced, and would otherwise run on a stale
// configuration). Resume lets the state machine catch up: the held
// entries are read back from the log and applied, a bounded run per loop
// iteration, before any newer one. A holding member neither campaigns
// nor takes snapshots, and reports LeaderReady only once caught up.

// ErrFetching is what a state machine's Restore (or Received) returns
// when it took the snapshot but must still fetch state it names: the
// host holds the group's later entries until Host.Resume.
var ErrFetching = errors.New("raftnode: state machine is fetching the snapshot's state")

// SnapshotReceiver is a StateMachine told apart where a snapshot comes
// from: Restore is then called only with the snapshot of this member's
// own log (at start), and Received with one the leader sent, which may
// name state this member lacks.
type SnapshotReceiver interface {
	Received(data []byte) error
}

// Fetcher is a state machine that may be fetching after more than one
// snapshot: Resume ends the hold only once Fetched says the latest
// snapshot's state is all there.
type Fetcher interface {
	Fetched() bool
}

// heldBatch bounds the entries one loop iteration reads back and applies
// for a group catching up after Resume.
const (
	heldBatchBytes   = 4 << 20
	heldBatchEntries = 1024
)

// holding reports whether committed entries wait in the log: the state
// machine is still fetching, or has not applied them all since.
func (g *group) holding() bool { return g.held || g.heldTo > g.applied }

// hold records committed entries the state machine cannot take yet: their
// configuration changes are applied to Raft now, the rest later, from
// the log.
func (g *group) hold(ents []*raftpb.Entry) error {
	for _, e := range ents {
		switch e.GetType() {
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			if err := g.applyConfChange(e); err != nil {
				return err
			}
			g.settleChange(e)
			g.confTo = e.GetIndex()
		}
		g.heldTo = max(g.heldTo, e.GetIndex())
	}
	return nil
}

// catchUp applies the next run of held entries, read back from the log.
func (g *group) catchUp() error {
	if g.held || g.heldTo <= g.applied {
		return nil
	}
	lo := g.applied + 1
	hi := min(g.heldTo, g.applied+heldBatchEntries) + 1
	ents, err := g.log.Entries(lo, hi, heldBatchBytes)
	if err != nil {
		return fmt.Errorf("raftnode: group %d: held entries %d..%d: %w", g.id, lo, hi-1, err)
	}
	if len(ents) == 0 {
		return fmt.Errorf("raftnode: group %d: held entries %d..%d missing", g.id, lo, hi-1)
	}
	return g.apply(ents)
}

// restoreSM hands a snapshot to the state machine and reports whether it
// must fetch state first (the group is then held).
func restoreSM(sm StateMachine, data []byte, received bool) (held bool, err error) {
	if r, ok := sm.(SnapshotReceiver); ok && received {
		err = r.Received(data)
	} else {
		err = sm.Restore(data)
	}
	if errors.Is(err, ErrFetching) {
		return true, nil
	}
	return false, err
}

// resume ends a group's hold: its state machine has what the snapshot
// named.
func (e *engine) resume(id uint64) error {
	g := e.groups[id]
	if g == nil {
		return ErrNoGroup
	}
	if f, ok := g.sm.(Fetcher); ok && !f.Fetched() {
		return nil // a newer snapshot started another fetch
	}
	g.held = false
	return nil
}

// catchUpAll applies a run of held entries in every group that resumed.
// It runs every loop iteration: nothing is allocated unless a group
// fails (dropping it changes e.order, so that waits for the end).
func (e *engine) catchUpAll() {
	var failed []*group
	for _, id := range e.order {
		g := e.groups[id]
		if g.held || g.heldTo <= g.applied {
			continue
		}
		if err := g.catchUp(); err != nil {
			e.log.Error("raft group stopped", "group", g.id, "err", err)
			failed = append(failed, g)
		}
	}
	for _, g := range failed {
		e.dropGroup(g, ErrStopped)
	}
}

// canCatchUp reports whether some group has held entries to apply now.
func (e *engine) canCatchUp() bool {
	for _, id := range e.order {
		if g := e.groups[id]; !g.held && g.heldTo > g.applied {
			return true
		}
	}
	return false
}
