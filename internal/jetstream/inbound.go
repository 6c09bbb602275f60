package jetstream

import (
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
)

// Acks, pull requests and flow-control replies arrive on subscriptions
// whose handlers run on the publisher's goroutine. That publisher may be
// a consumer itself, holding its lock while it sends a heartbeat or a
// timeout to a subject that lands back here (its own ack subject, the
// pull API, a memory stream capturing inboxes that answers with a pub
// ack on the delivery's ack subject). Handling such a message in place
// would take that lock again, or the delivering client's, and stop every
// consumer on the server. So the handlers only find the consumer and
// queue the work; a few goroutines do it. One consumer's messages always
// go to the same goroutine, in arrival order.

const (
	inboundWorkers = 4
	inboundQueue   = 16384
	// inboundWait bounds how long a publisher waits for room in a full
	// queue before the message is dropped: long enough to ride out a
	// burst, short enough that a worker waiting on the publisher's own
	// consumer cannot hold it for good. A dropped ack means a
	// redelivery; a dropped pull request, a client timeout.
	inboundWait = time.Second
)

type inboundOp uint8

const (
	opAck inboundOp = iota
	opPull
	opFlowControl
)

// inboundMsg is one queued message, copied out of the publisher's buffer.
type inboundMsg struct {
	op      inboundOp
	c       *consumer.Consumer
	subject string
	reply   string
	data    []byte
}

// inbound is the set of worker queues.
type inbound struct {
	m       *jsAccount
	queues  [inboundWorkers]chan inboundMsg
	dropped atomic.Uint64
}

// startInbound starts the workers; they stop with the manager, after
// doing what was queued.
func (m *jsAccount) startInbound() *inbound {
	in := &inbound{m: m}
	for i := range in.queues {
		in.queues[i] = make(chan inboundMsg, inboundQueue)
		m.wg.Add(1)
		go in.work(in.queues[i])
	}
	return in
}

func (in *inbound) work(q chan inboundMsg) {
	defer in.m.wg.Done()
	for {
		select {
		case it := <-q:
			in.run(&it)
		case <-in.m.quit:
			for {
				select {
				case it := <-q:
					in.run(&it)
				default:
					return
				}
			}
		}
	}
}

func (in *inbound) run(it *inboundMsg) {
	switch it.op {
	case opAck:
		it.c.Ack(it.subject, it.reply, it.data)
	case opFlowControl:
		it.c.FlowControlReply(it.subject)
	case opPull:
		req, err := consumer.ParseNext(it.data)
		if err != nil {
			if _, err := in.m.deliver.Publish(it.reply, "", consumer.BadRequest(err), nil); err != nil {
				in.m.log.Debug("pull status not sent", "err", err)
			}
			return
		}
		it.c.Pull(it.reply, req)
	}
}

// push queues it on its consumer's worker; see inboundWait for a full
// queue.
func (in *inbound) push(it inboundMsg) {
	q := in.queues[0]
	if it.c != nil {
		q = in.queues[shard(it.c.Name())%inboundWorkers]
	}
	select {
	case q <- it:
		return
	default:
	}
	t := time.NewTimer(inboundWait)
	defer t.Stop()
	select {
	case q <- it:
	case <-t.C:
		n := in.dropped.Add(1)
		in.m.log.Warn("JetStream consumer queue full, message dropped", "subject", it.subject, "dropped", n)
	case <-in.m.quit:
	}
}

// shard spreads consumers over the workers (FNV-1a).
func shard(name string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return h
}
