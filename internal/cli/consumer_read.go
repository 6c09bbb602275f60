package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reading through a consumer: `next` fetches a batch from a pull consumer,
// `sub` consumes continuously from a pull or push consumer with the
// client's callback API. Both print messages as `stream get` does and ack
// each one unless the consumer takes no acks; the acks are flushed (a
// round trip bounded by --timeout) before the command ends, so the server
// has them when it returns.

// maxFetch bounds one `consumer next`: the client buffers the whole batch.
const maxFetch = 100_000

func runConsumerNext(ctx context.Context, e *env, args []string) error {
	var count int
	var noAck bool
	c, pos, err := actionCmd(e, args, "consumer", "next", "<stream> <name>",
		"Fetch up to --count messages from a pull consumer, waiting at most --timeout,\n"+
			"print them and acknowledge them.", 2, 2, func(f *flagSet) {
			f.intVar(&count, "count", "", 1, "messages to fetch")
			f.boolVar(&noAck, "no-ack", "", "leave them unacknowledged (they are redelivered after the ack wait)")
		})
	if err != nil {
		return err
	}
	if count < 1 || count > maxFetch {
		return usageErrorf("--count must be from 1 to %s", commaInt(maxFetch))
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	cons, err := pullConsumer(ctx, s, pos[0], pos[1])
	if err != nil {
		return err
	}
	batch, err := cons.Fetch(count, jetstream.FetchMaxWait(s.timeout))
	if err != nil {
		return consumerErr(s, pos[0], pos[1], err)
	}
	ack := !noAck && cons.CachedInfo().Config.AckPolicy != jetstream.AckNonePolicy
	n := 0
	for m := range batch.Messages() {
		if err := printAndAck(e.stdout, m, ack); err != nil {
			return err
		}
		n++
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
		return consumerErr(s, pos[0], pos[1], err)
	}
	if n == 0 {
		return fmt.Errorf("no message from consumer %s within %v (--timeout)", pos[1], s.timeout)
	}
	return flushAcks(s, ack)
}

// pullConsumer looks up a consumer that `next` can fetch from.
func pullConsumer(ctx context.Context, s *jsSession, stream, name string) (jetstream.Consumer, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	cons, err := s.js.Consumer(cctx, stream, name)
	if errors.Is(err, jetstream.ErrNotPullConsumer) {
		return nil, fmt.Errorf("consumer %s is a push consumer: read it with 'starling consumer sub'", name)
	}
	if err != nil {
		return nil, consumerErr(s, stream, name, err)
	}
	return cons, nil
}

// printAndAck writes m as `stream get` shows a stored message, then acks
// it when ack is set.
func printAndAck(w io.Writer, m jetstream.Msg, ack bool) error {
	if _, err := io.WriteString(w, consumedText(m)); err != nil {
		return err
	}
	if !ack {
		return nil
	}
	if err := m.Ack(); err != nil {
		return fmt.Errorf("ack: %w", err)
	}
	return nil
}

// flushAcks makes sure the server has processed the acks published so far.
func flushAcks(s *jsSession, acked bool) error {
	if !acked {
		return nil
	}
	if err := s.nc.FlushTimeout(s.timeout); err != nil {
		return fmt.Errorf("flush acks: %w", err)
	}
	return nil
}

func runConsumerSub(ctx context.Context, e *env, args []string) error {
	var count int
	var noAck bool
	c, pos, err := actionCmd(e, args, "consumer", "sub", "<stream> <name>",
		"Consume a pull or push consumer continuously, printing and acknowledging each\n"+
			"message, until interrupted or --count messages have arrived.", 2, 2, func(f *flagSet) {
			f.intVar(&count, "count", "", 0, "stop after this many messages (0: until interrupted)")
			f.boolVar(&noAck, "no-ack", "", "leave them unacknowledged")
		})
	if err != nil {
		return err
	}
	if count < 0 {
		return usageErrorf("--count must not be negative")
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	info, err := consumerInfo(ctx, s, pos[0], pos[1])
	if err != nil {
		return err
	}
	r := &consumeRun{w: e.stdout, logf: e.logf, limit: count, done: make(chan struct{}),
		ack: !noAck && info.Config.AckPolicy != jetstream.AckNonePolicy}
	cc, err := startConsume(ctx, s, info, r)
	if err != nil {
		return consumerErr(s, pos[0], pos[1], err)
	}
	select {
	case <-ctx.Done():
	case <-r.done:
	}
	cc.Stop()
	if err := r.result(); err != nil {
		return consumerErr(s, pos[0], pos[1], err)
	}
	return flushAcks(s, r.ack)
}

// startConsume starts the client's callback consumer of the right kind.
// A pull consumer stops by itself after limit messages (StopAfter keeps it
// from pulling more than it needs); a push one is stopped by the caller.
func startConsume(ctx context.Context, s *jsSession, info *jetstream.ConsumerInfo, r *consumeRun) (jetstream.ConsumeContext, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	onErr := jetstream.ConsumeErrHandler(r.consumeErr)
	if info.Config.DeliverSubject != "" {
		push, err := s.js.PushConsumer(cctx, info.Stream, info.Name)
		if err != nil {
			return nil, err
		}
		return push.Consume(r.handle, onErr)
	}
	cons, err := s.js.Consumer(cctx, info.Stream, info.Name)
	if err != nil {
		return nil, err
	}
	opts := []jetstream.PullConsumeOpt{onErr}
	if r.limit > 0 {
		opts = append(opts, jetstream.StopAfter(r.limit))
	}
	return cons.Consume(r.handle, opts...)
}

// consumeRun is the state the Consume callbacks share. The client calls
// handle from one goroutine per subscription and consumeErr from others,
// so the fields are guarded by mu.
type consumeRun struct {
	w     io.Writer
	logf  func(format string, a ...any)
	limit int
	ack   bool

	mu      sync.Mutex
	n       int
	err     error
	stopped bool
	done    chan struct{} // closed once by stop
}

func (r *consumeRun) handle(m jetstream.Msg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return // arrived after the last one wanted: left for redelivery
	}
	if err := printAndAck(r.w, m, r.ack); err != nil {
		r.stopLocked(err)
		return
	}
	if r.n++; r.limit > 0 && r.n >= r.limit {
		r.stopLocked(nil)
	}
}

// consumeErr ends the run when the consumer is gone; other errors (a
// missed heartbeat, a reconnect) are reported and the client carries on.
func (r *consumeRun) consumeErr(_ jetstream.ConsumeContext, err error) {
	if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
		r.mu.Lock()
		r.stopLocked(err)
		r.mu.Unlock()
		return
	}
	r.logf("consume: %v", err)
}

func (r *consumeRun) stopLocked(err error) {
	if r.stopped {
		return
	}
	r.stopped, r.err = true, err
	close(r.done)
}

func (r *consumeRun) result() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
