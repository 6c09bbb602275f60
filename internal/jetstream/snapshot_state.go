package jetstream

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/snapshot"
)

// Archives hold consumer state in nats-server's terms (delivered and ack
// floor pairs, pending by stream sequence, redelivery counts); these
// convert it to and from Starling's consumer.State, so a consumer crosses
// between the servers with its position and its unacknowledged messages.

// archiveState converts st for an archive; pending deliveries are dated
// now (Starling keeps no delivery time that would survive a restart
// either).
func archiveState(st consumer.State, now time.Time) *snapshot.ConsumerState {
	out := &snapshot.ConsumerState{
		Delivered: snapshot.SequencePair{Consumer: st.Delivered, Stream: max(st.LastStream, st.FloorS)},
		AckFloor:  snapshot.SequencePair{Consumer: st.FloorC, Stream: st.FloorS},
	}
	// A consumer that delivered nothing yet sits just before its start,
	// which nats-server records as the last delivered stream sequence.
	if st.Delivered == 0 && len(st.LastPer) == 0 && st.Next > 0 {
		out.Delivered.Stream = max(out.Delivered.Stream, st.Next-1)
	}
	for _, p := range st.Pending {
		if out.Pending == nil {
			out.Pending = map[uint64]snapshot.Pending{}
		}
		out.Pending[p.Stream] = snapshot.Pending{Consumer: p.Consumer, Time: now.UnixNano()}
		if p.Deliveries > 1 {
			if out.Redelivered == nil {
				out.Redelivered = map[uint64]uint64{}
			}
			out.Redelivered[p.Stream] = uint64(p.Deliveries - 1)
		}
	}
	return out
}

// restoredState converts an archive's consumer state; nil (no state, or
// a last-per-subject consumer that has not started delivering) makes the
// consumer start as configured. Inconsistent states are made consistent
// rather than refused: the floor never passes the last delivery, and
// pending entries outside (floor, delivered] are dropped.
func restoredState(st *snapshot.ConsumerState, cfg jsapi.ConsumerConfig) *consumer.State {
	if st == nil || (cfg.DeliverPolicy == jsapi.DeliverLastPerSubject && st.Delivered.Consumer == 0) {
		return nil
	}
	d, f := st.Delivered, st.AckFloor
	d.Stream, d.Consumer = max(d.Stream, f.Stream), max(d.Consumer, f.Consumer)
	out := &consumer.State{Next: d.Stream + 1, Delivered: d.Consumer, LastStream: d.Stream, FloorS: f.Stream, FloorC: f.Consumer}
	if d.Consumer == 0 {
		// Nothing delivered yet: Starling reports no last delivery then,
		// where nats-server reports the sequence before the start.
		out.LastStream = 0
	}
	for _, seq := range slices.Sorted(maps.Keys(st.Pending)) {
		if seq <= f.Stream || seq > d.Stream {
			continue
		}
		p := st.Pending[seq]
		out.Pending = append(out.Pending, consumer.PendingEntry{Stream: seq, Consumer: p.Consumer, Deliveries: 1 + int(min(st.Redelivered[seq], 1<<20))})
	}
	return out
}

// restoredConfig prepares an archived consumer configuration for this
// server: nats-server 2.11 stores "pause_until" as the zero time when the
// consumer is not paused, which means the same as no pause at all.
func restoredConfig(cfg jsapi.ConsumerConfig, name string) jsapi.ConsumerConfig {
	if cfg.PauseUntil != nil && cfg.PauseUntil.IsZero() {
		cfg.PauseUntil = nil
	}
	if cfg.Name == "" {
		cfg.Name = name
	}
	return cfg
}

// sealedState is a consumer state file's content.
func sealedState(st *consumer.State) ([]byte, error) {
	body, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return sealBody(body), nil
}
