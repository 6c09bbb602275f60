package jscluster

import (
	"fmt"

	"github.com/starling-mq/starling/internal/stream"
)

// Compacting the log of a stream whose store does not outlive the
// process (a memory stream). Such a store cannot vouch for anything after
// a restart, so the snapshot that replaces the compacted entries carries
// the messages themselves: every CompactEvery entries, when the stream's
// messages fit in inlineMax bytes, the member encodes them (one
// stream.CatchUp from the first sequence) into the snapshot, built on
// the Raft loop where the stream is exactly as of the applied index. At
// restart the empty store is refilled from it and the entries after it
// are replayed, so a whole cluster restarted keeps what it acknowledged,
// as before compaction; a member that joins empty takes the messages from
// the leader's snapshot without fetching. A stream larger than inlineMax
// is not compacted (its log keeps growing until it shrinks again); a
// member behind, not empty, fetches from a peer as for a file stream.

// inlineMax bounds the messages a snapshot carries: it travels as one
// message of the Raft transport (16 MiB frames) and is built on the loop.
const inlineMax = 8 << 20

// inlineSnapshot is DurableSnapshot for an inline group.
func (m *streamSM) inlineSnapshot() (uint64, []byte, bool, error) {
	idx := m.index.Load()
	d := &m.dur
	d.mu.Lock()
	due := idx >= d.started+m.every && !m.fetching()
	if due {
		d.started = idx // tried: the next try comes every entries later
	}
	d.mu.Unlock()
	if !due {
		return 0, nil, false, nil
	}
	snap := streamSnapshot{Index: idx, Last: m.s.LastSeq()}
	if snap.Inline = m.inline(snap.Last); snap.Inline == nil {
		return 0, nil, false, nil // too large to carry: the log stays
	}
	data, err := m.encode(snap)
	return snap.Index, data, err == nil, err
}

// inline encodes the stream's messages up to last, nil when there are
// more than inlineMax bytes of them (or none can be read).
func (m *streamSM) inline(last uint64) []byte {
	if last == 0 {
		return []byte{}
	}
	if m.s.Store().State().Bytes > inlineMax {
		return nil // known too large without walking the messages
	}
	c, err := m.s.ServeCatchUp(1, last, 0, inlineMax)
	if err != nil || c.Next <= last {
		return nil
	}
	b, err := c.MarshalBinary()
	if err != nil || len(b) > inlineMax {
		return nil
	}
	return b
}

// applyInline fills an empty store from the snapshot's messages.
func (m *streamSM) applyInline(snap streamSnapshot) error {
	if snap.Last == 0 {
		return nil
	}
	c := new(stream.CatchUp)
	if err := c.UnmarshalBinary(snap.Inline); err != nil {
		return fmt.Errorf("jetstream cluster: snapshot messages: %w", err)
	}
	if err := m.s.ApplyCatchUp(c, 0, snap.Last); err != nil {
		return fmt.Errorf("jetstream cluster: snapshot messages: %w", err)
	}
	return nil
}
