package raftnode

import (
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
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
