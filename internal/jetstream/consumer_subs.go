package jetstream

import (
	"github.com/starling-mq/starling/internal/core"
)

// A stream's consumers' subjects, their pull requests
// ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>), acks
// ($JS.ACK.<stream>.<consumer>.>) and flow-control replies
// ($JS.FC.<stream>.<consumer>.>), are subscribed with the stream's own
// subjects, by the server that runs it (its leader in a cluster, where
// it also runs every consumer), one wildcard of each per stream. Every
// JetStream server used to subscribe the three for all streams instead:
// in a cluster each ack and pull request was then routed to every
// server, which parsed and matched it only to drop it (a fifth of a
// follower's CPU while a client read an R3 stream), and a Starling beside
// nats-server's JetStream drew nats-server's consumers' acks. nats-server
// subscribes per consumer; per stream gives the same routes at a fraction
// of the memory of a hundred thousand idle consumers. A pull request for
// a consumer the stream does not have is declined, so its requester gets
// the no-responders status as from nats-server.

// subscribeConsumers subscribes e's consumers' subjects; the caller keeps
// the subscriptions with the stream's (e.subMu held).
func (m *jsAccount) subscribeConsumers(e *entry) ([]*core.Subscription, error) {
	in := m.in.Load()
	if in == nil {
		return nil, nil
	}
	stream := e.s.Name()
	var subs []*core.Subscription
	for _, sub := range []struct {
		subject string
		handler core.MsgHandler
	}{
		{"$JS.API.CONSUMER.MSG.NEXT." + stream + ".*", func(msg *core.Msg) {
			if len(msg.Reply) == 0 {
				return
			}
			subj := string(msg.Subject)
			c := e.consumer(token(subj, 6))
			if c == nil {
				msg.Declined = true
				return
			}
			in.push(inboundMsg{op: opPull, c: c, subject: subj, reply: string(msg.Reply), data: append([]byte(nil), msg.Data...)})
		}},
		{"$JS.ACK." + stream + ".>", func(msg *core.Msg) {
			subj := string(msg.Subject)
			if c := e.consumer(token(subj, 3)); c != nil {
				in.push(inboundMsg{op: opAck, c: c, subject: subj, reply: string(msg.Reply), data: append([]byte(nil), msg.Data...)})
			}
		}},
		{"$JS.FC." + stream + ".>", func(msg *core.Msg) {
			subj := string(msg.Subject)
			if c := e.consumer(token(subj, 3)); c != nil {
				in.push(inboundMsg{op: opFlowControl, c: c, subject: subj})
			}
		}},
	} {
		s, err := m.deliver.Subscribe(sub.subject, "", sub.handler)
		if err != nil {
			for _, s := range subs {
				s.Unsubscribe()
			}
			return nil, err
		}
		subs = append(subs, s)
	}
	return subs, nil
}
