package core

import (
	"bytes"
	"math/rand/v2"
	"unsafe"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/subject"
)

// processPub routes one PUB or HPUB. This is the hot path: it runs in the
// publisher's read loop, allocates nothing for a cached subject, and takes
// one lock per receiving connection.
func (c *client) processPub(cmd *proto.Cmd) {
	c.batchMsgs++
	c.batchSize += int64(cmd.Size)
	if cmd.Op == proto.OpHPub && !c.headers.Load() {
		// nats-server drops the connection without a word here.
		c.log.Debug("HPUB from a client without header support")
		c.close(reasonProtocolViolation)
		return
	}
	if cmd.HdrLen > 0 && c.startTrace(cmd) {
		c.publish(cmd)
		c.finishTrace()
		return
	}
	c.publish(cmd)
}

// publish checks and routes a message that passed the protocol checks.
func (c *client) publish(cmd *proto.Cmd) {
	if c.pedantic.Load() && !subject.ValidLiteral(bytesToString(cmd.Subject)) {
		// Reported, and then delivered anyway, as nats-server does.
		c.queue(proto.ErrLine(proto.ErrTextInvalidPubSubject))
	}
	if p := c.perms.Load(); p != nil && !p.CanPublish(bytesToString(cmd.Subject)) {
		// Dropped, and said so; the connection stays.
		text := auth.PublishViolation(string(cmd.Subject))
		if c.trace != nil {
			c.trace.SetIngressError(text)
		}
		c.queue(proto.ErrLine(text))
		return
	}
	if c.verbose.Load() {
		c.queue(proto.OKLine)
	}
	if m := c.acc.mappings.Load(); m != nil {
		// Subject mappings apply on the publisher's server, after the
		// publish permission was checked on the subject as published.
		mapped, ok := m.Map(bytesToString(cmd.Subject), rand.Uint32)
		switch {
		case ok && mapped == "":
			return // the weights send this one nowhere
		case ok:
			cmd.Subject = []byte(mapped)
		}
	}
	if !c.route(cmd) && len(cmd.Reply) > 0 && c.noResponders.Load() {
		c.sendNoResponders(cmd.Reply)
	}
}

// route delivers a message to every matching subscription (one member per
// queue group) and reports whether anyone took it.
func (c *client) route(cmd *proto.Cmd) bool {
	if c.fromRoute != nil && bytes.HasPrefix(cmd.Reply, jsAckPrefix) {
		// A consumer's delivery from another server: it travels on its
		// deliver subject, with the stored message's subject after an '@'
		// in the reply, as nats-server sends it (sendMsg).
		if i := bytes.LastIndexByte(cmd.Reply, '@'); i > 0 {
			deliver := cmd.Subject
			cmd.Subject, cmd.Reply = cmd.Reply[i+1:], cmd.Reply[:i]
			return c.routeTo(deliver, cmd)
		}
	}
	return c.routeTo(cmd.Subject, cmd)
}

// jsAckPrefix starts the reply subject of a consumer's delivery.
var jsAckPrefix = []byte("$JS.ACK.")

// routeTo delivers cmd to the subscribers of subj, which may differ from
// the subject the receivers see (JetStream delivers a stored message on
// its own subject to a consumer's deliver subject).
func (c *client) routeTo(subj []byte, cmd *proto.Cmd) bool {
	if len(subj) == len(cmd.Subject) && bytes.Equal(subj, cmd.Subject) {
		return c.deliverAll(c.match(subj), cmd)
	}
	c.deliverSubj = subj
	ok := c.deliverAll(c.match(subj), cmd)
	c.deliverSubj = nil
	return ok
}

// deliverAll delivers cmd to the subscriptions of a match: each plain
// one, one member per queue group, once per route.
func (c *client) deliverAll(r *subject.Result[*subscription], cmd *proto.Cmd) bool {
	delivered := false
	for _, sub := range r.Plain {
		if sub.route != nil {
			c.forwardTo(sub.route, nil)
			continue
		}
		if c.deliver(sub, cmd) {
			delivered = true
		}
	}
	for _, group := range r.Queues {
		if c.deliverQueue(group, cmd) {
			delivered = true
		}
	}
	if len(c.forwards) > 0 && c.forward(cmd) {
		delivered = true
	}
	return delivered
}

// match returns the subscriptions for subj, from this connection's own
// cache while the trie is unchanged, so steady-state publishing takes no
// shared lock.
func (c *client) match(subj []byte) *subject.Result[*subscription] {
	sl := c.acc.sl
	if gen := sl.GenID(); gen != c.cacheGen {
		clear(c.cache)
		c.cacheGen = gen
		c.lastResult = nil
	}
	// Publishers mostly repeat one subject: comparing it with the last one
	// is cheaper than hashing it.
	if c.lastResult != nil && bytes.Equal(subj, c.lastSubj) {
		return c.lastResult
	}
	r, ok := c.cache[string(subj)]
	if !ok {
		r = sl.Match(bytesToString(subj))
		if len(c.cache) >= l1CacheMax {
			clear(c.cache)
		}
		c.cache[string(subj)] = r
	}
	c.lastSubj = append(c.lastSubj[:0], subj...)
	c.lastResult = r
	return r
}

// deliverQueue gives the message to one member of a queue group: a local
// member, chosen evenly at random (moving on past members that cannot take
// it: closed, or the publisher itself without echo), else, for a message
// published here, a server with remote members, chosen at random weighted
// by its member count. A routed message goes to local members only, and
// only when the sending server picked this server for the group.
func (c *client) deliverQueue(group []*subscription, cmd *proto.Cmd) bool {
	if c.fromRoute != nil && !c.routedToQueue(group[0].queue) {
		return false // the sending server picked another server for it
	}
	n := len(group)
	locals, remoteWeight := 0, 0
	for _, sub := range group {
		if sub.route == nil {
			locals++
		} else {
			remoteWeight += max(int(sub.weight.Load()), 1)
		}
	}
	if locals > 0 {
		// Start at a random local member, so each gets an even share
		// whatever remote entries sit between them in the group.
		skip := 0
		if locals > 1 {
			skip = rand.IntN(locals)
		}
		i := 0
		for ; ; i++ {
			if group[i].route == nil {
				if skip == 0 {
					break
				}
				skip--
			}
		}
		for range n {
			if sub := group[i]; sub.route == nil && c.deliver(sub, cmd) {
				return true
			}
			if i++; i == n {
				i = 0
			}
		}
	}
	if c.fromRoute != nil || remoteWeight == 0 {
		return false
	}
	pick := rand.IntN(remoteWeight)
	for _, sub := range group {
		if sub.route == nil {
			continue
		}
		if pick -= max(int(sub.weight.Load()), 1); pick < 0 {
			c.forwardTo(sub.route, sub.qb)
			return true
		}
	}
	return false
}

// deliver appends one MSG or HMSG to sub's connection. It reports whether
// the message was queued.
func (c *client) deliver(sub *subscription, cmd *proto.Cmd) bool {
	if sub.imp != nil {
		return c.deliverImport(sub, cmd)
	}
	rc := sub.client
	if rc == c && !c.echo.Load() {
		if c.trace != nil {
			c.traceEgress(sub, msgtrace.ErrNoEcho)
		}
		return false
	}
	if sub.handler != nil {
		return c.deliverInternal(sub, cmd)
	}
	perms := rc.perms.Load()
	if perms != nil && !perms.DeliverAllowed(bytesToString(cmd.Subject), sub.queue) {
		if c.trace != nil {
			c.traceEgress(sub, msgtrace.ErrSubDeny)
		}
		return false
	}
	if c.trace != nil && c.trace.Only {
		return c.traceOnlyDeliver(sub)
	}
	msg, hdrArg, sizeArg := cmd.Msg, cmd.HdrArg, cmd.SizeArg
	if cmd.HdrLen == 0 {
		hdrArg = nil // "HPUB subj 0 n" is a plain message
	} else if !rc.headers.Load() {
		// A client that did not ask for headers gets the payload alone.
		msg, hdrArg = msg[cmd.HdrLen:], nil
		sizeArg = proto.AppendSize(c.sizeScratch[:0], len(msg)-2)
	}
	size := len(msg) - 2
	o := &rc.out
	o.mu.Lock()
	if c.mayStall(&rc.transport) {
		// Released waiters check again: another producer may have filled
		// the room first. A wait that ends otherwise (the receiver is stuck
		// or past the write deadline) is not repeated.
		for stall := o.overStall(len(msg) + 64); stall != nil; stall = o.overStall(len(msg) + 64) {
			o.mu.Unlock()
			released := c.stallFor(&rc.transport, stall)
			o.mu.Lock()
			if !released {
				break
			}
		}
	}
	if o.closed {
		o.mu.Unlock()
		if c.trace != nil {
			c.traceEgress(sub, msgtrace.ErrClientClosed)
		}
		return false
	}
	sub.delivered++
	last := false
	if sub.max > 0 {
		if sub.delivered > sub.max {
			o.mu.Unlock()
			if c.trace != nil {
				c.traceEgress(sub, msgtrace.ErrAutoSubExceeded)
			}
			return false
		}
		last = sub.delivered == sub.max
	}
	hl := proto.MsgHeaderLen(cmd.Subject, sub.sid, cmd.Reply, hdrArg, sizeArg)
	if tail := o.tailRoom(hl + len(msg)); tail != nil {
		*tail = proto.AppendMsgHeader(*tail, cmd.Subject, sub.sid, cmd.Reply, hdrArg, sizeArg)
		*tail = append(*tail, msg...)
		o.pending += hl + len(msg)
	} else {
		o.appendLocked(proto.AppendMsgHeader(c.scratch[:0], cmd.Subject, sub.sid, cmd.Reply, hdrArg, sizeArg))
		o.appendLocked(msg)
	}
	o.outMsgs++
	o.outBytes += int64(size)
	if o.pending > o.maxPending {
		o.mu.Unlock()
		rc.slowConsumer()
		if c.trace != nil {
			c.traceEgress(sub, msgtrace.ErrSlowConsumerDrop)
		}
		return false
	}
	o.mu.Unlock()
	c.batchOut++
	c.batchOutSize += int64(size)
	c.flushes.add(&rc.transport)
	if c.trace != nil {
		c.traceEgress(sub, "")
	}
	if perms != nil && len(cmd.Reply) > 0 {
		perms.AddResponse(bytesToString(cmd.Reply)) // allow_responses
	}
	if last {
		rc.removeSub(sub)
	}
	return true
}

// sendNoResponders answers a request nobody subscribed to with a 503
// status, addressed to the requester's own subscription on the reply
// subject. Without such a subscription there is nobody to tell.
func (c *client) sendNoResponders(reply []byte) {
	for _, sub := range c.acc.sl.Match(bytesToString(reply)).Plain {
		if sub.client == c {
			c.queue(proto.AppendNoResponders(nil, reply, sub.sid))
			return
		}
	}
}

// bytesToString views b as a string without copying. Only for calls that
// do not keep the string (the trie copies keys it stores).
func bytesToString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
