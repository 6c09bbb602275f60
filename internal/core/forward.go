package core

import (
	"bytes"

	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/proto"
)

// Delivery to routes targets the connection, not each subscription: a
// message matching several subscriptions that a route stands for (plain
// interest, queue groups this server picked the route's server for) goes
// to that route once, naming the queue groups. A message that came from a
// route is never forwarded to another route: in a full mesh every server
// already got it from the publisher's server, so it crosses one hop.

// forward is a route the message being routed goes to.
type forward struct {
	r      *route
	queues [][]byte
}

// forwardTo notes that the message being routed goes to r, for queue
// group queue when not nil.
func (c *client) forwardTo(r *route, queue []byte) {
	if c.fromRoute != nil {
		return // one hop
	}
	for i := range c.forwards {
		if f := &c.forwards[i]; f.r == r {
			if queue != nil {
				f.queues = append(f.queues, queue)
			}
			return
		}
	}
	if n := len(c.forwards); n < cap(c.forwards) {
		// Reuse the entry's queue slice from an earlier message.
		c.forwards = c.forwards[:n+1]
		c.forwards[n].r, c.forwards[n].queues = r, c.forwards[n].queues[:0]
	} else {
		c.forwards = append(c.forwards, forward{r: r})
	}
	if queue != nil {
		f := &c.forwards[len(c.forwards)-1]
		f.queues = append(f.queues, queue)
	}
}

// jsAPIPrefix starts the subjects of JetStream API requests.
var jsAPIPrefix = []byte("$JS.API.")

// forward sends the message to every noted route and reports whether one
// took it.
//
// A server that runs JetStream on its own (no cluster) answers its own
// clients' API requests alone, so those never go to routes, where another
// server's JetStream would answer too and act on them. In a JetStream
// cluster (AnnounceJetStream) every JetStream server gets every request
// and each decides whether it is the one to answer (the meta leader, the
// stream's leader), as nats-server does. A server without JetStream
// forwards them, so its clients reach a server that has it; so does a
// server whose JetStream left the API to the cluster's nats-server
// servers (jsproxy.go).
func (c *client) forward(cmd *proto.Cmd) bool {
	if c.srv.getOpts().JetStream && !c.srv.announceJS.Load() && !c.srv.jsProxy.done.Load() && bytes.HasPrefix(cmd.Subject, jsAPIPrefix) {
		for i := range c.forwards {
			c.forwards[i].r = nil
		}
		c.forwards = c.forwards[:0]
		return false
	}
	sent := false
	for i := range c.forwards {
		f := &c.forwards[i]
		switch {
		case c.trace == nil:
			if f.r.sendMsg(c, cmd, f.queues) {
				sent = true
			}
		case c.trace.Only:
			// Traced, not delivered: the route is an egress of the trace,
			// and the peer never sees the message (Starling does not
			// trace across hops, so the peer could not hold it back).
			c.traceRoute(f.r)
			sent = true
		default:
			c.traceRoute(f.r)
			if f.r.sendMsg(c, cmd, f.queues) {
				sent = true
			}
		}
		f.r = nil
	}
	c.forwards = c.forwards[:0]
	return sent
}

// traceRoute records in the trace of the message being routed that it
// went to route r.
func (c *client) traceRoute(r *route) {
	r.mu.Lock()
	name := r.remoteName
	r.mu.Unlock()
	c.trace.AddEgress(msgtrace.Egress{Kind: msgtrace.KindRouter, CID: r.cid, Name: name})
}

// routedToQueue reports whether the routed message being delivered names
// queue group q (the sending server picked this server for it).
func (c *client) routedToQueue(q string) bool {
	for _, name := range c.routeQueues {
		if string(name) == q {
			return true
		}
	}
	return false
}
