package cli

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// The request/reply latency run: --reply responders (a queue group, so each
// request is answered once) are registered first, then --pub requesters
// each send their share of --msgs requests one at a time. Every round trip
// is timed and kept, so the percentiles are exact.

// defaultBenchQueue groups the bench's responders when --queue is not set.
const defaultBenchQueue = "starling-bench-reply"

// benchResponder echoes each request and counts what it answered.
type benchResponder struct {
	id    int
	epoch time.Time
	errs  *errSink
	size  int
	count atomic.Int64
	start atomic.Int64 // ns since epoch
	end   atomic.Int64
}

func (r *benchResponder) handle(m *nats.Msg) {
	// Count before answering: once the requester has the reply, the count
	// already includes it.
	now := int64(time.Since(r.epoch))
	if r.count.Add(1) == 1 {
		r.start.Store(now)
	}
	r.end.Store(now)
	if err := m.Respond(m.Data); err != nil {
		r.errs.report(fmt.Errorf("responder %d: %w", r.id, err))
	}
}

func (r *benchResponder) sample() sample {
	n := r.count.Load()
	return sample{msgs: n, bytes: n * int64(r.size), start: time.Duration(r.start.Load()), end: time.Duration(r.end.Load())}
}

// benchRequester sends its requests in sequence and keeps every latency.
type benchRequester struct {
	id        int
	nc        *nats.Conn
	g         *goal
	latencies []time.Duration // len == requests done; capacity fixed up front
	result    sample          // written before g is finished, read after
}

func (q *benchRequester) run(subject string, payload []byte, epoch time.Time, timeout time.Duration, errs *errSink) {
	count := int(q.g.want)
	start := time.Since(epoch)
	for i := 0; i < count; i++ {
		t0 := time.Now()
		if _, err := q.nc.Request(subject, payload, timeout); err != nil {
			errs.report(fmt.Errorf("requester %d: request %d: %w", q.id, i+1, err))
			return
		}
		q.latencies = append(q.latencies, time.Since(t0))
		q.g.progress(i + 1)
	}
	end := time.Since(epoch)
	q.result = sample{msgs: int64(count), bytes: int64(count) * int64(len(payload)), start: start, end: end}
	q.g.finish()
}

func runRequestBench(ctx context.Context, o *benchOpts, prog *progress) (*benchResult, error) {
	var clients benchClients
	defer clients.close()
	errs := newErrSink()
	epoch := time.Now()

	responders, err := startResponders(o, epoch, errs, &clients)
	if err != nil {
		return nil, err
	}
	counts := splitCount(o.msgs, o.pubs)
	requesters := make([]*benchRequester, len(counts))
	for i, n := range counts {
		nc, err := connectClient(o, "req", i+1, errs)
		if err != nil {
			return nil, err
		}
		clients.add(nc)
		requesters[i] = &benchRequester{id: i + 1, nc: nc, g: newGoal(n), latencies: make([]time.Duration, 0, n)}
	}
	payload := make([]byte, o.size)
	for _, q := range requesters {
		clients.wg.Add(1)
		go func() {
			defer clients.wg.Done()
			q.run(o.subject, payload, epoch, o.conn.timeout, errs)
		}()
	}

	w := &waiter{errs: errs, stall: o.stall, prog: prog, armed: true}
	for _, q := range requesters {
		w.goals = append(w.goals, q.g)
	}
	w.status = func() string { return requestStatus(requesters) }
	if err := w.wait(ctx); err != nil {
		return nil, err
	}
	if err := errs.pending(); err != nil {
		return nil, err
	}
	return requestResult(o, requesters, responders), nil
}

func startResponders(o *benchOpts, epoch time.Time, errs *errSink, clients *benchClients) ([]*benchResponder, error) {
	queue := o.queue
	if queue == "" {
		queue = defaultBenchQueue
	}
	msgLimit, bytesLimit := pendingLimits(o.msgs, int(o.size))
	responders := make([]*benchResponder, o.replies)
	for i := range responders {
		nc, err := connectClient(o, "reply", i+1, errs)
		if err != nil {
			return nil, err
		}
		clients.add(nc)
		r := &benchResponder{id: i + 1, epoch: epoch, errs: errs, size: int(o.size)}
		sub, err := nc.QueueSubscribe(o.subject, queue, r.handle)
		if err != nil {
			return nil, fmt.Errorf("responder %d: subscribe to %q: %w", r.id, o.subject, err)
		}
		if err := sub.SetPendingLimits(msgLimit, bytesLimit); err != nil {
			return nil, err
		}
		// Registered before any request is sent (see runPubSubBench).
		if err := nc.FlushTimeout(o.conn.timeout); err != nil {
			return nil, fmt.Errorf("responder %d: flush: %w", r.id, err)
		}
		responders[i] = r
	}
	return responders, nil
}

func requestStatus(requesters []*benchRequester) string {
	var done, want int64
	for _, q := range requesters {
		done += q.g.count()
		want += q.g.want
	}
	return strings.TrimSpace(countLine("requests", done, want))
}

func requestResult(o *benchOpts, requesters []*benchRequester, responders []*benchResponder) *benchResult {
	r := newResult(o)
	var all []time.Duration
	for _, q := range requesters {
		r.pubSamples = append(r.pubSamples, q.result)
		all = append(all, q.latencies...)
	}
	for _, s := range responders {
		r.subSamples = append(r.subSamples, s.sample())
	}
	lat := summarizeLatency(all)
	r.latency = &lat
	return r
}
