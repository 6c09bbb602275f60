package consumer

import (
	"bytes"
	"encoding/json"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/subject"
)

// Acks arrive on the reply subject of each delivery:
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
// with a body saying what to do: +ACK (or empty), -NAK (optionally
// {"delay": ns}), +WPI (still working), +NXT (ack and pull), +TERM.

// AckSeqs parses the stream sequence out of an ack subject, without
// allocating: acks arrive once per message.
func AckSeqs(subject string) (sseq uint64, ok bool) {
	const prefix = "$JS.ACK."
	if !strings.HasPrefix(subject, prefix) {
		return 0, false
	}
	// Tokens after the prefix: stream, consumer, delivered, stream seq, …
	// (the 12-token form puts domain and account hash first).
	var tok [10]string
	n := 0
	rest := subject[len(prefix):]
	for n < len(tok) {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			tok[n] = rest
			n++
			break
		}
		tok[n], rest = rest[:i], rest[i+1:]
		n++
	}
	idx := 3
	if n >= 10 {
		idx = 5
	} else if n < 7 {
		return 0, false
	}
	v, err := strconv.ParseUint(tok[idx], 10, 64)
	return v, err == nil
}

// Ack handles one ack message. reply is set for acks that want a
// confirmation (AckSync); it is answered once the ack is applied.
func (c *Consumer) Ack(subject, reply string, body []byte) {
	sseq, ok := AckSeqs(subject)
	if !ok {
		return
	}
	verb, arg, _ := bytes.Cut(bytes.TrimSpace(body), []byte(" "))
	now := c.now().UnixNano()
	var next *jsapi.NextRequest
	c.mu.Lock()
	// An ack of a message this consumer has not delivered yet (past its
	// next sequence, nothing pending) refers to another leader's delivery
	// that never reached the replicated state: it changes nothing, and an
	// AckSync of it is not confirmed, or the client would believe acked a
	// message this consumer is going to deliver (as nats-server, which
	// does not answer an ack above its delivery pointer).
	unknown := sseq >= c.sseq && c.pending[sseq] == nil
	switch string(verb) {
	case "", "+ACK":
		c.ackLocked(sseq)
	case "-NAK":
		c.nakLocked(sseq, arg, now)
	case "+WPI":
		if p, ok := c.pending[sseq]; ok {
			p.deadline = now + int64(c.ackWait(p.dc))
			c.noteDeadline(p.deadline)
		}
	case "+NXT":
		c.ackLocked(sseq)
		if reply != "" {
			r, err := ParseNext(arg)
			if err == nil {
				next = &r
			}
		}
	case "+TERM":
		if p, ok := c.pending[sseq]; ok {
			c.dropLocked(sseq)
			// Terminated counts as done for work-queue and interest
			// retention: the message is not coming back.
			c.ackedOut = append(c.ackedOut, sseq)
			c.adviseLocked("CONSUMER.MSG_TERMINATED", &jsapi.TerminatedAdvisory{
				TypedEvent: c.event(jsapi.TypeTerminated), Stream: c.stream, Consumer: c.name,
				ConsumerSeq: p.cseq, StreamSeq: sseq, Deliveries: p.dc, Reason: string(bytes.TrimSpace(arg)),
			})
		}
	}
	acked := c.takeAckedLocked()
	// Wake the deliverer only when the ack can let something out.
	wake := len(c.redeliver) > 0 || (len(c.waiting) > 0) ||
		(c.cfg.DeliverSubject != "" && c.cfg.MaxAckPending > 0 && len(c.pending) < c.cfg.MaxAckPending)
	if unknown && next == nil {
		reply = ""
	}
	held := reply != "" && next == nil && c.holdSyncLocked(reply)
	// A plain ack is proposed by the next turn, not here: a client acking
	// a fetched batch sends its acks back to back, and the turn, a
	// goroutine hop away, proposes all that arrived by then as one batch
	// (one Raft entry per ack instead made about a hundred entries of
	// every fetch of a hundred). An ack whose reply waits for its commit
	// goes at once.
	lazy := reply == "" && c.replicate != nil
	if lazy && !c.replPoked && len(c.replEvents) > 0 {
		c.replPoked, wake = true, true
	}
	c.mu.Unlock()
	if !lazy {
		c.flushReplicated()
	}
	if c.onAck != nil {
		for _, seq := range acked {
			c.onAck(seq)
		}
	}
	if reply != "" && next == nil && !held && c.persist != nil {
		// AckSync: confirmed only once the ack is on disk.
		c.persist()
	}
	if next != nil {
		c.Pull(reply, *next)
	} else if reply != "" && !held {
		if _, err := c.out.Publish(reply, "", nil, nil); err != nil {
			c.log.Debug("ack reply not sent", "err", err)
		}
	}
	if wake {
		c.poke()
	}
}

// nakLocked applies a -NAK: the message is due again at once, or after
// the delay given as {"delay": ns} or a duration ("-NAK 5s"); a delay
// that does not parse is a plain NAK, as in nats-server. A message that
// already had its max_deliver deliveries is given up now.
func (c *Consumer) nakLocked(sseq uint64, arg []byte, now int64) {
	p, ok := c.pending[sseq]
	if !ok {
		return
	}
	c.adviseLocked(jsapi.AdvisoryConsumerNak, &jsapi.ConsumerDeliveryNakAdvisory{
		TypedEvent: c.event(jsapi.TypeConsumerDeliveryNaked), Stream: c.stream, Consumer: c.name,
		ConsumerSeq: p.cseq, StreamSeq: sseq, Deliveries: p.dc, Domain: c.domain,
	})
	if c.cfg.MaxDeliver > 0 && p.dc >= c.cfg.MaxDeliver {
		c.maxDeliveredLocked(sseq, p)
		return
	}
	if delay := nakDelay(arg); delay > 0 {
		p.deadline = now + int64(delay)
		c.noteDeadline(p.deadline)
		return
	}
	p.deadline = 0
	c.queueLocked(sseq, p)
}

// nakDelay reads a -NAK's delay, 0 for none.
func nakDelay(arg []byte) time.Duration {
	arg = bytes.TrimSpace(arg)
	if len(arg) == 0 {
		return 0
	}
	if arg[0] == '{' {
		var d struct {
			Delay time.Duration `json:"delay"`
		}
		if json.Unmarshal(arg, &d) != nil {
			return 0
		}
		return d.Delay
	}
	d, err := time.ParseDuration(string(arg))
	if err != nil {
		return 0
	}
	return d
}

// ackLocked applies an ack of sseq (and, with ack all, of everything
// delivered before it).
func (c *Consumer) ackLocked(sseq uint64) {
	if c.cfg.SampleFrequency != "" {
		c.sampleAcksLocked(sseq)
	}
	// The acknowledged sequences are reported after the lock is released:
	// the owner asks the other consumers whether they are done with these
	// messages too.
	c.applyLocked(Event{Kind: EventAcked, Stream: sseq})
}

// sampleAcksLocked publishes ack samples (sample_freq) for what an ack of
// sseq acknowledges, before the ack removes it.
func (c *Consumer) sampleAcksLocked(sseq uint64) {
	sample := samplePercent(c.cfg.SampleFrequency)
	if sample <= 0 {
		return
	}
	now := c.now()
	one := func(seq uint64, p *pendingAck) {
		if sample >= 100 || mrand.IntN(100) < sample {
			c.adviseMetricLocked(seq, p, now)
		}
	}
	switch c.cfg.AckPolicy {
	case jsapi.AckNone:
	case jsapi.AckAll:
		for seq, p := range c.pending {
			if seq <= sseq {
				one(seq, p)
			}
		}
	default:
		if p, ok := c.pending[sseq]; ok {
			one(sseq, p)
		}
	}
}

// applyLocked applies ev to the delivery state (transition.go), queues
// the sequences an ack removed for onAck, and marks the state for saving
// when it changed.
func (c *Consumer) applyLocked(ev Event) {
	var changed bool
	c.ackedOut, changed = c.deliveryState.apply(ev, c.cfg.AckPolicy, c.ackedOut)
	if changed {
		c.dirty = true
		// An event that changes nothing here changes nothing on a
		// replica either: the replica applies the same events in order.
		c.replicateLocked(ev)
	}
}

// adviseMetricLocked publishes an ack sample (sample_freq).
func (c *Consumer) adviseMetricLocked(seq uint64, p *pendingAck, now time.Time) {
	if c.advise == nil {
		return
	}
	c.advise(jsapi.MetricPrefix+"CONSUMER.ACK."+c.stream+"."+c.name, &jsapi.ConsumerAckMetric{
		TypedEvent: c.event(jsapi.TypeConsumerAckMetric), Stream: c.stream, Consumer: c.name,
		ConsumerSeq: p.cseq, StreamSeq: seq, Delay: now.UnixNano() - p.sent, Deliveries: p.dc,
	})
}

// takeAcked returns the sequences acked since the last call.
func (c *Consumer) takeAckedLocked() []uint64 {
	out := c.ackedOut
	c.ackedOut = nil
	return out
}

// Done reports whether the consumer no longer needs message seq on
// subject: it is outside the consumer's filters, or was delivered (or
// passed over) and is not awaiting an ack.
func (c *Consumer) Done(seq uint64, subject string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.matchesLocked(subject) {
		return true
	}
	if _, ok := c.pending[seq]; ok {
		return false
	}
	for _, s := range c.lps {
		if s == seq {
			return false
		}
	}
	return seq < c.sseq
}

func (c *Consumer) matchesLocked(subj string) bool {
	for _, f := range c.filters {
		if f == ">" || subject.Matches(f, subj) {
			return true
		}
	}
	return false
}
