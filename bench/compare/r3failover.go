package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/starling-mq/starling/bench/internal/serverproc"
)

// Leader election after SIGKILL. Each run creates an R3 stream and then,
// failoverKills times: waits until the cluster is healthy (one meta leader
// agreed by all, the stream led, both followers current), kills a leader's
// process, measures, restarts the killed member. Kills alternate between
// the stream leader and the meta leader; when one server holds both, both
// figures are taken from that kill.
//   - stream: from the kill until a publish from a surviving member is
//     acknowledged, tried every few milliseconds with a short timeout each;
//   - meta: from the kill until every survivor names the same new meta
//     leader in its /jsz.

const (
	failoverKills   = 5                      // per run: stream, meta, stream, meta, stream
	failoverTimeout = 30 * time.Second       // each wait of a kill round
	attemptTimeout  = 250 * time.Millisecond // one publish try after a kill
	pollEvery       = 20 * time.Millisecond  // polling interval of the waits
)

// leaders are the cluster's leaders by server name; meta is "" when the
// servers do not say (no meta_cluster in /jsz), and then every kill is of
// the stream leader and the meta figure is not taken.
type leaders struct{ meta, stream string }

// errNoMetaInfo is a /jsz without meta_cluster.
var errNoMetaInfo = errors.New("/jsz has no meta_cluster")

func runFailover(ctx context.Context, c *cluster, sc r3Scenario, run int) ([]r3Value, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	_, err := withMemberJS(c.members[srvA], func(js jetstream.JetStream) (func(), error) {
		return createR3Stream(ctx, js, run) // deleted below, on a live connection
	})
	if err != nil {
		return nil, err
	}
	defer deleteR3Stream(c, run)
	var pubTimes, metaTimes []time.Duration
	for k := range failoverKills {
		ld, err := waitHealthy(ctx, c, hc, run)
		if err != nil {
			return nil, fmt.Errorf("kill %d: before: %w", k+1, err)
		}
		target := ld.stream
		if k%2 == 1 && ld.meta != "" {
			target = ld.meta
		}
		victim := c.byName(target)
		if victim == nil {
			return nil, fmt.Errorf("kill %d: leader %q is no member", k+1, target)
		}
		pub, meta, err := killAndMeasure(ctx, c, hc, victim, ld, run)
		if rerr := restart(victim); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		if err != nil {
			return nil, fmt.Errorf("kill %d (%s): %w", k+1, victim.name, err)
		}
		fmt.Fprintf(os.Stderr, "  kill %d: %s (stream leader %s, meta leader %q): publish acked after %s, new meta leader after %s\n",
			k+1, victim.name, ld.stream, ld.meta, taken(pub), taken(meta))
		if pub > 0 {
			pubTimes = append(pubTimes, pub)
		}
		if meta > 0 {
			metaTimes = append(metaTimes, meta)
		}
	}
	if _, err := waitHealthy(ctx, c, hc, run); err != nil {
		return nil, fmt.Errorf("after the last kill: %w", err)
	}
	return []r3Value{percentiles(pubTimes), percentiles(metaTimes)}, nil
}

// taken prints a figure of a kill, "-" for one not taken.
func taken(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}

// percentiles is the p50 and p99 in µs of ds, not ok when empty.
func percentiles(ds []time.Duration) r3Value {
	if len(ds) == 0 {
		return r3Value{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return r3Value{ok: true, p50: us(nearestRank(s, 50)), p99: us(nearestRank(s, 99))}
}

// killAndMeasure kills victim and returns the time until a publish is
// acknowledged (if it led the stream) and until a new meta leader is agreed
// (if it led the meta group); 0 for a figure not taken.
func killAndMeasure(ctx context.Context, c *cluster, hc *http.Client, victim *member, ld leaders, run int) (pub, meta time.Duration, err error) {
	var survivors []*member
	for _, m := range c.members {
		if m != victim {
			survivors = append(survivors, m)
		}
	}
	// Connected before the kill, so the connect is not timed.
	nc, err := nats.Connect(survivors[0].clientURL, nats.NoReconnect(), nats.Timeout(opTimeout))
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, failoverTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var pubErr, metaErr error
	t0 := time.Now()
	if err := victim.cmd.Process.Kill(); err != nil {
		return 0, 0, fmt.Errorf("kill: %w", err)
	}
	if victim.name == ld.stream {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub, pubErr = untilPublishAcked(ctx, js, run, t0)
		}()
	}
	if victim.name == ld.meta {
		wg.Add(1)
		go func() {
			defer wg.Done()
			meta, metaErr = untilNewMetaLeader(ctx, hc, survivors, victim.name, t0)
		}()
	}
	wg.Wait()
	select {
	case <-victim.exited:
	case <-time.After(10 * time.Second):
		return pub, meta, errors.Join(pubErr, metaErr, errors.New("killed member did not exit"))
	}
	return pub, meta, errors.Join(pubErr, metaErr)
}

// untilPublishAcked publishes until one publish is acknowledged; each try
// has attemptTimeout, so the figure is at most that much late.
func untilPublishAcked(ctx context.Context, js jetstream.JetStream, run int, t0 time.Time) (time.Duration, error) {
	_, subject := r3Names(run)
	var last error
	for ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		_, err := js.Publish(actx, subject, []byte("failover"), jetstream.WithRetryAttempts(0))
		cancel()
		if err == nil {
			return time.Since(t0), nil
		}
		last = err
		if !errors.Is(err, context.DeadlineExceeded) {
			time.Sleep(pollEvery) // an immediate refusal: pace the tries
		}
	}
	return 0, fmt.Errorf("no publish acked within %v (last: %v)", failoverTimeout, last)
}

// untilNewMetaLeader polls the survivors' /jsz until all name the same
// meta leader, not the killed one.
func untilNewMetaLeader(ctx context.Context, hc *http.Client, survivors []*member, killed string, t0 time.Time) (time.Duration, error) {
	var last string
	for ctx.Err() == nil {
		l, err := agreedMetaLeader(hc, survivors)
		if err == nil && l != killed {
			return time.Since(t0), nil
		}
		last = fmt.Sprintf("%q, %v", l, err)
		time.Sleep(pollEvery)
	}
	return 0, fmt.Errorf("no new meta leader within %v (last: %s)", failoverTimeout, last)
}

// agreedMetaLeader is the meta leader every member of ms names in /jsz.
func agreedMetaLeader(hc *http.Client, ms []*member) (string, error) {
	var leader string
	for i, m := range ms {
		l, err := metaLeaderOf(hc, m)
		if err != nil {
			return "", err
		}
		if l == "" || (i > 0 && l != leader) {
			return "", fmt.Errorf("%s names meta leader %q, %s names %q", m.name, l, ms[0].name, leader)
		}
		leader = l
	}
	return leader, nil
}

func metaLeaderOf(hc *http.Client, m *member) (string, error) {
	resp, err := hc.Get(m.monitorURL + "/jsz")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var jsz struct {
		Meta *struct {
			Leader string `json:"leader"`
		} `json:"meta_cluster"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&jsz); err != nil {
		return "", fmt.Errorf("%s /jsz: %w", m.name, err)
	}
	if jsz.Meta == nil {
		return "", fmt.Errorf("%s: %w", m.name, errNoMetaInfo)
	}
	return jsz.Meta.Leader, nil
}

// waitHealthy waits until all members agree on a meta leader and the
// run's stream has a leader and two current followers.
func waitHealthy(ctx context.Context, c *cluster, hc *http.Client, run int) (leaders, error) {
	ctx, cancel := context.WithTimeout(ctx, failoverTimeout)
	defer cancel()
	name, _ := r3Names(run)
	var last error
	for ctx.Err() == nil {
		ld, err := healthy(ctx, c, hc, name)
		if err == nil {
			return ld, nil
		}
		last = err
		time.Sleep(pollEvery)
	}
	return leaders{}, fmt.Errorf("cluster not healthy within %v: %w", failoverTimeout, last)
}

func healthy(ctx context.Context, c *cluster, hc *http.Client, stream string) (leaders, error) {
	meta, err := agreedMetaLeader(hc, c.members)
	if errors.Is(err, errNoMetaInfo) {
		meta, err = "", nil
	}
	if err != nil {
		return leaders{}, err
	}
	info, err := withMemberJS(c.members[srvA], func(js jetstream.JetStream) (*jetstream.StreamInfo, error) {
		ictx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		s, err := js.Stream(ictx, stream)
		if err != nil {
			return nil, err
		}
		return s.Info(ictx)
	})
	if err != nil {
		return leaders{}, err
	}
	ci := info.Cluster
	if ci == nil || ci.Leader == "" || len(ci.Replicas) != clusterSize-1 {
		return leaders{}, fmt.Errorf("stream %s: no leader and %d followers yet", stream, clusterSize-1)
	}
	for _, p := range ci.Replicas {
		if !p.Current || p.Offline {
			return leaders{}, fmt.Errorf("stream %s: follower %s not current (lag %d)", stream, p.Name, p.Lag)
		}
	}
	return leaders{meta: meta, stream: ci.Leader}, nil
}

// deleteR3Stream deletes the run's stream through the first member that
// answers; best effort, the store is temporary.
func deleteR3Stream(c *cluster, run int) {
	name, _ := r3Names(run)
	for _, m := range c.members {
		_, err := withMemberJS(m, func(js jetstream.JetStream) (struct{}, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return struct{}{}, js.DeleteStream(ctx, name)
		})
		if err == nil {
			return
		}
	}
}

// withMemberJS runs f with a JetStream context on a fresh connection to m.
func withMemberJS[T any](m *member, f func(jetstream.JetStream) (T, error)) (T, error) {
	var zero T
	nc, err := nats.Connect(m.clientURL, nats.NoReconnect(), nats.Timeout(opTimeout))
	if err != nil {
		return zero, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return zero, err
	}
	return f(js)
}

// restart starts a killed member again on its configuration and store.
func restart(m *member) error {
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s: still running, not restarted", m.name)
	}
	if err := m.start(); err != nil {
		return err
	}
	return serverproc.WaitListening(m.client, 10*time.Second)
}

func (c *cluster) byName(name string) *member {
	for _, m := range c.members {
		if m.name == name {
			return m
		}
	}
	return nil
}
