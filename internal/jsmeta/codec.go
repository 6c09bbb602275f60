package jsmeta

import (
	"encoding/json"
	"fmt"
)

// An operation travels in the meta group's log as JSON: the log is small
// (one entry per administrative change), and JSON keeps it readable in a
// dump and tolerant of fields added later.

// Encode is op as a log entry.
func Encode(op Op) ([]byte, error) { return json.Marshal(op) }

// Decode reads a log entry; bad input is an error, never a panic.
func Decode(b []byte) (Op, error) {
	var op Op
	if err := json.Unmarshal(b, &op); err != nil {
		return Op{}, fmt.Errorf("%w: %v", ErrBadOp, err)
	}
	if op.Kind < AddStream || op.Kind > RemovePeer {
		return Op{}, fmt.Errorf("%w: kind %d", ErrBadOp, op.Kind)
	}
	return op, nil
}

// snapshot is the state as a snapshot holds it: lists, in a fixed order,
// so two servers' snapshots of the same state are the same bytes.
type snapshot struct {
	Streams   []*Stream   `json:"streams"`
	Consumers []*Consumer `json:"consumers"`
}

// Snapshot encodes the whole state.
func (s *State) Snapshot() ([]byte, error) {
	var snap snapshot
	snap.Streams = s.Streams("")
	for _, sa := range snap.Streams {
		snap.Consumers = append(snap.Consumers, s.Consumers(sa.Account, sa.Config.Name)...)
	}
	return json.Marshal(snap)
}

// Restore replaces the state with a snapshot's.
func (s *State) Restore(b []byte) error {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrBadOp, err)
	}
	next := New()
	for _, sa := range snap.Streams {
		if sa == nil || sa.Config.Name == "" {
			return fmt.Errorf("%w: snapshot stream without a name", ErrBadOp)
		}
		next.streams[key{sa.Account, sa.Config.Name}] = cloneStream(sa)
	}
	for _, ca := range snap.Consumers {
		if ca == nil || ca.Name == "" {
			return fmt.Errorf("%w: snapshot consumer without a name", ErrBadOp)
		}
		k := key{ca.Account, ca.Stream}
		if next.streams[k] == nil {
			return fmt.Errorf("%w: snapshot consumer %q of a stream it lacks", ErrBadOp, ca.Name)
		}
		if next.consumers[k] == nil {
			next.consumers[k] = map[string]*Consumer{}
		}
		next.consumers[k][ca.Name] = cloneConsumer(ca)
	}
	*s = *next
	return nil
}
