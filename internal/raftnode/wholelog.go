package raftnode

import (
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// WholeLog is a StateMachine that takes no snapshots: its state is too
// large to send in one (a stream's messages), so the group keeps every
// entry and a member added later replays the log from its first entry.
//
// Such a group is founded with Raft's configuration entries at the head
// of its log (RawNode.Bootstrap) instead of a snapshot at index 1: a
// joining member must be able to read the log from index 1, which a
// founding snapshot would hide behind a snapshot the state machine
// cannot make. Every founder must therefore be given the same peers in
// the same order, so that every log starts with the same entries. The
// host never compacts the group (Options.SnapshotEntries is ignored for
// it), and Snapshot is called only to send a member a snapshot, which
// happens only for a group founded before it kept its whole log.
type WholeLog interface {
	StateMachine
	KeepsWholeLog()
}

// DurableState is a WholeLog state machine that keeps its state in files
// of its own, made durable on its own schedule (a stream's store): the
// host compacts its log up to what those files hold. A member that needs
// entries the leader compacted gets a snapshot naming the state, which it
// fetches from a peer (held.go), so such a group no longer keeps its
// whole log in the end; it is still founded as a WholeLog, since a member
// joining before the first compaction replays the log from index 1.
type DurableState interface {
	WholeLog
	// DurableSnapshot returns an index at or below the last applied one
	// whose entries' effects are on stable storage in the state machine's
	// files, and the snapshot to record there: at restart Restore gets it
	// and the entries after index are applied again, so applying an
	// entry twice must change nothing. ok is false when nothing became
	// durable since the last call that returned ok. Called on the loop
	// after every Ready: it must be cheap when it has nothing.
	DurableSnapshot() (index uint64, data []byte, ok bool, err error)
}

// compactDurable records a DurableState's snapshot and drops the entries
// its files hold.
func (e *engine) compactDurable(g *group, d DurableState) error {
	idx, data, ok, err := d.DurableSnapshot()
	if err != nil {
		return fmt.Errorf("raftnode: group %d: snapshot: %w", g.id, err)
	}
	idx = min(idx, g.applied)
	// The snapshot records the configuration as of applied: a change
	// after idx would be applied twice at restart.
	if !ok || idx <= g.snapAt || g.csAt > idx {
		return nil
	}
	term, err := g.log.Term(idx)
	if err != nil {
		return fmt.Errorf("raftnode: group %d: term of %d: %w", g.id, idx, err)
	}
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		Index: new(idx), Term: new(term), ConfState: g.cs,
	}}
	if err := e.storage.Compact(g.id, snap); err != nil {
		return fmt.Errorf("raftnode: group %d: compact: %w", g.id, err)
	}
	g.snapAt = idx
	return nil
}

func keepsWholeLog(sm StateMachine) bool {
	_, ok := sm.(WholeLog)
	return ok
}

// bootstrapEntries founds a whole-log group on a log that is still empty.
func bootstrapEntries(rn *raft.RawNode, id, self uint64, peers []uint64) error {
	if !slices.Contains(peers, self) {
		return fmt.Errorf("raftnode: group %d: peers %v do not include this node (%d)", id, peers, self)
	}
	ps := make([]raft.Peer, len(peers))
	for i, p := range peers {
		ps[i] = raft.Peer{ID: p}
	}
	return rn.Bootstrap(ps)
}
