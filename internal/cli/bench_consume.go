package cli

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream consume and KV runs. The setup (filling the stream, creating
// the consumer or bucket) is not timed; each run's figure is one client's
// messages (or operations) per second:
//
//	--consume pull   a durable pull consumer, explicit acks, fetches of 100
//	--consume push   a push consumer (ack none) on a deliver subject
//	--kv put         KV puts, one at a time
//	--kv get         KV gets, one at a time, of keys put in the setup

const consumeBatch = 100

func runJSConsumeBench(ctx context.Context, o *benchOpts, prog *progress) (*benchResult, error) {
	var clients benchClients
	defer clients.close()
	errs := newErrSink()
	nc, err := connectClient(o, "consumer", 1, errs)
	if err != nil {
		return nil, err
	}
	clients.add(nc)
	js, err := o.conn.jetStream(nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		return nil, err
	}
	cleanup, err := ensureBenchStream(ctx, js, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	payload := make([]byte, o.size)
	prog.draw(fmt.Sprintf("filling the stream with %s messages", commaInt(int64(o.msgs))))
	for i := 0; i < o.msgs; i++ {
		if _, err := js.PublishAsync(o.subject, payload); err != nil {
			return nil, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(max(o.stall, time.Minute)):
		return nil, fmt.Errorf("filling the stream: acks did not arrive")
	}
	stream, err := js.StreamNameBySubject(ctx, o.subject)
	if err != nil {
		return nil, err
	}
	g := newGoal(o.msgs)
	start := time.Now()
	var count atomic.Int64
	switch o.consume {
	case "pull":
		cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "STARLING_BENCH_PULL",
			AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: o.subject})
		if err != nil {
			return nil, err
		}
		defer js.DeleteConsumer(context.Background(), stream, "STARLING_BENCH_PULL")
		clients.wg.Add(1)
		go func() {
			defer clients.wg.Done()
			for count.Load() < int64(o.msgs) {
				batch, err := cons.Fetch(consumeBatch, jetstream.FetchMaxWait(o.stall))
				if err != nil {
					errs.report(err)
					return
				}
				for m := range batch.Messages() {
					if err := m.Ack(); err != nil {
						errs.report(err)
						return
					}
					n := count.Add(1)
					g.progress(int(n))
				}
				if err := batch.Error(); err != nil {
					errs.report(err)
					return
				}
			}
			g.finish()
		}()
	case "push":
		inbox := nats.NewInbox()
		sub, err := nc.Subscribe(inbox, func(m *nats.Msg) {
			if len(m.Data) == 0 && m.Header.Get("Status") != "" {
				return // heartbeat
			}
			n := count.Add(1)
			g.progress(int(n))
			if n == int64(o.msgs) {
				g.finish()
			}
		})
		if err != nil {
			return nil, err
		}
		msgLimit, bytesLimit := pendingLimits(o.msgs, int(o.size))
		if err := sub.SetPendingLimits(msgLimit, bytesLimit); err != nil {
			return nil, err
		}
		if err := nc.FlushTimeout(o.conn.timeout); err != nil {
			return nil, err
		}
		start = time.Now()
		if _, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{Durable: "STARLING_BENCH_PUSH",
			AckPolicy: jetstream.AckNonePolicy, DeliverSubject: inbox, FilterSubject: o.subject}); err != nil {
			return nil, err
		}
		defer js.DeleteConsumer(context.Background(), stream, "STARLING_BENCH_PUSH")
	default:
		return nil, usageErrorf("--consume must be pull or push")
	}
	w := &waiter{errs: errs, stall: o.stall, prog: prog, armed: true, goals: []*goal{g}}
	w.status = func() string { return countLine("consumed", g.count(), g.want) }
	if err := w.wait(ctx); err != nil {
		return nil, err
	}
	if err := errs.pending(); err != nil {
		return nil, err
	}
	r := newResult(o)
	r.scenario = scenarioJSConsume
	r.pubs, r.subs = 0, 1
	r.subSamples = []sample{{msgs: int64(o.msgs), bytes: int64(o.msgs) * int64(o.size), end: time.Since(start)}}
	return r, nil
}

func runKVBench(ctx context.Context, o *benchOpts, prog *progress) (*benchResult, error) {
	var clients benchClients
	defer clients.close()
	errs := newErrSink()
	nc, err := connectClient(o, "kv", 1, errs)
	if err != nil {
		return nil, err
	}
	clients.add(nc)
	js, err := o.conn.jetStream(nc)
	if err != nil {
		return nil, err
	}
	bucket := "STARLING_BENCH"
	storage := jetstream.FileStorage
	if o.jsMemory {
		storage = jetstream.MemoryStorage
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, Storage: storage})
	if err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	defer js.DeleteKeyValue(context.Background(), bucket)
	payload := make([]byte, o.size)
	const keys = 1000
	if o.kv == "get" {
		prog.draw("putting the keys")
		for i := range keys {
			if _, err := kv.Put(ctx, "k"+strconv.Itoa(i), payload); err != nil {
				return nil, err
			}
		}
	}
	g := newGoal(o.msgs)
	start := time.Now()
	clients.wg.Add(1)
	go func() {
		defer clients.wg.Done()
		for i := 0; i < o.msgs; i++ {
			key := "k" + strconv.Itoa(i%keys)
			opCtx, cancel := context.WithTimeout(ctx, o.stall)
			var err error
			if o.kv == "put" {
				_, err = kv.Put(opCtx, key, payload)
			} else {
				_, err = kv.Get(opCtx, key)
			}
			cancel()
			if err != nil {
				errs.report(fmt.Errorf("kv %s %s: %w", o.kv, key, err))
				return
			}
			g.progress(i + 1)
		}
		g.finish()
	}()
	w := &waiter{errs: errs, stall: o.stall, prog: prog, armed: true, goals: []*goal{g}}
	w.status = func() string { return countLine("operations", g.count(), g.want) }
	if err := w.wait(ctx); err != nil {
		return nil, err
	}
	if err := errs.pending(); err != nil {
		return nil, err
	}
	r := newResult(o)
	r.scenario = scenarioKV
	r.pubSamples = []sample{{msgs: int64(o.msgs), bytes: int64(o.msgs) * int64(o.size), end: time.Since(start)}}
	return r, nil
}
