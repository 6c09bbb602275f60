package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// The clients of --cluster, on nats.go as `starling bench` is, but each
// connected to a chosen member: `starling bench` takes one URL for all its
// clients. The figures are computed as `starling bench` computes its
// overall figure, so they read like the single-server table: throughput is
// (sent + received) / elapsed, from the first client's start to the last
// client's end; latency is nearest-rank percentiles over every request.

// clusterScenario is one load on a cluster. The publisher (or requester)
// is always on member 0, "A".
type clusterScenario struct {
	name    string
	size    int
	msgs    int
	subs    []int // the member each subscriber (responder) connects to
	queue   bool  // the subscribers form one queue group
	request bool  // request/reply latency: one requester, subs[0] replies
}

func (sc clusterScenario) metric() string {
	if sc.request {
		return "latency"
	}
	return "throughput"
}

// args describes the scenario for --raw.
func (sc clusterScenario) args() map[string]any {
	return map[string]any{"size": sc.size, "msgs": sc.msgs, "subs_on": sc.subs, "queue": sc.queue, "request": sc.request}
}

// Members by index, as the scenario names say.
const (
	srvA = 0
	srvB = 1
	srvC = 2
)

func clusterScenarios(scale float64) []clusterScenario {
	n := func(base int) int { return max(1000, int(float64(base)*scale)) }
	return []clusterScenario{
		{name: "pub A → sub C, 16 B", size: 16, msgs: n(1_000_000), subs: []int{srvC}},
		{name: "pub A → sub C, 1 KiB", size: 1024, msgs: n(300_000), subs: []int{srvC}},
		{name: "fan-out 1:6 (2 subs on each of A, B, C), 16 B", size: 16, msgs: n(400_000), subs: []int{srvA, srvB, srvC, srvA, srvB, srvC}},
		// Both servers deliver to a member on the publisher's server when
		// there is one, so this measures local delivery plus the interest
		// of the remote members; the next scenario has none local.
		{name: "queue group 1:3 (a member on each of A, B, C), 16 B", size: 16, msgs: n(1_000_000), subs: []int{srvA, srvB, srvC}, queue: true},
		{name: "queue group 1:4 (2 members on each of B, C), 16 B", size: 16, msgs: n(1_000_000), subs: []int{srvB, srvC, srvB, srvC}, queue: true},
		{name: "request A → reply C, 16 B", size: 16, msgs: n(20_000), subs: []int{srvC}, request: true},
	}
}

// loadResult is one run of a scenario.
type loadResult struct {
	tput     float64 // msgs/s, throughput scenarios
	p50, p99 float64 // µs, latency scenarios
	perSub   []int64 // messages each subscriber received (for the log)
}

// Bounds of a run.
const (
	loadTimeout  = 5 * time.Minute  // a whole run
	stallTimeout = 10 * time.Second // no message moved for this long
	readyTimeout = 10 * time.Second // interest to cross the routes
	opTimeout    = 5 * time.Second  // a flush, a request
	// maxSubPendingBytes caps what a subscriber may buffer client-side
	// (as `starling bench` does); beyond it nats.go drops and the run fails.
	maxSubPendingBytes = 1 << 30
)

// errSink keeps the first asynchronous error of a run.
type errSink struct {
	mu  sync.Mutex
	err error
}

func (e *errSink) report(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

func (e *errSink) get() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// conns holds a run's connections so that one call closes them all.
type conns struct{ list []*nats.Conn }

func (c *conns) connect(url, name string, errs *errSink) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.NoReconnect(), nats.Timeout(opTimeout),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			errs.report(fmt.Errorf("%s: %w", name, err))
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				errs.report(fmt.Errorf("%s: disconnected: %w", name, err))
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("%s: connect to %s: %w", name, url, err)
	}
	c.list = append(c.list, nc)
	return nc, nil
}

// closed names the connections the server closed, with nats.go's last
// error for each: a stalled run is often a subscriber cut as a slow
// consumer, which nats.go may not report before the stall is noticed.
func (c *conns) closed() string {
	var out []string
	for _, nc := range c.list {
		if nc.IsClosed() {
			out = append(out, fmt.Sprintf("%s closed (%v)", nc.Opts.Name, nc.LastError()))
		}
	}
	if len(out) == 0 {
		return "no connection closed"
	}
	return strings.Join(out, ", ")
}

func (c *conns) close() {
	for _, nc := range c.list {
		nc.Close()
	}
}

// counter is one subscriber's deliveries, timed from its first message to
// its last, in ns since the run's epoch. Its handler runs on the
// subscription's goroutine; the fields are atomic for the waiter.
type counter struct {
	epoch time.Time
	n     atomic.Int64
	first atomic.Int64
	last  atomic.Int64
}

func (c *counter) handle(*nats.Msg) {
	now := int64(time.Since(c.epoch))
	if c.n.Add(1) == 1 {
		c.first.Store(now)
	}
	c.last.Store(now)
}

// runClusterLoad runs sc once against a cluster's client URLs.
func runClusterLoad(ctx context.Context, urls []string, sc clusterScenario, run int) (*loadResult, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	if sc.request {
		return runLatency(ctx, urls, sc, run)
	}
	return runThroughput(ctx, urls, sc, run)
}

func runThroughput(ctx context.Context, urls []string, sc clusterScenario, run int) (*loadResult, error) {
	var cs conns
	defer cs.close()
	errs := &errSink{}
	subject := "cmp.cluster." + strconv.Itoa(run)
	queue := ""
	if sc.queue {
		queue = "q"
	}
	msgLimit := max(sc.msgs, nats.DefaultSubPendingMsgsLimit)
	byteLimit := int(min(int64(sc.msgs)*int64(sc.size+64), maxSubPendingBytes))
	byteLimit = max(byteLimit, nats.DefaultSubPendingBytesLimit)

	epoch := time.Now()
	counters := make([]*counter, len(sc.subs))
	var probes []string
	for i, srv := range sc.subs {
		nc, err := cs.connect(urls[srv], fmt.Sprintf("sub-%d", i+1), errs)
		if err != nil {
			return nil, err
		}
		counters[i] = &counter{epoch: epoch}
		sub, err := nc.QueueSubscribe(subject, queue, counters[i].handle)
		if err != nil {
			return nil, err
		}
		if err := sub.SetPendingLimits(msgLimit, byteLimit); err != nil {
			return nil, err
		}
		probe, err := readyProbe(nc, subject, i)
		if err != nil {
			return nil, err
		}
		probes = append(probes, probe)
		if err := nc.FlushTimeout(opTimeout); err != nil {
			return nil, fmt.Errorf("sub-%d: flush: %w", i+1, err)
		}
	}
	pub, err := cs.connect(urls[srvA], "pub", errs)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, pub, probes); err != nil {
		return nil, err
	}

	want := int64(sc.msgs) * int64(len(sc.subs))
	if sc.queue {
		want = int64(sc.msgs)
	}
	received := func() int64 {
		var n int64
		for _, c := range counters {
			n += c.n.Load()
		}
		return n
	}
	payload := make([]byte, sc.size)
	var pubStart, pubEnd atomic.Int64
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		pubStart.Store(int64(time.Since(epoch)))
		for i := range sc.msgs {
			if err := pub.Publish(subject, payload); err != nil {
				errs.report(fmt.Errorf("pub: message %d: %w", i+1, err))
				return
			}
		}
		if err := pub.FlushTimeout(stallTimeout); err != nil {
			errs.report(fmt.Errorf("pub: final flush: %w", err))
			return
		}
		pubEnd.Store(int64(time.Since(epoch)))
	}()
	if err := waitCount(ctx, received, want, pubDone, errs, cs.closed); err != nil {
		<-pubDone
		return nil, err
	}
	<-pubDone
	if err := errs.get(); err != nil {
		return nil, err
	}
	got := received()
	if got != want {
		return nil, fmt.Errorf("received %d messages, want %d (a queue group delivers each message once)", got, want)
	}
	res := &loadResult{}
	start, end := time.Duration(pubStart.Load()), time.Duration(pubEnd.Load())
	for _, c := range counters {
		res.perSub = append(res.perSub, c.n.Load())
		if c.n.Load() > 0 {
			start = min(start, time.Duration(c.first.Load()))
			end = max(end, time.Duration(c.last.Load()))
		}
	}
	if end <= start {
		return nil, fmt.Errorf("no measurable interval (%v to %v)", start, end)
	}
	res.tput = float64(int64(sc.msgs)+got) / (end - start).Seconds()
	return res, nil
}

// readyProbe subscribes nc, after its bench subscription, to a subject of
// its own that it answers. A route carries one server's interest in order,
// so once the publisher's server has the probe's interest it also has the
// bench subscription's, and the publisher may start.
func readyProbe(nc *nats.Conn, subject string, i int) (string, error) {
	probe := fmt.Sprintf("%s.ready.%d", subject, i)
	_, err := nc.Subscribe(probe, func(m *nats.Msg) { _ = m.Respond(nil) })
	return probe, err
}

// waitReady asks each probe until it answers, within readyTimeout.
func waitReady(ctx context.Context, nc *nats.Conn, probes []string) error {
	deadline := time.Now().Add(readyTimeout)
	for _, p := range probes {
		for {
			_, err := nc.Request(p, nil, 200*time.Millisecond)
			if err == nil {
				break
			}
			if !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, nats.ErrNoResponders) {
				return fmt.Errorf("ready probe %s: %w", p, err)
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("interest did not cross the routes within %v (probe %s: %v)", readyTimeout, p, err)
			}
			if errors.Is(err, nats.ErrNoResponders) {
				time.Sleep(20 * time.Millisecond) // polling interval: no responder is an immediate answer
			}
		}
	}
	return nil
}

// waitCount polls until count reaches want, failing on an asynchronous
// error, on no progress for stallTimeout, or when ctx ends.
func waitCount(ctx context.Context, count func() int64, want int64, pubDone <-chan struct{}, errs *errSink, detail func() string) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	last, lastMove := int64(-1), time.Now()
	for {
		n := count()
		if n >= want {
			return nil
		}
		if err := errs.get(); err != nil {
			return err
		}
		if n != last {
			last, lastMove = n, time.Now()
		} else if time.Since(lastMove) > stallTimeout {
			published := "still publishing"
			select {
			case <-pubDone:
				published = "all published"
			default:
			}
			return fmt.Errorf("stalled: %d of %d received for %v (%s; %s)", n, want, stallTimeout, published, detail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d received: %w", n, want, ctx.Err())
		case <-tick.C:
		}
	}
}

func runLatency(ctx context.Context, urls []string, sc clusterScenario, run int) (*loadResult, error) {
	var cs conns
	defer cs.close()
	errs := &errSink{}
	subject := "cmp.cluster.req." + strconv.Itoa(run)
	rep, err := cs.connect(urls[sc.subs[0]], "reply", errs)
	if err != nil {
		return nil, err
	}
	if _, err := rep.Subscribe(subject, func(m *nats.Msg) {
		if err := m.Respond(m.Data); err != nil {
			errs.report(fmt.Errorf("reply: %w", err))
		}
	}); err != nil {
		return nil, err
	}
	if err := rep.FlushTimeout(opTimeout); err != nil {
		return nil, err
	}
	req, err := cs.connect(urls[srvA], "req", errs)
	if err != nil {
		return nil, err
	}
	payload := make([]byte, sc.size)
	// The first answered request proves both interests crossed: the
	// responder's to A, and the requester's reply inbox to C.
	if err := waitReady(ctx, req, []string{subject}); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, sc.msgs)
	for i := range sc.msgs {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t0 := time.Now()
		if _, err := req.Request(subject, payload, opTimeout); err != nil {
			return nil, fmt.Errorf("request %d: %w", i+1, err)
		}
		lat = append(lat, time.Since(t0))
	}
	if err := errs.get(); err != nil {
		return nil, err
	}
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return &loadResult{p50: us(nearestRank(lat, 50)), p99: us(nearestRank(lat, 99))}, nil
}

// nearestRank is the p-th percentile of sorted by the nearest-rank method,
// as `starling bench` computes its percentiles.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon absorbs float error such as 99/100*100 = 99.00000000000001.
	rank := int(math.Ceil(p/100*float64(len(sorted)) - 1e-9))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
