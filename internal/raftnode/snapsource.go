package raftnode

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// liveSnapshots is the group's log as Raft sees it, except that the
// snapshot a leader sends to a member that lacks compacted entries is
// taken from the state machine as of now instead of read from the log.
//
// The log's own snapshot is only as recent as the last compaction, and
// its configuration may predate the member it is sent to: Raft refuses a
// snapshot whose configuration does not include the recipient, so a
// joining member would wait until the next compaction. Taken at the
// applied index, the snapshot names every member the leader sends to (the
// leader sends to a member only once it applied the change adding it),
// and the entries after it are still in the log. Raft calls Snapshot from
// the host's loop only (while stepping or ticking), so reading the group
// here is safe.
type liveSnapshots struct {
	raft.Storage
	g *group // nil until the group is built
}

func (s *liveSnapshots) Snapshot() (*raftpb.Snapshot, error) {
	stored, err := s.Storage.Snapshot()
	g := s.g
	if g != nil && g.holding() {
		// Its state machine lacks what the entries after its snapshot
		// build on: another member serves the follower.
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	if err != nil || g == nil || g.applied <= stored.GetMetadata().GetIndex() {
		return stored, err
	}
	term, err := g.log.Term(g.applied)
	if err != nil {
		return stored, nil
	}
	data, err := g.sm.Snapshot()
	if err != nil {
		// Raft retries later; the stored snapshot would be refused by a
		// joining member and is no better for the others.
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	return &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		Index: new(g.applied), Term: new(term), ConfState: g.cs,
	}}, nil
}
