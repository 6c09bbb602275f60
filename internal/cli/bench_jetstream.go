package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The JetStream publish run (--js): every publisher publishes its share to
// a stream and waits for the server's acknowledgements, with at most
// --inflight of them outstanding (1 is a synchronous publish). A message
// counts once it is acknowledged, so the rate includes whatever the server
// does before it acks: on Starling with its default, an fsync.

// benchStream is the stream the bench creates when none captures the
// subject; it is deleted at the end of the run.
const benchStream = "STARLING_BENCH"

func runJSPubBench(ctx context.Context, o *benchOpts, prog *progress) (*benchResult, error) {
	var clients benchClients
	defer clients.close()
	errs := newErrSink()
	pubs, err := connectPublishers(o, errs, &clients)
	if err != nil {
		return nil, err
	}
	if len(pubs) == 0 {
		return nil, usageErrorf("--js needs at least one publisher")
	}
	admin, err := o.conn.jetStream(pubs[0].nc)
	if err != nil {
		return nil, err
	}
	cleanup, err := ensureBenchStream(ctx, admin, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	epoch := time.Now()
	payload := make([]byte, o.size)
	for _, p := range pubs {
		js, err := o.conn.jetStream(p.nc, jetstream.WithPublishAsyncMaxPending(o.inflight))
		if err != nil {
			return nil, err
		}
		clients.wg.Add(1)
		go func() {
			defer clients.wg.Done()
			runJSPub(ctx, p, js, o, payload, epoch, errs)
		}()
	}
	w := &waiter{errs: errs, stall: o.stall, prog: prog, armed: true}
	for _, p := range pubs {
		w.goals = append(w.goals, p.g)
	}
	w.status = func() string { return pubSubStatus(pubs, nil, nil) }
	if err := w.wait(ctx); err != nil {
		return nil, err
	}
	if err := errs.pending(); err != nil {
		return nil, err
	}
	r := newResult(o)
	r.scenario = scenarioJSPub
	for _, p := range pubs {
		r.pubSamples = append(r.pubSamples, p.result)
	}
	return r, nil
}

// ensureBenchStream makes sure a stream captures the subject, creating one
// (file storage unless --js-memory) if needed; the returned func deletes a
// stream the bench created.
func ensureBenchStream(ctx context.Context, js jetstream.JetStream, o *benchOpts) (func(), error) {
	cctx, cancel := context.WithTimeout(ctx, o.conn.timeout)
	defer cancel()
	if name, err := js.StreamNameBySubject(cctx, o.subject); err == nil && name != "" {
		return func() {}, nil
	}
	storage := jetstream.FileStorage
	if o.jsMemory {
		storage = jetstream.MemoryStorage
	}
	_, err := js.CreateStream(cctx, jetstream.StreamConfig{Name: benchStream, Subjects: []string{o.subject}, Storage: storage})
	if err != nil {
		return nil, fmt.Errorf("create stream %s for %q: %w", benchStream, o.subject, err)
	}
	return func() {
		dctx, dcancel := context.WithTimeout(context.Background(), o.conn.timeout)
		defer dcancel()
		_ = js.DeleteStream(dctx, benchStream)
	}, nil
}

func runJSPub(ctx context.Context, p *benchPub, js jetstream.JetStream, o *benchOpts, payload []byte, epoch time.Time, errs *errSink) {
	count := int(p.g.want)
	ackTimeout := max(o.conn.timeout, o.stall)
	start := time.Since(epoch)
	if o.inflight <= 1 {
		for i := 0; i < count; i++ {
			pctx, cancel := context.WithTimeout(ctx, ackTimeout)
			_, err := js.Publish(pctx, o.subject, payload)
			cancel()
			if err != nil {
				errs.report(fmt.Errorf("publisher %d: message %d: %w", p.id, i+1, err))
				return
			}
			p.g.progress(i + 1)
		}
	} else {
		acks := make(chan jetstream.PubAckFuture, o.inflight)
		done := make(chan error, 1)
		// Acks are checked in order on a second goroutine, so the
		// publisher keeps --inflight outstanding.
		go func() {
			n := 0
			for f := range acks {
				select {
				case <-f.Ok():
					n++
					if n&255 == 0 {
						p.g.progress(n)
					}
				case err := <-f.Err():
					done <- fmt.Errorf("publisher %d: ack %d: %w", p.id, n+1, err)
					for range acks {
					}
					return
				}
			}
			done <- nil
		}()
		var pubErr error
		for i := 0; i < count && pubErr == nil; i++ {
			f, err := js.PublishAsync(o.subject, payload)
			if err != nil {
				pubErr = fmt.Errorf("publisher %d: message %d: %w", p.id, i+1, err)
				break
			}
			acks <- f
		}
		close(acks)
		if err := errors.Join(pubErr, <-done); err != nil {
			errs.report(err)
			return
		}
	}
	end := time.Since(epoch)
	p.result = sample{msgs: int64(count), bytes: int64(count) * int64(len(payload)), start: start, end: end}
	p.g.finish()
}
