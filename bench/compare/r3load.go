package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The loads of the R3 scenarios, on nats.go's jetstream package, every
// client on member A (the stream leader may be any member: a client sees
// what it costs to reach it). Throughput counts acknowledged (or consumed
// and acked) messages over the time from the first send to the last ack.

// waitJetStream polls every member until its JetStream API answers for the
// account, which in a cluster needs an elected meta leader.
func waitJetStream(ctx context.Context, c *cluster, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for _, m := range c.members {
		if err := waitMemberJetStream(ctx, m); err != nil {
			return fmt.Errorf("%s: JetStream not ready within %v: %w", m.name, d, err)
		}
	}
	return nil
}

func waitMemberJetStream(ctx context.Context, m *member) error {
	nc, err := nats.Connect(m.clientURL, nats.NoReconnect(), nats.Timeout(opTimeout))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := js.AccountInfo(actx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond): // polling interval
		}
	}
}

// r3Names are a run's stream and subject.
func r3Names(run int) (stream, subject string) {
	return "CMP_R3_" + strconv.Itoa(run), "cmp.r3." + strconv.Itoa(run)
}

// createR3Stream creates the run's stream, three replicas on file storage,
// and returns a func that deletes it. A refusal is a setupError.
func createR3Stream(ctx context.Context, js jetstream.JetStream, run int) (func(), error) {
	name, subject := r3Names(run)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := js.CreateStream(cctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage, Replicas: 3,
	})
	if err != nil {
		return nil, &setupError{fmt.Errorf("create R3 stream: %w", err)}
	}
	return func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		_ = js.DeleteStream(dctx, name) // best effort: the store is temporary
	}, nil
}

// runR3Load runs a publish or consume scenario once on c.
func runR3Load(ctx context.Context, c *cluster, sc r3Scenario, run int, leader string) ([]r3Value, error) {
	var cs conns
	defer cs.close()
	errs := &errSink{}
	nc, err := cs.connect(c.members[srvA].clientURL, "r3", errs)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(r3Inflight),
		jetstream.WithPublishAsyncTimeout(stallTimeout))
	if err != nil {
		return nil, err
	}
	cleanup, err := createR3Stream(ctx, js, run)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	name, subject := r3Names(run)
	local := c.members[srvA].name
	if err := placeLeader(ctx, js, streamLeaderOf(js, name), "$JS.API.STREAM.LEADER.STEPDOWN."+name, local, leader); err != nil {
		return nil, err
	}
	payload := make([]byte, sc.size)
	var vals []r3Value
	switch sc.kind {
	case r3AsyncPub:
		cpu0, cpuErr := c.cpuTime()
		n, d, err := publishAsync(ctx, js, subject, payload, sc.msgs, r3LoadFor)
		if err != nil {
			return nil, err
		}
		cpu1, err := c.cpuTime()
		vals = []r3Value{{ok: true, tput: float64(n) / d.Seconds()},
			{ok: cpuErr == nil && err == nil, p50: float64(cpu1-cpu0) / float64(time.Microsecond) / float64(n)}}
	case r3SyncPub:
		vals, err = publishSync(ctx, js, subject, payload, sc.msgs, r3LoadFor)
	case r3Pull:
		place := func(consumer string) error {
			return placeLeader(ctx, js, consumerLeaderOf(js, name, consumer),
				"$JS.API.CONSUMER.LEADER.STEPDOWN."+name+"."+consumer, local, leader)
		}
		vals, err = pullConsume(ctx, js, c.cpuTime, place, run, subject, payload, sc.msgs)
	default:
		err = fmt.Errorf("scenario %q is not a load", sc.name)
	}
	if err == nil {
		err = errs.get()
	}
	return vals, err
}

// publishAsync publishes up to msgs messages, or as many as it can start
// within d, with r3Inflight acks outstanding, and returns how many were
// acknowledged and the time from the first send to the last ack.
func publishAsync(ctx context.Context, js jetstream.JetStream, subject string, payload []byte, msgs int, d time.Duration) (int, time.Duration, error) {
	acks := make(chan jetstream.PubAckFuture, r3Inflight)
	type outcome struct {
		n   int
		err error
	}
	done := make(chan outcome, 1)
	// Acks are checked in order on their own goroutine, so the publisher
	// keeps up to r3Inflight outstanding (PublishAsync blocks beyond).
	go func() {
		n := 0
		for f := range acks {
			select {
			case <-f.Ok():
				n++
			case err := <-f.Err():
				done <- outcome{n, fmt.Errorf("ack %d: %w", n+1, err)}
				for range acks { // let the publisher finish
				}
				return
			}
		}
		done <- outcome{n, nil}
	}()
	start := time.Now()
	end := start.Add(d)
	var pubErr error
	for i := 0; i < msgs && pubErr == nil && ctx.Err() == nil; i++ {
		if i&63 == 0 && time.Now().After(end) {
			break
		}
		// A full window blocks the send; the stall wait (200 ms by default)
		// is raised so a slow server is measured as slow, not as failing.
		f, err := js.PublishAsync(subject, payload, jetstream.WithStallWait(stallTimeout))
		if err != nil {
			pubErr = fmt.Errorf("publish %d: %w", i+1, err)
			break
		}
		acks <- f
	}
	close(acks)
	out := <-done
	elapsed := time.Since(start)
	if err := errors.Join(pubErr, out.err, ctx.Err()); err != nil {
		return out.n, elapsed, err
	}
	if out.n == 0 {
		return 0, elapsed, errors.New("no message acknowledged")
	}
	return out.n, elapsed, nil
}

// publishSync publishes one message at a time, each waiting for its ack,
// up to msgs or for d: msgs/s and the ack latency percentiles.
func publishSync(ctx context.Context, js jetstream.JetStream, subject string, payload []byte, msgs int, d time.Duration) ([]r3Value, error) {
	lat := make([]time.Duration, 0, min(msgs, 100_000))
	start := time.Now()
	end := start.Add(d)
	for i := 0; i < msgs && time.Now().Before(end); i++ {
		pctx, cancel := context.WithTimeout(ctx, opTimeout)
		t0 := time.Now()
		_, err := js.Publish(pctx, subject, payload)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("publish %d: %w", i+1, err)
		}
		lat = append(lat, time.Since(t0))
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return []r3Value{
		{ok: true, tput: float64(len(lat)) / elapsed.Seconds()},
		{ok: true, p50: us(nearestRank(lat, 50)), p99: us(nearestRank(lat, 99))},
	}, nil
}

// pullConsume fills the stream (untimed, bounded by r3FillFor), then reads
// it with a durable pull consumer in batches of r3Batch, acking each
// message, for at most r3LoadFor. The consumer's leader is placed (place)
// before the reading; the servers' CPU time (cpu) is taken around the
// reading only.
func pullConsume(ctx context.Context, js jetstream.JetStream, cpu func() (time.Duration, error), place func(consumer string) error, run int, subject string, payload []byte, msgs int) ([]r3Value, error) {
	filled, _, err := publishAsync(ctx, js, subject, payload, msgs, r3FillFor)
	if err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	name, _ := r3Names(run)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.CreateOrUpdateConsumer(cctx, name, jetstream.ConsumerConfig{
		Durable: "CMP_R3_PULL", AckPolicy: jetstream.AckExplicitPolicy,
	})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("create pull consumer: %w", err)
	}
	if err := place("CMP_R3_PULL"); err != nil {
		return nil, err
	}
	got := 0
	cpu0, cpuErr := cpu()
	start := time.Now()
	end := start.Add(r3LoadFor)
	for got < filled && time.Now().Before(end) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch, err := cons.Fetch(r3Batch, jetstream.FetchMaxWait(stallTimeout))
		if err != nil {
			return nil, fmt.Errorf("fetch after %d: %w", got, err)
		}
		n := 0
		for m := range batch.Messages() {
			if err := m.Ack(); err != nil {
				return nil, fmt.Errorf("ack %d: %w", got+n+1, err)
			}
			n++
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("fetch after %d: %w", got, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("stalled: a fetch returned nothing after %d of %d", got, filled)
		}
		got += n
	}
	// Acks are sent without a reply; the flush puts the last ones on the
	// server inside the measured time.
	if err := js.Conn().FlushTimeout(opTimeout); err != nil {
		return nil, fmt.Errorf("flush acks: %w", err)
	}
	elapsed := time.Since(start)
	cpu1, err := cpu()
	return []r3Value{{ok: true, tput: float64(got) / elapsed.Seconds()},
		{ok: cpuErr == nil && err == nil && got > 0, p50: float64(cpu1-cpu0) / float64(time.Microsecond) / float64(max(got, 1))}}, nil
}
