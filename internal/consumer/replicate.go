package consumer

import (
	"errors"
	"fmt"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// A replicated consumer, the consumer's half of it (Raft is the
// caller's):
//
//  1. the leader runs the live consumer with Options.Replicate set: every
//     event it decides (deliveries, acks, terminations) is handed to
//     Replicate in batches, in decision order, for Raft to commit;
//  2. every replica that is not the leader holds a Replica and applies
//     each committed batch with Replica.ApplyReplicated, in log order;
//  3. the leader calls Consumer.ApplyReplicated with the same committed
//     batches: it applied them already, so this only moves its committed
//     mark and confirms the AckSyncs waiting for it.
//
// The leader applies its events at once and runs ahead of the log, rather
// than waiting for each batch to come back committed. Deliveries may: the
// contract is at least once, so a delivery whose event is lost with the
// leader is delivered again by the next one (its state does not have it
// pending, or has it with the lower count). An ack may too, but its
// confirmation may not: an AckSync (the double ack) promises the message
// will not come back, so its reply waits until the batch holding its
// Acked event is committed. Waiting for every batch instead would put a
// Raft round trip under every delivery burst and every ack, with nothing
// gained that the contract promises.
//
// Batches are numbered from 1 so a replica recognises a replay (a
// restart re-applies the log's tail: ErrApplied, nothing changed). A new
// consumer's first batch carries its starting state: the read position
// and the last-per-subject set depend on the stream as the leader saw it.
//
// A leader that loses leadership stops its consumer; the new leader
// applies its whole log first, then starts its consumer from its
// replica's State and Applied. If the log holds a batch the old leader
// decided after that, its ApplyReplicated reports ErrNotProposed, and the
// consumer must be rebuilt from a replica's state the same way.

// maxBatchEvents bounds one batch: the events decided while a Replicate
// call runs go out in batches of at most this many.
const maxBatchEvents = 4096

// maxSyncWaits bounds the AckSyncs waiting for a commit; one past it is
// not answered (the client retries, and the retry is answered once the
// ack is committed).
const maxSyncWaits = 1 << 16

// ErrNotProposed is the leader's report of a committed batch it did not
// propose: another leader decided it.
var ErrNotProposed = errors.New("consumer: batch not proposed by this leader")

// errNotReplicated: ApplyReplicated on a consumer without Replicate.
var errNotReplicated = errors.New("consumer: not replicated")

// syncWait is an AckSync confirmed once batch seq is committed.
type syncWait struct {
	seq   uint64
	reply string
}

// deliveryCoalesce is how long the deliveries of a consumer without acks
// (ack_policy none) may wait to be replicated together. Its only
// replicated state is how far it delivered: proposing that after every
// turn put a Raft entry under every few messages of a fast reader (an
// ordered consumer read an R3 stream at three quarters of the rate of an
// R1 one). Held deliveries lost with the leader are delivered again by
// the next one, as any delivery whose batch was lost is.
const deliveryCoalesce = 20 * time.Millisecond

// holdReplicatedLocked reports until when (the consumer's clock, unix
// ns) the queued events may wait before they are proposed, 0 when they
// go now: only the deliveries of a consumer without acks wait, up to
// deliveryCoalesce after the last batch and while they fit one batch.
func (c *Consumer) holdReplicatedLocked(now int64) int64 {
	if c.replicate == nil || c.cfg.AckPolicy != jsapi.AckNone || c.replStart != nil ||
		len(c.replEvents) == 0 || len(c.replEvents) >= maxBatchEvents {
		return 0
	}
	for _, ev := range c.replEvents {
		if ev.Kind != EventDelivered {
			return 0
		}
	}
	if until := c.lastProposal + int64(deliveryCoalesce); now < until {
		return until
	}
	return 0
}

// replicateLocked queues an event the consumer decided for the next batch.
func (c *Consumer) replicateLocked(ev Event) {
	if c.replicate != nil {
		c.replEvents = append(c.replEvents, ev)
	}
}

// flushReplicated hands the events decided so far to Replicate, in
// batches, with no lock held (Replicate may call back into the consumer,
// ApplyReplicated included). One caller at a time does it: a caller that
// finds another at it leaves its events to that one, which takes them
// under the lock before it stops, so batches go out in decision order.
func (c *Consumer) flushReplicated() {
	if c.replicate == nil {
		return
	}
	c.mu.Lock()
	if c.replFlushing {
		c.mu.Unlock()
		return
	}
	c.replFlushing = true
	for len(c.replEvents) > 0 || c.replStart != nil {
		n := min(len(c.replEvents), maxBatchEvents)
		c.proposed++
		c.lastProposal = c.now().UnixNano()
		bt := Batch{Seq: c.proposed, Start: c.replStart, Events: c.replEvents[:n:n]}
		c.replStart = nil
		if c.replEvents = c.replEvents[n:]; len(c.replEvents) == 0 {
			c.replEvents = nil
		}
		c.mu.Unlock()
		c.replicate(EncodeBatch(&bt))
		c.mu.Lock()
	}
	c.replFlushing = false
	c.mu.Unlock()
}

// holdSyncLocked decides whether an AckSync whose ack was just applied
// must wait for a commit, and queues its reply if so: it waits for the
// batch that will hold the last event decided so far.
func (c *Consumer) holdSyncLocked(reply string) bool {
	if c.replicate == nil {
		return false
	}
	target := c.proposed + uint64((len(c.replEvents)+maxBatchEvents-1)/maxBatchEvents)
	if c.replStart != nil && len(c.replEvents) == 0 {
		target++
	}
	if target <= c.committed {
		return false
	}
	if len(c.syncWaits) < maxSyncWaits {
		c.syncWaits = append(c.syncWaits, syncWait{seq: target, reply: reply})
	}
	return true
}

// ApplyReplicated takes a committed batch on the leader, which applied
// its events when it decided them: it moves the committed mark and
// confirms the AckSyncs waiting for it. A batch at or below the mark
// reports ErrApplied; one this consumer did not propose, ErrNotProposed.
func (c *Consumer) ApplyReplicated(b []byte) error {
	bt, err := DecodeBatch(b)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.replicate == nil {
		c.mu.Unlock()
		return errNotReplicated
	}
	if err := checkSeq(bt.Seq, c.committed); err != nil || bt.Seq == 0 || bt.Seq > c.proposed {
		c.mu.Unlock()
		if err == nil {
			err = fmt.Errorf("%w: %d, proposed %d", ErrNotProposed, bt.Seq, c.proposed)
		}
		return err
	}
	c.committed = bt.Seq
	// Waits are queued with rising targets: the confirmed are a prefix.
	n := 0
	for n < len(c.syncWaits) && c.syncWaits[n].seq <= c.committed {
		n++
	}
	done := c.syncWaits[:n:n]
	if c.syncWaits = c.syncWaits[n:]; len(c.syncWaits) == 0 {
		c.syncWaits = nil
	}
	c.mu.Unlock()
	for _, w := range done {
		if _, err := c.out.Publish(w.reply, "", nil, nil); err != nil {
			c.log.Debug("ack reply not sent", "err", err)
		}
	}
	return nil
}

// Committed returns the sequences of the last batch proposed and the last
// one committed.
func (c *Consumer) Committed() (proposed, committed uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proposed, c.committed
}
