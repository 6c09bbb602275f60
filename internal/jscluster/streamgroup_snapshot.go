package jscluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/starling-mq/starling/internal/raftnode"
)

// Compacting a stream group's log, and catching a member up from a
// snapshot.
//
// The stream's store holds its messages; the log needs to keep only what
// the store may not have on stable storage yet. Every CompactEvery
// entries the member syncs the store (off the Raft loop) and the host
// then drops the entries up to the index the sync started at
// (raftnode.DurableState). A restart replays the entries after it over
// the store, which changes nothing already there (stream.ErrApplied,
// consumer.ErrApplied), so the snapshot's consumer states may be newer
// than its index.
//
// A member whose log ends before the leader's first entry gets a
// snapshot from the leader: the consumers' states and, for the messages,
// only the index and the last sequence. It takes the consumers at once,
// then fetches the messages from a member that applied that index
// (Snapshots.Fetch, stream.ServeCatchUp), while the host holds the
// entries after the snapshot (raftnode.ErrFetching); FetchDone resumes
// them. A store found short of a local snapshot's last sequence at
// restart (its files were damaged and dropped) fetches the same way.

// Snapshots is what a stream group's snapshots need from the server.
// Every method runs on the Raft loop and must return at once.
type Snapshots interface {
	// ConsumerState encodes the consumers' replicated states.
	ConsumerState() ([]byte, error)
	// RestoreConsumers replaces them with what ConsumerState encoded.
	RestoreConsumers(data []byte) error
	// Fetch starts fetching the messages target names; the group's
	// FetchDone(target.Gen) reports them all fetched and synced.
	Fetch(target FetchTarget)
}

// FetchTarget is what a member fetches after a snapshot: every message
// up to Last, from a member that applied at least Index. Had is the last
// sequence this member's store held when the fetch began.
type FetchTarget struct {
	Gen, Index, Last, Had uint64
}

// streamSnapshot is a stream group's snapshot.
type streamSnapshot struct {
	Index     uint64          `json:"index"` // the last entry applied to the stream
	Last      uint64          `json:"last"`  // the stream's last sequence as of Index
	Consumers json.RawMessage `json:"consumers,omitempty"`
	// Inline is every message up to Last (a stream.CatchUp from the
	// first sequence, encoded), for a store that does not outlive the
	// process (streamgroup_inline.go).
	Inline []byte `json:"inline,omitempty"`
}

// durability tracks the store syncs that let the log be compacted.
type durability struct {
	mu       sync.Mutex
	syncing  bool
	started  uint64 // index the last sync began at
	doneIdx  uint64 // index and last sequence of the last sync that ended
	doneLast uint64
	reported uint64 // doneIdx as last handed to the host
}

// fetching tracks a fetch after a snapshot.
type fetching struct {
	mu      sync.Mutex
	gen     uint64
	pending bool
	target  FetchTarget
}

// KeepsWholeLog implements raftnode.WholeLog: the group is founded so a
// member joining before the first compaction can replay the log.
func (m *streamSM) KeepsWholeLog() {}

// DurableSnapshot implements raftnode.DurableState.
func (m *streamSM) DurableSnapshot() (uint64, []byte, bool, error) {
	if m.every == 0 || m.hooks.Snapshots == nil {
		return 0, nil, false, nil
	}
	if m.hooks.Inline {
		return m.inlineSnapshot()
	}
	idx := m.index.Load()
	d := &m.dur
	d.mu.Lock()
	if !d.syncing && idx >= d.started+m.every && !m.fetching() {
		d.syncing, d.started = true, idx
		last := m.s.LastSeq()
		go func() {
			err := m.s.SyncStore()
			d.mu.Lock()
			defer d.mu.Unlock()
			d.syncing = false
			if err == nil {
				d.doneIdx, d.doneLast = idx, last
			}
		}()
	}
	if d.doneIdx <= d.reported {
		d.mu.Unlock()
		return 0, nil, false, nil
	}
	snap := streamSnapshot{Index: d.doneIdx, Last: d.doneLast}
	d.reported = d.doneIdx
	d.mu.Unlock()
	data, err := m.encode(snap)
	return snap.Index, data, err == nil, err
}

func (m *streamSM) encode(snap streamSnapshot) ([]byte, error) {
	if m.hooks.Snapshots != nil {
		cons, err := m.hooks.Snapshots.ConsumerState()
		if err != nil {
			return nil, err
		}
		snap.Consumers = cons
	}
	return json.Marshal(snap)
}

// Snapshot implements raftnode.StateMachine: the snapshot a leader sends
// a member its log no longer has the entries for.
func (m *streamSM) Snapshot() ([]byte, error) {
	if m.hooks.Snapshots == nil {
		return nil, errors.New("jetstream cluster: this stream's group takes no snapshots")
	}
	snap := streamSnapshot{Index: m.index.Load(), Last: m.s.LastSeq()}
	if m.hooks.Inline {
		snap.Inline = m.inline(snap.Last)
	}
	return m.encode(snap)
}

func decodeStreamSnapshot(b []byte) (streamSnapshot, error) {
	var snap streamSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return snap, fmt.Errorf("jetstream cluster: stream snapshot: %w", err)
	}
	return snap, nil
}

// Restore implements raftnode.StateMachine: the snapshot of this member's
// own log, at start. The store holds every message up to its last
// sequence unless its files were damaged.
func (m *streamSM) Restore(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	snap, err := m.restoreConsumers(b)
	if err != nil {
		return err
	}
	if snap.Inline != nil && m.s.LastSeq() == 0 {
		if err := m.applyInline(snap); err != nil {
			return err
		}
	}
	if m.s.LastSeq() >= snap.Last {
		m.index.Store(snap.Index)
		m.dur.mu.Lock()
		m.dur.started, m.dur.doneIdx, m.dur.doneLast, m.dur.reported = snap.Index, snap.Index, snap.Last, snap.Index
		m.dur.mu.Unlock()
		return nil
	}
	return m.startFetch(snap)
}

// Received implements raftnode.SnapshotReceiver: a snapshot from the
// leader, naming messages this member must fetch.
func (m *streamSM) Received(b []byte) error {
	snap, err := m.restoreConsumers(b)
	if err != nil {
		return err
	}
	if m.index.Load() >= snap.Index && m.s.LastSeq() >= snap.Last {
		return nil
	}
	if snap.Inline != nil && m.s.LastSeq() == 0 {
		// An empty member takes the messages from the snapshot itself;
		// a fetch an earlier snapshot started is over (its FetchDone is
		// ignored), so compaction goes on.
		if err := m.applyInline(snap); err != nil {
			return err
		}
		m.fetch.mu.Lock()
		m.fetch.gen++
		m.fetch.pending = false
		m.fetch.mu.Unlock()
		m.index.Store(snap.Index)
		return nil
	}
	return m.startFetch(snap)
}

func (m *streamSM) restoreConsumers(b []byte) (streamSnapshot, error) {
	snap, err := decodeStreamSnapshot(b)
	if err != nil {
		return snap, err
	}
	if m.hooks.Snapshots == nil {
		return snap, errors.New("jetstream cluster: this stream's group takes no snapshots")
	}
	return snap, m.hooks.Snapshots.RestoreConsumers(snap.Consumers)
}

func (m *streamSM) startFetch(snap streamSnapshot) error {
	f := &m.fetch
	f.mu.Lock()
	f.gen++
	f.pending = true
	f.target = FetchTarget{Gen: f.gen, Index: snap.Index, Last: snap.Last, Had: m.s.LastSeq()}
	t := f.target
	f.mu.Unlock()
	m.hooks.Snapshots.Fetch(t)
	return raftnode.ErrFetching
}

func (m *streamSM) fetching() bool {
	m.fetch.mu.Lock()
	defer m.fetch.mu.Unlock()
	return m.fetch.pending
}

// Fetched implements raftnode.Fetcher.
func (m *streamSM) Fetched() bool { return !m.fetching() }

// FetchDone reports the fetch of gen complete: its messages are in the
// store, synced. A fetch a newer snapshot replaced changes nothing.
func (g *StreamGroup) FetchDone(ctx context.Context, gen uint64) error {
	m := g.sm
	m.fetch.mu.Lock()
	if gen != m.fetch.gen || !m.fetch.pending {
		m.fetch.mu.Unlock()
		return nil
	}
	t := m.fetch.target
	m.fetch.pending = false
	m.fetch.mu.Unlock()
	if t.Index > m.index.Load() {
		m.index.Store(t.Index)
	}
	return g.node.Host.Resume(ctx, g.group)
}

// AppliedIndex is the last entry this member's stream applied: a member
// serves a fetch only for an index it reached.
func (g *StreamGroup) AppliedIndex() uint64 { return g.sm.index.Load() }

// Fetching reports whether this member is fetching after a snapshot.
func (g *StreamGroup) Fetching() bool { return g.sm.fetching() }
