package consumer

import "strconv"

// A turn decides under the consumer's lock what goes out and sends it after
// letting the lock go: a publish runs subscribers' in-process handlers on
// the publishing goroutine (a stream capturing the subject stores it
// there), so it must never run with a component lock held. The outbox is
// bounded by the turn: at most deliverBurst messages and deliverBurstBytes
// of them, plus one status per waiting request (max_waiting) and a
// heartbeat.

type outKind uint8

const (
	outDelivery outKind = iota // a stored message, flushed with the others
	outStatus                  // a status or control message, sent at once
	outFlush                   // hand what was delivered so far to the clients
)

// outMsg is one message of a turn's outbox.
type outMsg struct {
	kind               outKind
	to, subject, reply string
	hdr, data          []byte
}

// emitLocked queues m for the end of the turn.
func (c *Consumer) emitLocked(m outMsg) {
	c.outbox = append(c.outbox, m)
	c.outBytes += len(m.hdr) + len(m.data)
}

// statusLocked queues a status-only message ("NATS/1.0 404 No Messages").
func (c *Consumer) statusLocked(subject string, code int, desc, extra string) {
	c.emitLocked(outMsg{kind: outStatus, to: subject, hdr: statusHeader(code, desc, extra)})
}

func statusHeader(code int, desc, extra string) []byte {
	return []byte("NATS/1.0 " + strconv.Itoa(code) + " " + desc + "\r\n" + extra + "\r\n")
}

// takeOutboxLocked hands the turn's outbox to the caller, who sends it
// with sendOutbox once the lock is released.
func (c *Consumer) takeOutboxLocked() []outMsg {
	out := c.outbox
	c.outbox, c.outBytes = nil, 0
	return out
}

// sendOutbox publishes what a turn queued, in order, with no lock held.
// Only one turn of a consumer runs at a time, so outboxes never interleave.
func (c *Consumer) sendOutbox(out []outMsg) {
	deferred := false
	for i := range out {
		m := &out[i]
		var err error
		switch m.kind {
		case outDelivery:
			_, err = c.out.PublishToDeferred(m.to, m.subject, m.reply, m.hdr, m.data)
			deferred = true
		case outStatus:
			_, err = c.out.Publish(m.to, m.reply, m.hdr, m.data)
			deferred = false // Publish flushed everything before it too
		case outFlush:
			c.out.Flush()
			deferred = false
		}
		if err != nil {
			c.log.Debug("consumer message not sent", "consumer", c.name, "to", m.to, "err", err)
		}
		out[i] = outMsg{} // let the message's bytes go as soon as they are sent
	}
	if deferred {
		c.out.Flush()
	}
}
