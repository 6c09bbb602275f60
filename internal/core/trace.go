package core

import (
	"bytes"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/proto"
)

// Message tracing: a message with a Nats-Trace-Dest header gets an event
// published to that subject saying what the server did with it. The
// publisher's read loop owns the trace while it routes the message
// (client.trace); deliveries add egress entries to it, a stream adds its
// own entry through Msg.Trace, and the event is published when routing
// is done. Messages without headers never reach any of this, and those
// with headers pay for one scan of the header block (msgtrace.Scan).

// globalAccount is the account every Starling connection is in, named as
// nats-server names its default account.
const globalAccount = "$G"

// startTrace begins tracing cmd if its headers ask for it and reports
// whether they did (c.trace is then set until finishTrace).
func (c *client) startTrace(cmd *proto.Cmd) bool {
	hdr := cmd.Header()
	found := msgtrace.Scan(hdr)
	if !found.Traceable() {
		return false
	}
	t, err := msgtrace.Start(hdr, found, cmd.Size, msgtrace.Ingress{
		Kind:    msgtrace.KindClient,
		CID:     c.cid,
		Name:    c.connName(),
		Account: globalAccount,
		Subject: string(cmd.Subject),
	})
	if err != nil {
		c.log.Error("message trace refused", "err", err)
	}
	if t == nil {
		return false
	}
	c.trace = t
	return true
}

// finishTrace publishes the event of the message just routed.
func (c *client) finishTrace() {
	t := c.trace
	c.trace = nil
	c.srv.sendTrace(t)
}

// traceRefused sends the event of a message refused before it was read
// (over the maximum payload), when the part already read names a trace
// destination. buf starts at the message's control line.
func (c *client) traceRefused(buf []byte, size int, reason string) {
	nl := bytes.IndexByte(buf, '\n')
	if nl < 0 || nl+1 == len(buf) {
		return
	}
	t := msgtrace.StartRefused(buf[nl+1:], size, msgtrace.Ingress{
		Kind: msgtrace.KindClient,
		CID:  c.cid,
		Name: c.connName(),
	}, reason)
	if t != nil {
		c.srv.sendTrace(t)
	}
}

// traceEgress records, in the trace of the message being routed, the
// delivery to sub or (errText) why it did not happen. Called without
// any outbound lock held.
func (c *client) traceEgress(sub *subscription, errText string) {
	rc := sub.client
	c.trace.AddEgress(msgtrace.Egress{
		Kind:         msgtrace.KindClient,
		CID:          rc.cid,
		Name:         rc.connName(),
		Subscription: sub.subject,
		Queue:        sub.queue,
		Error:        errText,
	})
}

// traceOnlyDeliver stands in for a delivery when the message is traced
// but not to be delivered: the egress is recorded as if it had happened,
// and the subscription's count is left alone.
func (c *client) traceOnlyDeliver(sub *subscription) bool {
	o := &sub.client.out
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed {
		c.traceEgress(sub, msgtrace.ErrClientClosed)
		return false
	}
	c.traceEgress(sub, "")
	return true
}

// connName is the name the client gave in CONNECT.
func (c *client) connName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts.Name
}

// tracer publishes trace events; created on first use.
type tracer struct {
	once sync.Once
	ic   *InternalClient
}

// sendTrace publishes a finished trace event to its destination. It runs
// on the goroutine that routed the message, with no lock held, like any
// other in-process publish.
func (s *Server) sendTrace(t *msgtrace.Trace) {
	if t.Dest == "" {
		return // trace-only with no usable destination: nowhere to send
	}
	o := s.getOpts()
	si := msgtrace.ServerInfo{
		Name:      s.name,
		Host:      o.Host,
		ID:        s.id,
		Domain:    o.JetStreamDomain,
		Version:   ProtocolVersion,
		JetStream: o.JetStream,
		Seq:       s.traceSeq.Add(1),
		Time:      time.Now().UTC(),
	}
	if o.JetStream {
		si.Flags = msgtrace.FlagJetStream
	}
	hdr, body, err := t.Encode(si)
	if err != nil {
		s.log.Error("message trace not sent", "dest", t.Dest, "err", err)
		return
	}
	s.trace.once.Do(func() { s.trace.ic = s.NewInternalClient("msgtrace") })
	if _, err := s.trace.ic.Publish(t.Dest, "", hdr, body); err != nil {
		s.log.Debug("message trace not sent", "dest", t.Dest, "err", err)
	}
}
