package raftnode

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Storage is the server's Raft log, shared by every group of the server
// (internal/raftlog in production, MemStorage in tests).
type Storage interface {
	// Open returns the group's view of the log, creating an empty one for
	// a group the log does not know. The view reflects every Save.
	Open(group uint64) (raft.Storage, error)
	// Save persists the updates of many groups in order, with one sync
	// for the whole batch, and returns once they are durable. A group's
	// update is written snapshot first, then entries (an entry whose index
	// is at or below the last one replaces the conflicting suffix), then
	// the hard state. Save must not keep batch (the slice is reused); the
	// entries and snapshots it points to are immutable and may be kept.
	Save(batch []Update) error
	// Compact records a snapshot the group's state machine took at
	// snap's index and drops the entries it covers.
	Compact(group uint64, snap *raftpb.Snapshot) error
	// Remove forgets the group.
	Remove(group uint64) error
}

// Update is what one group must persist from one Ready.
type Update struct {
	Group     uint64
	HardState *raftpb.HardState // nil when unchanged
	Entries   []*raftpb.Entry
	Snapshot  *raftpb.Snapshot // nil unless a snapshot arrived from the leader
	// MustSync is false when only the commit index changed: losing it in
	// a crash is harmless, so the batch needs no sync for it.
	MustSync bool
}

// Envelope is a Raft message of one group. raftpb.Message names nodes, not
// groups, so the group travels beside it.
type Envelope struct {
	Group uint64
	Msg   *raftpb.Message
}

// Transport carries messages between servers. Send must not block: a full
// queue or an unreachable peer drops messages, and Raft retransmits. Send
// may keep msgs; the messages must not be modified (they share entries
// with the log).
type Transport interface {
	Send(msgs []Envelope)
}

// Entry is a committed proposal handed to a state machine.
type Entry struct {
	Index uint64
	Term  uint64
	Data  []byte // the proposed bytes; the state machine must not keep them beyond Apply
}

// StateMachine is one group's replicated state. The host calls it from its
// loop only, never concurrently.
type StateMachine interface {
	// Apply applies committed entries in log order and returns one result
	// per entry, handed to the proposer's waiter. An error stops the group.
	Apply(entries []Entry) ([]any, error)
	// Snapshot returns the state as of the last applied entry.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot's (empty data: the
	// initial state).
	Restore(data []byte) error
}

// Result is the outcome of a committed proposal.
type Result struct {
	Index uint64
	Term  uint64
	Value any // what the state machine's Apply returned for the entry
}

var (
	// ErrStopped: the group or the host stopped before the proposal's
	// outcome was known; it may or may not have committed.
	ErrStopped = errors.New("raftnode: group stopped")
	// ErrDropped: the proposal did not commit and never will (its log
	// position holds another entry, or Raft refused it).
	ErrDropped = errors.New("raftnode: proposal dropped")
	// ErrUnknown: a snapshot from the leader replaced the log past the
	// proposal's position, so whether it committed is not known here.
	ErrUnknown = errors.New("raftnode: proposal outcome unknown")
	// ErrBusy: too many proposals are waiting in the group, or the host's
	// queue is full.
	ErrBusy = errors.New("raftnode: too many pending proposals")
	// ErrNoGroup: the host runs no group with that id.
	ErrNoGroup = errors.New("raftnode: no such group")
	// ErrGroupExists: AddGroup for a group already running.
	ErrGroupExists = errors.New("raftnode: group already exists")
	// ErrChangePending: a membership change was refused because another
	// one has not finished applying (Raft allows one at a time).
	ErrChangePending = errors.New("raftnode: a membership change is already in progress")
	// ErrBadChange: a membership change that names no node, node 0, a
	// node on both sides, a voter to add, a non-voter to remove, or
	// leaves no voter.
	ErrBadChange = errors.New("raftnode: invalid membership change")
)

// NotLeaderError is returned by Propose on a member that is not the
// group's leader; Leader is the leader's node id, 0 when unknown.
type NotLeaderError struct {
	Group  uint64
	Leader uint64
}

func (e *NotLeaderError) Error() string {
	if e.Leader == 0 {
		return fmt.Sprintf("raftnode: not the leader of group %d (leader unknown)", e.Group)
	}
	return fmt.Sprintf("raftnode: not the leader of group %d (leader is %d)", e.Group, e.Leader)
}

// Status is a snapshot of one group's Raft state on this host.
type Status struct {
	Group   uint64
	ID      uint64 // this host's node id
	Leader  uint64 // 0 when unknown
	State   string // "StateLeader", "StateFollower", "StateCandidate", "StatePreCandidate"
	Term    uint64
	Commit  uint64
	Applied uint64
	// Members is the configuration as of Applied. Empty on a member that
	// joined and has not yet heard from the leader.
	Members Members
	// Removed: the configuration as of Applied no longer includes this
	// host. The group keeps running until the caller removes it
	// (RemoveGroup), so its state machine stays readable.
	Removed bool
	// Progress of every peer, known on the leader only: how far each
	// member's log matches the leader's (lag = Commit - Match).
	Progress map[uint64]PeerProgress
}

// PeerProgress is the leader's view of one member.
type PeerProgress struct {
	Match        uint64
	Next         uint64
	State        string // "StateProbe", "StateReplicate", "StateSnapshot"
	RecentActive bool
}

// Members is a group's configuration. Outgoing is not empty while a
// change that replaces voters is half done (Raft's joint consensus):
// decisions then need a quorum of Voters and one of Outgoing.
type Members struct {
	Voters   []uint64
	Outgoing []uint64
	Learners []uint64
}
