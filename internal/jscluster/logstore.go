package jscluster

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/raftnode"
)

// LogStorage is the server's durable Raft log as the host's Storage: every
// group's Ready of one loop iteration is saved in one batch, one sync.
type LogStorage struct {
	Log *raftlog.Log
	buf []raftlog.Update // reused: Save is called by the host's loop only
}

// Open implements raftnode.Storage.
func (s *LogStorage) Open(group uint64) (raft.Storage, error) {
	st := s.Log.Storage(group)
	if st.Damaged() {
		// A damaged log must not vote or lead: the group is refused
		// until it is repaired from its peers.
		return nil, raftlog.ErrDamaged
	}
	// A log that ends below the commit index it recorded lost entries it
	// had synced (a file cut short reads as a torn tail): this member
	// acknowledged them, so it may not take part as if it never had.
	hs, _, err := st.InitialState()
	if err != nil {
		return nil, err
	}
	last, err := st.LastIndex()
	if err != nil {
		return nil, err
	}
	if hs.GetCommit() > last {
		return nil, fmt.Errorf("%w: group %d ends at %d, below its commit index %d", raftlog.ErrDamaged, group, last, hs.GetCommit())
	}
	return st, nil
}

// Save implements raftnode.Storage. The log decides the sync from what the
// batch holds (raft's MustSync rule), so MustSync is not passed on.
func (s *LogStorage) Save(batch []raftnode.Update) error {
	s.buf = s.buf[:0]
	for _, u := range batch {
		s.buf = append(s.buf, raftlog.Update{Group: u.Group, HardState: u.HardState, Entries: u.Entries, Snapshot: u.Snapshot})
	}
	return s.Log.Save(s.buf)
}

// Compact implements raftnode.Storage: the state machine's snapshot is
// recorded, then the entries it covers dropped.
func (s *LogStorage) Compact(group uint64, snap *raftpb.Snapshot) error {
	i := snap.GetMetadata().GetIndex()
	if _, err := s.Log.CreateSnapshot(group, i, snap.GetMetadata().GetConfState(), snap.GetData()); err != nil &&
		!errors.Is(err, raft.ErrSnapOutOfDate) {
		return err
	}
	if err := s.Log.Compact(group, i); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return err
	}
	return nil
}

// Remove implements raftnode.Storage.
func (s *LogStorage) Remove(group uint64) error { return s.Log.RemoveGroup(group) }
