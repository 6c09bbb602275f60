package jscluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/starling-mq/starling/internal/raftnode"
)

// A stream's consumers replicate through the stream's own group rather
// than groups of their own (docs/replication.md): a consumer is led by
// its stream's leader, where the messages it delivers are, and its event
// batches (internal/consumer) are entries of the stream's log, ordered
// with the publishes. One group per stream instead of one per consumer
// means fewer heartbeats and one fsync shared by a stream's publishes
// and its consumers' acks; the price is that a consumer cannot be led
// elsewhere than its stream.
//
// A consumer entry is told apart from a stream entry by its first byte:
// a stream entry starts with its codec's version (1 or 2), a consumer
// entry with consumerEntry, then the consumer's name (uvarint length,
// bytes) and the batch.
const consumerEntry = 0xC1

// errBadConsumerEntry: bytes that are no consumer entry.
var errBadConsumerEntry = errors.New("jscluster: malformed consumer entry")

// maxConsumerName bounds a name in a consumer entry (nats-server's limit
// on consumer names is far lower).
const maxConsumerName = 4096

func encodeConsumerEntry(name string, batch []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(name)+len(batch))
	b = append(b, consumerEntry)
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	return append(b, batch...)
}

func decodeConsumerEntry(b []byte) (name string, batch []byte, err error) {
	if len(b) == 0 || b[0] != consumerEntry {
		return "", nil, errBadConsumerEntry
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n == 0 || n > maxConsumerName || uint64(len(b)-1-k) < n {
		return "", nil, fmt.Errorf("%w: name", errBadConsumerEntry)
	}
	var canon [binary.MaxVarintLen64]byte
	if binary.PutUvarint(canon[:], n) != k {
		// One encoding per entry: a length padded with zero groups is
		// not one this server writes.
		return "", nil, fmt.Errorf("%w: name length not minimal", errBadConsumerEntry)
	}
	at := 1 + k
	return string(b[at : at+int(n)]), b[at+int(n):], nil
}

// Consumers receives a stream group's committed consumer batches in log
// order, on the Raft loop: it must return at once.
type Consumers interface {
	ApplyConsumer(name string, batch []byte) error
}

// StreamHooks are what the server hosting a stream group hears from it.
type StreamHooks struct {
	// OnLeader is told when this member becomes or stops being the
	// stream's leader, on the Raft loop (after the stream itself was
	// told): it must return at once.
	OnLeader func(leader bool)
	// Consumers applies the consumers' batches; nil ignores them.
	Consumers Consumers
	// Snapshots makes and takes the part of the group's snapshots that
	// is not the stream's messages, and fetches those; nil: the group
	// neither compacts its log nor takes a snapshot.
	Snapshots Snapshots
	// CompactEvery is how many entries pass between the store syncs
	// after which the log is compacted (0: the log is kept whole).
	CompactEvery uint64
	// Inline: the store does not outlive the process (a memory
	// stream), so a snapshot that compacts the log carries the messages
	// themselves (streamgroup_inline.go).
	Inline bool
}

// ProposeConsumer queues a consumer's batch of events for the group, in
// order with the stream's entries; done (optional) hears the outcome. A
// batch that cannot be queued reports the error at once: the caller's
// consumer is no longer the leader's, or the group is overloaded.
func (g *StreamGroup) ProposeConsumer(name string, batch []byte, done func(error)) {
	g.order.Lock()
	err := g.node.Host.ProposeAsync(g.group, encodeConsumerEntry(name, batch), func(res raftnode.Result, err error) {
		if err == nil {
			// Committed, and refused by the state machine (applyConsumer's
			// error is the entry's value).
			err, _ = res.Value.(error)
		}
		if done != nil {
			done(err)
		}
	})
	g.order.Unlock()
	if err != nil && done != nil {
		done(err)
	}
}
