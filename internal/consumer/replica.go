package consumer

import (
	"errors"
	"fmt"
	"sync"

	"github.com/starling-mq/starling/internal/jsapi"
)

// ErrApplied is ApplyReplicated's report of a batch at or below the last
// applied one (a replay after a restart): nothing was changed.
var ErrApplied = errors.New("consumer: batch already applied")

// ErrBatchGap is ApplyReplicated's report of a batch past the next one:
// a batch is missing, so this replica cannot follow the log any more (it
// needs the state from elsewhere: a snapshot, or the leader's).
var ErrBatchGap = errors.New("consumer: batch out of sequence")

// Replica is a consumer's state on a replica that is not the leader: no
// deliveries, no timers, no pull requests; only committed batches, in log
// order. Its methods are safe for concurrent use.
type Replica struct {
	mu      sync.Mutex
	policy  jsapi.AckPolicy
	d       deliveryState
	applied uint64 // sequence of the last batch applied
	scratch []uint64
}

// NewReplica returns a replica of a consumer with ack policy policy,
// starting from st after batch applied (nil and 0 for a new consumer,
// whose first batch carries its start).
func NewReplica(policy jsapi.AckPolicy, st *State, applied uint64) *Replica {
	r := &Replica{policy: policy, applied: applied}
	r.d.pending = map[uint64]*pendingAck{}
	if st != nil {
		r.d.restore(st)
	}
	return r
}

// ApplyReplicated applies a committed batch. A batch at or below the last
// applied one changes nothing and reports ErrApplied; one past the next
// reports ErrBatchGap; bytes that are no batch an error wrapping
// ErrBadBatch. A batch without a sequence (0) is always applied.
func (r *Replica) ApplyReplicated(b []byte) error {
	bt, err := DecodeBatch(b)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := checkSeq(bt.Seq, r.applied); err != nil {
		return err
	}
	if bt.Start != nil {
		r.d.restore(bt.Start)
	}
	for _, ev := range bt.Events {
		// What an ack removed matters to the stream's retention, which
		// the stream's own group replicates; nothing to report here.
		r.scratch, _ = r.d.apply(ev, r.policy, r.scratch[:0])
	}
	if bt.Seq > 0 {
		r.applied = bt.Seq
	}
	return nil
}

// checkSeq decides whether batch seq follows batch applied.
func checkSeq(seq, applied uint64) error {
	switch {
	case seq == 0 || seq == applied+1:
		return nil
	case seq <= applied:
		return fmt.Errorf("%w: %d, last %d", ErrApplied, seq, applied)
	default:
		return fmt.Errorf("%w: %d after %d", ErrBatchGap, seq, applied)
	}
}

// State returns the replica's state, as Consumer.State returns the
// leader's.
func (r *Replica) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d.state()
}

// Applied returns the sequence of the last batch applied: a replica that
// becomes the leader starts its consumer from State and Applied
// (Options.State, Options.Applied).
func (r *Replica) Applied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}
