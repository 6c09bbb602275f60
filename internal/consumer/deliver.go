package consumer

import (
	"strconv"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// npRefresh bounds how stale the pending count in a delivery may be.
const npRefresh = 100 * time.Millisecond

// fcWindow is how much a push consumer with flow control sends before it
// asks the subscriber to confirm it keeps up; fcWait bounds the pause.
const (
	fcWindow = 1 << 20
	fcWait   = 2 * time.Second
)

// holdLocked returns when m may go out if replay_policy original or
// rate_limit_bps holds it back now, 0 when it may go at once.
func (c *Consumer) holdLocked(m *store.Msg, dc, size int, now int64) int64 {
	var at int64
	if c.cfg.ReplayPolicy == jsapi.ReplayOriginal && dc == 1 && c.replayPrevTS != 0 {
		// Keep the gaps between the stored times.
		if due := c.replayPrevAt + (m.Time - c.replayPrevTS); due > now {
			at = due
		}
	}
	if c.cfg.RateLimit > 0 && c.rlNext > now {
		at = max(at, c.rlNext)
	}
	return at
}

// pacedLocked records a delivery for replay timing and the rate limit.
func (c *Consumer) pacedLocked(m *store.Msg, dc, size int, now int64) {
	if c.cfg.ReplayPolicy == jsapi.ReplayOriginal && dc == 1 {
		c.replayPrevTS, c.replayPrevAt = m.Time, now
	}
	if bps := c.cfg.RateLimit; bps > 0 {
		c.rlNext = max(c.rlNext, now) + int64(uint64(size)*8*uint64(time.Second)/bps)
	}
}

// requestFlowControlLocked sends a flow-control request and pauses
// delivery until it is answered (or fcWait passes).
func (c *Consumer) requestFlowControlLocked(now int64) {
	c.fcSeq++
	c.fcReply = "$JS.FC." + c.stream + "." + c.name + "." + strconv.FormatUint(c.fcSeq, 10)
	c.fcDeadline = now + int64(fcWait)
	c.fcBytes = 0
	c.emitLocked(outMsg{kind: outFlush})
	c.emitLocked(outMsg{kind: outStatus, to: c.cfg.DeliverSubject, reply: c.fcReply,
		hdr: []byte("NATS/1.0 100 FlowControl Request\r\n\r\n")})
}

// FlowControlReply resumes delivery when the subscriber answers subject.
func (c *Consumer) FlowControlReply(subject string) {
	c.mu.Lock()
	ok := c.fcReply != "" && subject == c.fcReply
	if ok {
		c.fcReply = ""
	}
	c.mu.Unlock()
	if ok {
		c.poke()
	}
}

// deliverBurst and deliverBurstBytes bound one turn's deliveries: then
// the consumer goes to the back of the scheduler's queue, so a backlog
// shares the workers, and the bytes a turn holds before sending are
// bounded.
const (
	deliverBurst      = 256
	deliverBurstBytes = 1 << 20
)

// minWait is the shortest a turn asks to wait for its next deadline, so
// a deadline computed a moment too early does not spin.
const minWait = time.Millisecond

// turn is one scheduled delivery pass (see sched.go).
func (c *Consumer) turn() turnResult {
	c.mu.Lock()
	if c.closed || c.idleFired {
		c.mu.Unlock()
		return turnResult{}
	}
	c.replPoked = false // this turn proposes what the acks left
	gen, hasGen := c.interestGen()
	c.forceSweep = c.sl.recheck.Swap(false)
	next, inactive := c.deliverLocked()
	c.forceSweep = false
	out := c.takeOutboxLocked()
	push := c.cfg.DeliverSubject != ""
	if inactive && c.onIdle != nil {
		c.idleFired = true
		c.mu.Unlock()
		c.flushReplicated()
		c.sendOutbox(out)
		go c.onIdle() // the owner stops us: not from our own turn
		return turnResult{}
	}
	if d := c.idleDeadlineLocked(push); d > 0 && (next == 0 || d < next) {
		next = d
	}
	held := c.holdReplicatedLocked(c.now().UnixNano())
	if held > 0 && (next == 0 || held < next) {
		next = held // the held deliveries are replicated then at the latest
	}
	watch := push || len(c.waiting) > 0
	c.wantsMsgs.Store(watch)
	var at int64
	if next > 0 {
		// The consumer's clock may be a test's: keep the distance, not the
		// instant.
		wait := max(time.Duration(next-c.now().UnixNano()), minWait)
		at = c.sched.now() + int64(wait)
	}
	c.mu.Unlock()
	if held == 0 {
		c.flushReplicated()
	}
	c.sendOutbox(out)
	return turnResult{next: at, watch: watch, gen: gen, hasGen: hasGen}
}

// interestGen reads the Outlet's subscription generation, when it has one.
func (c *Consumer) interestGen() (uint64, bool) {
	if g, ok := c.out.(interestGen); ok {
		return g.InterestGen(), true
	}
	return 0, false
}

// idleDeadlineLocked is when an ephemeral (or inactive_threshold)
// consumer becomes inactive unless something happens first, 0 when it
// cannot: it has waiting requests, or a push consumer has a subscriber
// (the scheduler wakes it when subscriptions change).
func (c *Consumer) idleDeadlineLocked(push bool) int64 {
	thr := c.inactiveThreshold()
	if thr <= 0 || c.onIdle == nil || len(c.waiting) > 0 || (push && c.hadInterest) {
		return 0
	}
	return c.idleSince + int64(thr) + int64(minWait)
}

// deliverLocked hands out everything it can and returns when it next needs
// to run (unix ns, 0 for nothing scheduled) and whether the consumer has
// been inactive past its threshold.
func (c *Consumer) deliverLocked() (next int64, inactive bool) {
	now := c.now().UnixNano()
	c.expireAcksLocked(now)
	c.checkResumeLocked(now)
	c.expirePinLocked(now)
	push := c.cfg.DeliverSubject != ""
	if !push {
		c.expireRequestsLocked(now)
	}
	if push && !c.out.HasInterest(c.cfg.DeliverSubject) {
		if c.hadInterest {
			// The subscriber just went: the inactivity clock starts now.
			c.hadInterest, c.idleSince = false, now
		}
		return c.nextTimeLocked(now), c.inactiveLocked(now)
	}
	if push {
		c.hadInterest, c.idleSince = true, now
	}
	if c.pausedLocked(now) {
		// Nothing goes out; requests and subscribers still hear from us.
		if !push {
			c.answerNoWaitLocked()
		}
		c.heartbeatsLocked(now, push)
		return c.nextTimeLocked(now), c.inactiveLocked(now)
	}
	if push {
		if c.fcReply != "" && now < c.fcDeadline {
			// Waiting for the subscriber to answer flow control.
			return c.nextTimeLocked(now), false
		}
		c.fcReply = ""
	}
	sent := 0
	for {
		// At max_ack_pending only redeliveries (already pending) go out.
		full := c.cfg.AckPolicy != jsapi.AckNone && c.cfg.MaxAckPending > 0 && len(c.pending) >= c.cfg.MaxAckPending
		if full && len(c.redeliver) == 0 {
			break
		}
		if sent >= deliverBurst || c.outBytes >= deliverBurstBytes {
			// Let acks and the timer in; the loop runs again at once.
			c.poke()
			break
		}
		if !push && len(c.waiting) == 0 {
			break
		}
		m, dc := c.nextMsgLocked(!full)
		if m == nil {
			break
		}
		// The request is chosen once there is a message, as nats-server
		// does: a client is pinned only when it gets something.
		var req *pullRequest
		if !push {
			if req = c.nextRequestLocked(now, dc == 1); req == nil {
				c.unread(m.Seq, dc)
				break
			}
		}
		size := len(m.Subject) + len(m.Header) + len(m.Data)
		if hold := c.holdLocked(m, dc, size, now); hold > 0 {
			// Replay timing or the rate limit says not yet.
			c.unread(m.Seq, dc)
			c.holdUntil = hold
			break
		}
		if req != nil && req.maxBytes > 0 && req.sentBytes+size > req.maxBytes {
			// It does not fit: the request ends, saying what it lacks.
			c.unread(m.Seq, dc)
			c.finishRequestLocked(req)
			c.statusLocked(req.reply, 409, "Message Size Exceeds MaxBytes", pendingHeaders(req))
			continue
		}
		subject := c.cfg.DeliverSubject
		if req != nil {
			subject = req.reply
			req.sent++
			req.sentBytes += size
		}
		c.sendLocked(subject, m, dc, now, req != nil && c.cfg.PriorityPolicy == jsapi.PriorityPinnedClient)
		c.pacedLocked(m, dc, size, now)
		sent++
		if req != nil && req.sent >= req.batch {
			c.finishRequestLocked(req)
			if req.maxBytes > 0 && req.sentBytes < req.maxBytes {
				// Bytes to spare: say the batch, not the bytes, ended it.
				c.statusLocked(req.reply, 409, "Batch Completed", pendingHeaders(req))
			}
		}
		if push && c.cfg.FlowControl {
			c.fcBytes += size
			if c.fcBytes >= fcWindow {
				c.requestFlowControlLocked(now)
				break
			}
		}
	}
	if !push {
		c.answerNoWaitLocked()
	}
	c.heartbeatsLocked(now, push)
	return c.nextTimeLocked(now), c.inactiveLocked(now)
}

// nextMsgLocked returns the next message to deliver and its delivery
// count: redeliveries first, then (when fresh is set) the last-per-subject
// start set, then new messages.
func (c *Consumer) nextMsgLocked(fresh bool) (*store.Msg, int) {
	for len(c.redeliver) > 0 {
		seq := c.redeliver[0]
		c.redeliver = c.redeliver[1:]
		p, ok := c.pending[seq]
		if !ok {
			continue // acked meanwhile
		}
		p.queued = false
		if c.cfg.MaxDeliver > 0 && p.dc >= c.cfg.MaxDeliver {
			// A NAK (or anything else) brought it back once too often.
			c.maxDeliveredLocked(seq, p)
			continue
		}
		m, err := c.st.Load(seq)
		if err != nil {
			c.dropLocked(seq) // gone from the stream (purged, aged out)
			continue
		}
		// The count goes up when it is sent (EventDelivered).
		return m, p.dc + 1
	}
	if !fresh {
		return nil, 0
	}
	for len(c.lps) > 0 {
		seq := c.lps[0]
		c.lps = c.lps[1:]
		if m, err := c.st.Load(seq); err == nil {
			c.fromLPS = true
			return m, 1
		}
	}
	c.fromLPS = false
	var best *store.Msg
	for _, f := range c.filters {
		if m, err := c.st.LoadNext(f, c.sseq); err == nil && (best == nil || m.Seq < best.Seq) {
			best = m
		}
	}
	if best == nil {
		return nil, 0
	}
	c.sseq = best.Seq + 1
	return best, 1
}

// unread puts back the message nextMsgLocked just returned, when it
// cannot go out now.
func (c *Consumer) unread(seq uint64, dc int) {
	if dc > 1 {
		c.redeliver = append([]uint64{seq}, c.redeliver...)
		c.pending[seq].queued = true
		return
	}
	if c.fromLPS {
		c.lps = append([]uint64{seq}, c.lps...)
		return
	}
	c.sseq = seq
}

// sendLocked delivers m as delivery number dc, with the pin id when pin
// is set.
func (c *Consumer) sendLocked(subject string, m *store.Msg, dc int, now int64, pin bool) {
	var cseq uint64
	if dc == 1 {
		cseq = c.dseq + 1
	} else {
		cseq = c.pending[m.Seq].cseq
	}
	// The count can cost a scan of the stream's index: take it at most
	// every npRefresh and count down in between, but never report 0 without
	// checking (clients treat 0 as "caught up").
	switch {
	case !c.npValid || now-c.npAt > int64(npRefresh):
		c.np, c.npValid, c.npAt = c.numPendingLocked(), true, now
	case dc == 1 && c.np > 1:
		c.np--
	case dc == 1:
		c.np, c.npAt = c.numPendingLocked(), now
	}
	pending := c.np
	reply := "$JS.ACK." + c.stream + "." + c.name + "." + strconv.Itoa(dc) + "." +
		strconv.FormatUint(m.Seq, 10) + "." + strconv.FormatUint(cseq, 10) + "." +
		strconv.FormatInt(m.Time, 10) + "." + strconv.FormatUint(pending, 10)
	hdr, data := m.Header, m.Data
	if c.cfg.HeadersOnly {
		hdr = appendHeader(hdr, "Nats-Msg-Size", strconv.Itoa(len(m.Data)))
		data = nil
	}
	if pin {
		hdr = c.pinHeader(hdr)
	}
	c.emitLocked(outMsg{kind: outDelivery, to: subject, subject: m.Subject, reply: reply, hdr: hdr, data: data})
	c.applyLocked(Event{Kind: EventDelivered, Stream: m.Seq, Consumer: cseq, Deliveries: dc})
	c.lastActive, c.lastSend = now, now
	if c.cfg.AckPolicy == jsapi.AckNone {
		return
	}
	p := c.pending[m.Seq]
	p.deadline = now + int64(c.ackWait(dc))
	p.sent = now
	c.noteDeadline(p.deadline)
}

// noteDeadline keeps earliest at or below every pending deadline.
func (c *Consumer) noteDeadline(d int64) {
	if d > 0 && (c.earliest == 0 || d < c.earliest) {
		c.earliest = d
	}
}

// ackWait is the wait before redelivering delivery dc, from backoff when
// set.
func (c *Consumer) ackWait(dc int) time.Duration {
	if n := len(c.cfg.BackOff); n > 0 {
		return c.cfg.BackOff[min(dc-1, n-1)]
	}
	if c.cfg.AckWait > 0 {
		return c.cfg.AckWait
	}
	return DefaultAckWait
}

// expireAcksLocked queues for redelivery what waited past its ack wait,
// and gives up on messages at max_deliver.
func (c *Consumer) expireAcksLocked(now int64) {
	if len(c.pending) == 0 || c.earliest == 0 || now < c.earliest {
		return // nothing can be due yet: no scan
	}
	var due []uint64
	c.earliest = 0
	for seq, p := range c.pending {
		switch {
		case p.deadline > 0 && p.deadline <= now:
			due = append(due, seq)
		case p.deadline > 0 && (c.earliest == 0 || p.deadline < c.earliest):
			c.earliest = p.deadline
		}
	}
	sortSeqs(due)
	for _, seq := range due {
		p := c.pending[seq]
		p.deadline = 0
		if c.cfg.MaxDeliver > 0 && p.dc >= c.cfg.MaxDeliver {
			c.maxDeliveredLocked(seq, p)
			continue
		}
		c.queueLocked(seq, p)
	}
}

// queueLocked puts a pending message on the redelivery queue, once.
func (c *Consumer) queueLocked(seq uint64, p *pendingAck) {
	if !p.queued {
		p.queued = true
		c.redeliver = append(c.redeliver, seq)
	}
}

// maxDeliveredLocked gives up on a message delivered max_deliver times.
func (c *Consumer) maxDeliveredLocked(seq uint64, p *pendingAck) {
	c.dropLocked(seq)
	c.adviseLocked("CONSUMER.MAX_DELIVERIES", &jsapi.MaxDeliverAdvisory{
		TypedEvent: c.event(jsapi.TypeMaxDeliver), Stream: c.stream, Consumer: c.name, StreamSeq: seq,
		Deliveries: p.dc, Domain: c.domain,
	})
}

// dropLocked forgets a pending delivery that will not be acked (max
// deliveries, terminated, gone from the stream).
func (c *Consumer) dropLocked(seq uint64) {
	c.applyLocked(Event{Kind: EventTerminated, Stream: seq})
}

// nextTimeLocked is the earliest ack deadline, pull expiry or heartbeat
// still ahead. A deadline already past is one the turn just ran could not
// act on (a heartbeat for a push consumer without a subscriber, a
// flow-control wait during a pause): what unblocks it wakes the consumer
// anyway, so it must not bring the consumer back every millisecond.
func (c *Consumer) nextTimeLocked(now int64) int64 {
	var next int64
	take := func(t int64) {
		if t > now && (next == 0 || t < next) {
			next = t
		}
	}
	take(c.earliest)
	for _, r := range c.waiting {
		take(r.expires)
		if r.hb > 0 {
			take(r.lastHB + int64(r.hb))
		}
	}
	if hb := c.cfg.Heartbeat; hb > 0 && c.cfg.DeliverSubject != "" {
		take(c.lastSend + int64(hb))
	}
	if c.fcReply != "" {
		take(c.fcDeadline)
	}
	if c.holdUntil > now {
		take(c.holdUntil)
	}
	if d := pauseDeadline(&c.cfg); d > now {
		take(d)
	}
	take(c.pinExpires)
	return next
}

// heartbeatsLocked sends idle heartbeats: to a push consumer's deliver
// subject, and to pull requests that asked for them.
// Both carry the last consumer and stream sequences, as nats-server's.
func (c *Consumer) heartbeatsLocked(now int64, push bool) {
	extra := func() string {
		return "Nats-Last-Consumer: " + strconv.FormatUint(c.dseq, 10) + "\r\nNats-Last-Stream: " + strconv.FormatUint(c.lastSSeq, 10) + "\r\n"
	}
	if push {
		if hb := int64(c.cfg.Heartbeat); hb > 0 && now-c.lastSend >= hb {
			c.statusLocked(c.cfg.DeliverSubject, 100, "Idle Heartbeat", extra())
			c.lastSend = now
		}
		return
	}
	for _, r := range c.waiting {
		if r.hb > 0 && now-r.lastHB >= int64(r.hb) {
			c.statusLocked(r.reply, 100, "Idle Heartbeat", extra())
			r.lastHB = now
		}
	}
}

// inactiveLocked reports an ephemeral (or inactive_threshold) consumer
// idle past its threshold.
func (c *Consumer) inactiveLocked(now int64) bool {
	thr := c.inactiveThreshold()
	if thr <= 0 || c.onIdle == nil || len(c.waiting) > 0 {
		return false
	}
	return now-c.idleSince > int64(thr)
}

// inactiveThreshold is how long the consumer may go without interest.
func (c *Consumer) inactiveThreshold() time.Duration {
	if thr := c.cfg.InactiveThreshold; thr != 0 || c.cfg.Durable != "" {
		return thr
	}
	return defaultInactive
}

// adviseLocked publishes an advisory about this consumer.
// kind is the subject part after the prefix, such as CONSUMER.PAUSE.
func (c *Consumer) adviseLocked(kind string, ev any) {
	if c.advise != nil {
		c.advise(jsapi.AdvisoryPrefix+kind+"."+c.stream+"."+c.name, ev)
	}
}

func (c *Consumer) event(typ string) jsapi.TypedEvent {
	return jsapi.TypedEvent{Type: typ, ID: randomName() + randomName(), Time: c.now().UTC()}
}

func sortSeqs(s []uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// appendHeader adds a line to a header block, creating one if needed.
func appendHeader(hdr []byte, key, value string) []byte {
	if len(hdr) < 4 {
		hdr = []byte("NATS/1.0\r\n\r\n")
	}
	out := make([]byte, 0, len(hdr)+len(key)+len(value)+4)
	out = append(out, hdr[:len(hdr)-2]...)
	out = append(out, key...)
	out = append(out, ": "...)
	out = append(out, value...)
	return append(out, "\r\n\r\n"...)
}
