package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// The pub/sub throughput run. Order matters for honest numbers:
//  1. connect every subscriber, subscribe, and flush each connection, so
//     the server has registered all interest before anything is published;
//  2. connect every publisher (connection set-up is not measured);
//  3. release all publishers at once and wait for every goal.

// maxPendingBytes caps how much a bench subscriber may buffer client-side.
// Up to it nothing is dropped; beyond it nats.go drops and we report a
// slow consumer instead of a quietly wrong result.
const maxPendingBytes = 1 << 30

// benchClients holds the connections of a run and the publisher goroutines
// using them; close ends both, so no goroutine outlives the run.
type benchClients struct {
	conns []*nats.Conn
	wg    sync.WaitGroup
}

func (c *benchClients) add(nc *nats.Conn) { c.conns = append(c.conns, nc) }

func (c *benchClients) close() {
	for _, nc := range c.conns {
		nc.Close()
	}
	c.wg.Wait() // publishers return once their connection is closed
}

// connectClient opens one bench connection. The bench never reconnects: a
// lost connection must fail the run, not pause it. Asynchronous errors,
// slow consumers above all, go to errs.
func connectClient(o *benchOpts, role string, id int, errs *errSink) (*nats.Conn, error) {
	cf := o.conn
	base := cf.name
	if base == "" {
		base = "starling-bench"
	}
	cf.name = fmt.Sprintf("%s-%s-%d", base, role, id)
	return cf.connect(cf.name,
		nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) && sub != nil {
				dropped, _ := sub.Dropped()
				err = fmt.Errorf("%w (%d dropped client-side)", err, dropped)
			}
			errs.report(fmt.Errorf("%s %d: %w", role, id, err))
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				errs.report(fmt.Errorf("%s %d: disconnected: %w", role, id, err))
			}
		}),
	)
}

// pendingLimits lets a subscriber buffer a whole run client-side (bounded
// by maxPendingBytes), but never less than nats.go's defaults.
func pendingLimits(msgs, size int) (msgLimit, bytesLimit int) {
	msgLimit = max(msgs, nats.DefaultSubPendingMsgsLimit)
	b := int64(msgs) * int64(size+64) // 64: room for per-message overhead
	b = max(b, nats.DefaultSubPendingBytesLimit)
	return msgLimit, int(min(b, maxPendingBytes))
}

// benchSub counts one subscriber's deliveries. Its handler runs on the
// subscription's own goroutine; the fields are atomic only so the waiter
// can read progress while it runs.
type benchSub struct {
	id    int
	g     *goal // its own, or the queue group's shared goal
	queue bool
	epoch time.Time
	size  int
	sub   *nats.Subscription
	count atomic.Int64
	start atomic.Int64 // ns since epoch
	end   atomic.Int64
}

func (s *benchSub) handle(_ *nats.Msg) {
	v, ok := s.g.add()
	if !ok {
		return
	}
	n := s.count.Add(1)
	// Reading the clock costs tens of nanoseconds: a plain subscriber only
	// needs it for its first and last message; a queue member on every
	// message, since any one may turn out to be its last.
	if n == 1 || s.queue || v == s.g.want {
		now := int64(time.Since(s.epoch))
		if n == 1 {
			s.start.Store(now)
		}
		s.end.Store(now)
	}
	s.g.settle()
}

func (s *benchSub) sample() sample {
	n := s.count.Load()
	return sample{msgs: n, bytes: n * int64(s.size), start: time.Duration(s.start.Load()), end: time.Duration(s.end.Load())}
}

// benchPub publishes its share and times it, final flush included.
type benchPub struct {
	id     int
	nc     *nats.Conn
	g      *goal
	result sample // written before g is finished, read after
}

func (p *benchPub) run(subject string, payload []byte, epoch time.Time, flushTimeout time.Duration, errs *errSink) {
	count := int(p.g.want)
	start := time.Since(epoch)
	for i := 0; i < count; i++ {
		if err := p.nc.Publish(subject, payload); err != nil {
			errs.report(fmt.Errorf("publisher %d: message %d: %w", p.id, i+1, err))
			return
		}
		if i&1023 == 1023 { // progress every 1024 messages: cheap enough for the hot loop
			p.g.progress(i + 1)
		}
	}
	if err := p.nc.FlushTimeout(flushTimeout); err != nil {
		errs.report(fmt.Errorf("publisher %d: final flush: %w", p.id, err))
		return
	}
	end := time.Since(epoch)
	p.result = sample{msgs: int64(count), bytes: int64(count) * int64(len(payload)), start: start, end: end}
	p.g.finish()
}

func runPubSubBench(ctx context.Context, o *benchOpts, prog *progress) (*benchResult, error) {
	var clients benchClients
	defer clients.close()
	errs := newErrSink()
	epoch := time.Now()

	subs, subGoals, err := startSubscribers(o, epoch, errs, &clients)
	if err != nil {
		return nil, err
	}
	pubs, err := connectPublishers(o, errs, &clients)
	if err != nil {
		return nil, err
	}
	payload := make([]byte, o.size)
	flushTimeout := max(o.conn.timeout, o.stall)
	for _, p := range pubs {
		clients.wg.Add(1)
		go func() {
			defer clients.wg.Done()
			p.run(o.subject, payload, epoch, flushTimeout, errs)
		}()
	}

	w := &waiter{errs: errs, stall: o.stall, prog: prog, armed: len(pubs) > 0}
	for _, p := range pubs {
		w.goals = append(w.goals, p.g)
	}
	w.goals = append(w.goals, subGoals...)
	w.status = func() string { return pubSubStatus(pubs, subs, subGoals) }
	if err := w.wait(ctx); err != nil {
		return nil, err
	}
	if err := errs.pending(); err != nil {
		return nil, err
	}
	return pubSubResult(o, pubs, subs)
}

func startSubscribers(o *benchOpts, epoch time.Time, errs *errSink, clients *benchClients) ([]*benchSub, []*goal, error) {
	var goals []*goal
	var shared *goal
	if o.queue != "" {
		shared = newGoal(o.msgs)
		goals = append(goals, shared)
	}
	msgLimit, bytesLimit := pendingLimits(o.msgs, int(o.size))
	subs := make([]*benchSub, o.subs)
	for i := range subs {
		nc, err := connectClient(o, "sub", i+1, errs)
		if err != nil {
			return nil, nil, err
		}
		clients.add(nc)
		s := &benchSub{id: i + 1, g: shared, queue: shared != nil, epoch: epoch, size: int(o.size)}
		if s.g == nil {
			s.g = newGoal(o.msgs)
			goals = append(goals, s.g)
		}
		if s.sub, err = nc.QueueSubscribe(o.subject, o.queue, s.handle); err != nil {
			return nil, nil, fmt.Errorf("subscriber %d: subscribe to %q: %w", s.id, o.subject, err)
		}
		if err := s.sub.SetPendingLimits(msgLimit, bytesLimit); err != nil {
			return nil, nil, err
		}
		subs[i] = s
	}
	// The flush round trip on each connection proves the server has
	// registered that subscription before any publisher starts.
	for i, nc := range clients.conns {
		if err := nc.FlushTimeout(o.conn.timeout); err != nil {
			return nil, nil, fmt.Errorf("subscriber %d: flush: %w", i+1, err)
		}
	}
	return subs, goals, nil
}

func connectPublishers(o *benchOpts, errs *errSink, clients *benchClients) ([]*benchPub, error) {
	counts := splitCount(o.msgs, o.pubs)
	pubs := make([]*benchPub, len(counts))
	for i, n := range counts {
		nc, err := connectClient(o, "pub", i+1, errs)
		if err != nil {
			return nil, err
		}
		clients.add(nc)
		pubs[i] = &benchPub{id: i + 1, nc: nc, g: newGoal(n)}
	}
	return pubs, nil
}

// pubSubStatus is the progress line, and the detail of a stall error.
func pubSubStatus(pubs []*benchPub, subs []*benchSub, subGoals []*goal) string {
	var parts []string
	if len(pubs) > 0 {
		var done, want int64
		for _, p := range pubs {
			done += p.g.count()
			want += p.g.want
		}
		parts = append(parts, countLine("published", done, want))
	}
	if len(subs) > 0 {
		var done, want int64
		for _, g := range subGoals {
			done += g.count()
			want += g.want
		}
		parts = append(parts, countLine("received", done, want))
	}
	return strings.Join(parts, " | ")
}

func pubSubResult(o *benchOpts, pubs []*benchPub, subs []*benchSub) (*benchResult, error) {
	r := newResult(o)
	for _, p := range pubs {
		r.pubSamples = append(r.pubSamples, p.result)
	}
	for _, s := range subs {
		// A drop would have stopped the count short of the goal; checking
		// again catches one racing with the final message.
		if d, err := s.sub.Dropped(); err == nil && d > 0 {
			return nil, fmt.Errorf("subscriber %d: %w (%d dropped client-side)", s.id, nats.ErrSlowConsumer, d)
		}
		r.subSamples = append(r.subSamples, s.sample())
	}
	return r, nil
}
