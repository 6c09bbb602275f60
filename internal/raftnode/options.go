package raftnode

import (
	"errors"
	"log/slog"
	"time"
)

// Options configure a Host. DefaultOptions gives the defaults; Validate
// checks them.
type Options struct {
	NodeID    uint64    // this server's node id in every group; not 0
	Storage   Storage   // the server's Raft log
	Transport Transport // to the other servers
	Ticker    Ticker    // nil: a real ticker every TickInterval
	Logger    *slog.Logger

	TickInterval   time.Duration // the logical clock's period
	ElectionTicks  int           // ticks without a leader before a (pre-)election
	HeartbeatTicks int           // ticks between a leader's heartbeats

	MaxSizePerMsg       uint64 // bytes of entries per append message
	MaxInflightMsgs     int    // appends in flight per follower
	MaxUncommittedBytes uint64 // a leader refuses proposals past this much uncommitted data
	MaxPendingProposals int    // proposals waiting for their outcome, per group
	InboxSize           int    // messages from the transport queued for the loop; more are dropped
	SnapshotEntries     uint64 // take a snapshot and compact every this many applied entries; 0: never

	// ProposalIDBase is where this host's proposal ids start. Ids need to
	// be unique among one host's proposals in flight only (see doc.go);
	// tests set it for replay.
	ProposalIDBase uint64
	// Seed seeds the election timers' jitter; 0 draws one at New. Tests
	// set it for replay.
	Seed int64
	// UnknownGroup, when set, hears of a leader's message (an append, a
	// heartbeat, a snapshot) for a group this host does not run: a
	// server the leader added to a group starts its member when told so.
	// It runs on the loop and must return at once.
	UnknownGroup func(group, from uint64)
}

// DefaultOptions returns Options with every tunable set.
func DefaultOptions() Options {
	return Options{
		TickInterval:        100 * time.Millisecond,
		ElectionTicks:       10,
		HeartbeatTicks:      1,
		MaxSizePerMsg:       1 << 20,
		MaxInflightMsgs:     256,
		MaxUncommittedBytes: 64 << 20,
		MaxPendingProposals: 4096,
		InboxSize:           8192,
	}
}

// Validate reports the first problem with o.
func (o *Options) Validate() error {
	switch {
	case o.NodeID == 0:
		return errors.New("raftnode: NodeID must not be 0")
	case o.Storage == nil:
		return errors.New("raftnode: Storage is required")
	case o.Transport == nil:
		return errors.New("raftnode: Transport is required")
	case o.HeartbeatTicks <= 0 || o.ElectionTicks <= o.HeartbeatTicks:
		return errors.New("raftnode: need 0 < HeartbeatTicks < ElectionTicks")
	case o.Ticker == nil && o.TickInterval <= 0:
		return errors.New("raftnode: TickInterval must be positive")
	case o.MaxInflightMsgs <= 0 || o.MaxPendingProposals <= 0 || o.InboxSize <= 0:
		return errors.New("raftnode: MaxInflightMsgs, MaxPendingProposals and InboxSize must be positive")
	case o.MaxSizePerMsg == 0:
		return errors.New("raftnode: MaxSizePerMsg must be positive")
	}
	return nil
}

// Ticker is the host's logical clock: every value on C is one Raft tick.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// ManualTicker is a Ticker that ticks when told to, for tests.
type ManualTicker struct{ c chan time.Time }

// NewManualTicker returns a ManualTicker.
func NewManualTicker() *ManualTicker { return &ManualTicker{c: make(chan time.Time, 64)} }

// C implements Ticker.
func (m *ManualTicker) C() <-chan time.Time { return m.c }

// Stop implements Ticker.
func (m *ManualTicker) Stop() {}

// Pending is how many ticks wait for the host to take them.
func (m *ManualTicker) Pending() int { return len(m.c) }

// Tick queues one tick; it reports false when 64 ticks are already queued
// (the tick is then lost, as a slow real ticker loses them).
func (m *ManualTicker) Tick() bool {
	select {
	case m.c <- time.Time{}:
		return true
	default:
		return false
	}
}
