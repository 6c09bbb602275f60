package jetstream

import (
	"sync"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/core"
)

// A consumer's own subjects, its pull requests
// ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>), acks
// ($JS.ACK.<stream>.<consumer>.>) and flow-control replies
// ($JS.FC.<stream>.<consumer>.>), are subscribed by the server that runs
// it (its stream's leader in a cluster) for as long as it runs, as
// nats-server does. Every JetStream server used to subscribe the three
// wildcards for all consumers instead: in a cluster each ack and pull
// request was then routed to every server, which parsed and matched it
// only to drop it (a fifth of a follower's CPU while a client read an R3
// stream), and a Starling beside nats-server's JetStream drew
// nats-server's consumers' acks. A subject nobody runs has no
// subscriber: a pull request for it gets the no-responders status.

// consumerSubs holds one consumer's subscriptions until it stops.
type consumerSubs struct {
	mu      sync.Mutex
	subs    []*core.Subscription
	stopped bool
}

// release drops the subscriptions; those made after it are dropped as
// they come (the consumer stopped while they were being made).
func (cs *consumerSubs) release() {
	cs.mu.Lock()
	subs := cs.subs
	cs.subs, cs.stopped = nil, true
	cs.mu.Unlock()
	for _, s := range subs {
		s.Unsubscribe()
	}
}

func (cs *consumerSubs) keep(s *core.Subscription) {
	cs.mu.Lock()
	stopped := cs.stopped
	if !stopped {
		cs.subs = append(cs.subs, s)
	}
	cs.mu.Unlock()
	if stopped {
		s.Unsubscribe()
	}
}

// subscribeConsumer subscribes c's subjects on ent. Their messages go to
// the inbound workers only while c is the consumer registered under its
// name: a consumer replaced under the same name may still hold its
// subscriptions for a moment, and must not take its successor's pull
// requests twice.
func (m *jsAccount) subscribeConsumer(ent *entry, c *consumer.Consumer, cs *consumerSubs) {
	in := m.in.Load()
	if in == nil {
		return
	}
	stream, name := ent.s.Name(), c.Name()
	current := func() bool { return ent.consumer(name) == c }
	for _, sub := range []struct {
		subject string
		handler core.MsgHandler
	}{
		{"$JS.API.CONSUMER.MSG.NEXT." + stream + "." + name, func(msg *core.Msg) {
			if len(msg.Reply) == 0 {
				return
			}
			if !current() {
				msg.Declined = true
				return
			}
			in.push(inboundMsg{op: opPull, c: c, subject: string(msg.Subject), reply: string(msg.Reply), data: append([]byte(nil), msg.Data...)})
		}},
		{"$JS.ACK." + stream + "." + name + ".>", func(msg *core.Msg) {
			if current() {
				in.push(inboundMsg{op: opAck, c: c, subject: string(msg.Subject), reply: string(msg.Reply), data: append([]byte(nil), msg.Data...)})
			}
		}},
		{"$JS.FC." + stream + "." + name + ".>", func(msg *core.Msg) {
			if current() {
				in.push(inboundMsg{op: opFlowControl, c: c, subject: string(msg.Subject)})
			}
		}},
	} {
		s, err := m.deliver.Subscribe(sub.subject, "", sub.handler)
		if err != nil {
			m.log.Debug("consumer subject not subscribed", "subject", sub.subject, "err", err)
			continue
		}
		cs.keep(s)
	}
}
