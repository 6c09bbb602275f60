package core

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/subject"
)

// Msg is a message delivered to an in-process service. Its slices alias
// the publisher's read buffer and are valid only during the handler call:
// a handler that keeps anything copies it.
type Msg struct {
	Subject []byte
	Reply   []byte
	Header  []byte // nil without headers
	Data    []byte
	// Client identifies the publishing connection, for logs.
	Client uint64
	// InProcess is set when the publisher is an in-process client: its
	// goroutine may hold that client's lock and be another component's
	// worker, so a handler with real work to do queues it.
	InProcess bool
	// Trace is set when the message is traced: a handler that acts on
	// messages (a stream) records what it did in it, on this goroutine,
	// and does nothing lasting when Trace.Only is set.
	Trace *msgtrace.Trace
	// Declined is set by a handler whose wildcard subscription covers a
	// subject nobody serves (a pull request for a consumer that does not
	// exist): the message then counts as not delivered, and a requester
	// gets the no-responders status as if the subscription did not exist.
	Declined bool
	// Routed is set when the message came from another server of the
	// cluster (a JetStream server answers a request only once across the
	// cluster, and a routed one was also seen by the publisher's server).
	Routed bool
}

// MsgHandler receives messages for an in-process subscription. It runs on
// the publisher's goroutine, so it must be quick and must not block: hand
// real work to a goroutine of your own through a bounded queue.
type MsgHandler func(m *Msg)

// InternalClient lets an in-process service (the JetStream API, a stream)
// subscribe and publish like a connection without a socket. Publish may be
// called from any goroutine.
type InternalClient struct {
	c     *client
	mu    sync.Mutex // serializes Publish: c's producer state is single-owner
	buf   []byte
	cmd   proto.Cmd
	sids  atomic.Uint64
	size  [20]byte
	hsz   [20]byte
	route []byte // set by PublishTo: the subject to match subscribers on
}

// ErrInternalClosed is returned by an InternalClient after Close.
var ErrInternalClosed = errors.New("starling: internal client closed")

// NewInternalClient creates an in-process client named for logs, in the
// global account.
func (s *Server) NewInternalClient(name string) *InternalClient {
	return s.NewInternalClientIn(s.gacc, name)
}

// NewInternalClientIn creates an in-process client in account acc.
func (s *Server) NewInternalClientIn(acc *Account, name string) *InternalClient {
	c := &client{
		transport: transport{srv: s, cid: s.nextCID.Add(1), start: time.Now()},
		acc:       acc,
		subs:      map[string]*subscription{},
		cache:     map[string]*subject.Result[*subscription]{},
	}
	c.p = c
	c.echo.Store(true)
	c.headers.Store(true)
	c.out.init(s.getOpts().MaxPending)
	c.log = s.log.With("internal", name)
	return &InternalClient{c: c}
}

// Subscribe registers handler for subject (wildcards allowed), in queue
// group queue when not empty.
func (ic *InternalClient) Subscribe(subj, queue string, handler MsgHandler) (*Subscription, error) {
	c := ic.c
	if c.closing.Load() {
		return nil, ErrInternalClosed
	}
	sid := strconv.FormatUint(ic.sids.Add(1), 10)
	sub := &subscription{client: c, subject: subj, queue: queue, sid: []byte(sid), handler: handler}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil {
		return nil, ErrInternalClosed
	}
	if err := c.acc.subscribe(sub); err != nil {
		return nil, fmt.Errorf("subscribe %q: %w", subj, err)
	}
	c.subs[sid] = sub
	return &Subscription{sub: sub}, nil
}

// Subscription is an in-process subscription.
type Subscription struct{ sub *subscription }

// Unsubscribe removes the subscription.
func (s *Subscription) Unsubscribe() { s.sub.client.removeSub(s.sub) }

// Publish routes a message as if a client had published it. hdr is a
// complete header block ("NATS/1.0\r\n...\r\n\r\n") or nil. It reports
// whether any subscriber took the message.
func (ic *InternalClient) Publish(subj, reply string, hdr, data []byte) (bool, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	delivered, err := ic.routeLocked(subj, reply, hdr, data)
	if err == nil {
		ic.flushLocked()
	}
	return delivered, err
}

// PublishDeferred routes a message like Publish but leaves the receivers'
// flush for Flush, so a burst of server messages (acks for one group
// commit) reaches each client in one write instead of one each.
func (ic *InternalClient) PublishDeferred(subj, reply string, hdr, data []byte) (bool, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	return ic.routeLocked(subj, reply, hdr, data)
}

// Flush hands everything published with PublishDeferred to the receivers'
// connections.
func (ic *InternalClient) Flush() {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.flushLocked()
}

// PublishTo delivers a message to the subscribers of deliver while the
// receivers see it on subject (a consumer delivering a stored message).
func (ic *InternalClient) PublishTo(deliver, subj, reply string, hdr, data []byte) (bool, error) {
	delivered, err := ic.PublishToDeferred(deliver, subj, reply, hdr, data)
	if err == nil {
		ic.Flush()
	}
	return delivered, err
}

// PublishToDeferred is PublishTo leaving the flush to Flush, so a burst
// of deliveries reaches each receiver in one write.
func (ic *InternalClient) PublishToDeferred(deliver, subj, reply string, hdr, data []byte) (bool, error) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	ic.route = append(ic.route[:0], deliver...)
	delivered, err := ic.routeLocked(subj, reply, hdr, data)
	ic.route = ic.route[:0]
	return delivered, err
}

func (ic *InternalClient) routeLocked(subj, reply string, hdr, data []byte) (bool, error) {
	c := ic.c
	if c.closing.Load() {
		return false, ErrInternalClosed
	}
	ic.buf = append(append(append(ic.buf[:0], hdr...), data...), '\r', '\n')
	size := len(hdr) + len(data)
	ic.cmd = proto.Cmd{
		Op:      proto.OpPub,
		Subject: []byte(subj),
		Reply:   []byte(reply),
		HdrLen:  len(hdr),
		Size:    size,
		Msg:     ic.buf,
		SizeArg: strconv.AppendInt(ic.size[:0], int64(size), 10),
	}
	if len(reply) == 0 {
		ic.cmd.Reply = nil
	}
	if len(hdr) > 0 {
		ic.cmd.Op = proto.OpHPub
		ic.cmd.HdrArg = strconv.AppendInt(ic.hsz[:0], int64(len(hdr)), 10)
	}
	var delivered bool
	if len(ic.route) > 0 {
		delivered = c.routeTo(ic.route, &ic.cmd)
	} else {
		delivered = c.route(&ic.cmd)
	}
	// The buffer may be large (a big reply); do not keep it forever.
	if cap(ic.buf) > 64*1024 {
		ic.buf = nil
	}
	return delivered, nil
}

func (ic *InternalClient) flushLocked() {
	// In-process publishers (acks, API replies) never wait on a slow
	// client: deliver does not stall a client without a socket.
	ic.c.endBatch()
}

// Close removes every subscription of the client.
func (ic *InternalClient) Close() {
	c := ic.c
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for _, sub := range subs {
		c.acc.unsubscribe(sub)
	}
}

// deliverInternal hands a message to an in-process subscription.
func (c *client) deliverInternal(sub *subscription, cmd *proto.Cmd) bool {
	if sub.client.closing.Load() {
		return false
	}
	m := Msg{Subject: cmd.Subject, Reply: cmd.Reply, Data: cmd.Payload(), Client: c.cid, InProcess: c.netConn == nil, Trace: c.trace, Routed: c.fromRoute != nil}
	if cmd.HdrLen > 0 {
		m.Header = cmd.Header()
	}
	sub.handler(&m)
	return !m.Declined
}

// HasInterest reports whether anyone subscribes to subj (a push consumer
// delivers only to a subject someone listens on).
func (ic *InternalClient) HasInterest(subj string) bool {
	return !ic.c.acc.sl.Match(subj).Empty()
}

// InterestGen changes whenever any subscription is added or removed, so
// a caller waiting for interest to come or go (the consumer scheduler)
// polls one number instead of every subject it cares about.
func (ic *InternalClient) InterestGen() uint64 {
	return ic.c.acc.sl.GenID()
}

// HasLiteralInterest reports whether a subscription on exactly subj (not
// a wildcard that covers it) exists. A client's request inbox is a
// wildcard over its reply subjects, so a stream snapshot waits for the
// subscription on its deliver subject itself, as nats-server does.
func (ic *InternalClient) HasLiteralInterest(subj string) bool {
	r := ic.c.acc.sl.Match(subj)
	for _, sub := range r.Plain {
		if sub.subject == subj {
			return true
		}
	}
	for _, group := range r.Queues {
		for _, sub := range group {
			if sub.subject == subj {
				return true
			}
		}
	}
	return false
}
