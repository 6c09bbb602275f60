package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/internal/histcheck"
)

// The JetStream workloads run against a cluster while faults are
// injected, and record what their clients were told, for histcheck to
// judge afterwards. Each runs until its context ends, every operation
// bounded by OpTimeout, and every count capped, so a workload's memory
// and the checker's work stay bounded whatever the faults do.

// OpTimeout bounds one JetStream operation of a workload: long enough for
// a leader election to finish within it on a loaded machine, short
// enough that a client stuck behind a dead server moves on.
const OpTimeout = 3 * time.Second

// Publisher publishes numbered messages to a stream, each with a
// Nats-Msg-Id, and retries one message with the same ID on an error or a
// timeout (the stream's duplicate window makes the retries safe), so a
// message is either acked once or given up on with an unknown outcome.
type Publisher struct {
	Name    string // the payload's publisher name; IDs are Name:seq
	Subject string
	Size    int           // payload size
	Max     int           // messages at most
	Retries int           // attempts per message beyond the first
	Every   time.Duration // one message per tick at most
	Backoff time.Duration // the wait after a failed attempt

	mu      sync.Mutex
	history []histcheck.Publish
	errs    errSample
}

// Run publishes through js until ctx ends or Max messages were tried.
func (p *Publisher) Run(ctx context.Context, js jetstream.JetStream) {
	for seq := uint64(1); int(seq) <= p.Max && ctx.Err() == nil; seq++ {
		pause(ctx, p.Every)
		id := fmt.Sprintf("%s:%d", p.Name, seq)
		data := Payload(p.Name, seq, p.Size)
		rec := histcheck.Publish{ID: id}
		for attempt := 0; attempt <= p.Retries && ctx.Err() == nil; attempt++ {
			actx, cancel := context.WithTimeout(ctx, OpTimeout)
			ack, err := js.Publish(actx, p.Subject, data, jetstream.WithMsgID(id), jetstream.WithRetryAttempts(0))
			cancel()
			if err == nil {
				rec.Acked, rec.Seq = true, ack.Sequence
				break
			}
			p.count(err)
			// A stream without a leader answers at once ("no response
			// from stream"): without a wait, every attempt of a message
			// would be spent within the election.
			pause(ctx, p.Backoff)
		}
		p.mu.Lock()
		p.history = append(p.history, rec)
		p.mu.Unlock()
	}
}

func (p *Publisher) count(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs.add(err)
}

// History returns what the publisher was told so far.
func (p *Publisher) History() []histcheck.Publish {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]histcheck.Publish(nil), p.history...)
}

// Failed counts the attempts that returned an error, and lists the
// first few distinct errors.
func (p *Publisher) Failed() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errs.n, slices.Clone(p.errs.first)
}

// errSample counts errors and keeps the first few distinct ones, for the
// log. Its owner locks it.
type errSample struct {
	n     int
	first []string
}

func (e *errSample) add(err error) {
	e.n++
	if s := trimErr(err); len(e.first) < 5 && !slices.Contains(e.first, s) {
		e.first = append(e.first, s)
	}
}

// Puller fetches from a durable pull consumer and acks each message with
// a confirmed ack (AckSync), recording every delivery and every ack the
// server confirmed, by message ID.
type Puller struct {
	Batch int // messages per fetch
	Max   int // deliveries recorded at most

	mu        sync.Mutex
	delivered []string
	confirmed []string
	problems  []string
}

// Run fetches until ctx ends. The consumer is looked up again after an
// error: it may have moved with its stream's leader.
func (p *Puller) Run(ctx context.Context, js jetstream.JetStream, stream, durable string) {
	for ctx.Err() == nil && p.count() < p.Max {
		if err := p.Round(ctx, js, stream, durable); err != nil {
			pause(ctx, 50*time.Millisecond) // a failed fetch is not retried in a spin
		}
	}
}

// Round fetches one batch and acks what came.
func (p *Puller) Round(ctx context.Context, js jetstream.JetStream, stream, durable string) error {
	lctx, cancel := context.WithTimeout(ctx, OpTimeout)
	cons, err := js.Consumer(lctx, stream, durable)
	cancel()
	if err != nil {
		return err
	}
	batch, err := cons.Fetch(p.Batch, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		return err
	}
	for m := range batch.Messages() {
		pub, seq, err := ParsePayload(m.Data())
		if err != nil {
			p.note(err.Error())
			continue
		}
		id := fmt.Sprintf("%s:%d", pub, seq)
		p.mu.Lock()
		p.delivered = append(p.delivered, id)
		p.mu.Unlock()
		actx, cancel := context.WithTimeout(ctx, OpTimeout)
		err = m.DoubleAck(actx)
		cancel()
		if err == nil {
			p.mu.Lock()
			p.confirmed = append(p.confirmed, id)
			p.mu.Unlock()
		}
	}
	return batch.Error()
}

func (p *Puller) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.delivered)
}

func (p *Puller) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.problems) < 20 {
		p.problems = append(p.problems, s)
	}
}

// Deliveries returns the IDs delivered and the IDs whose ack the server
// confirmed, in order, and any payload that could not be read.
func (p *Puller) Deliveries() (delivered, confirmed, problems []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.delivered...), append([]string(nil), p.confirmed...), append([]string(nil), p.problems...)
}

// KVClient runs random puts, compare-and-set updates and reads on a few
// keys of a bucket, recording each operation's interval and outcome. A
// write that times out or fails other than by a refused CAS has an
// unknown outcome. Reads go to the stream leader ($JS.API.STREAM.MSG.GET,
// not a direct get, which any replica may answer from a stale copy), so a
// linearizable store must pass the check.
type KVClient struct {
	ID     int
	Keys   []string
	Every  time.Duration // one operation per tick
	Max    int           // operations at most
	Clock  *Clock
	Bucket string

	mu   sync.Mutex
	ops  []histcheck.KVOp
	errs errSample
}

// Run operates on kv until ctx ends; nc is for the reads. rnd draws the
// operations (a generator from Cluster.Rand).
func (k *KVClient) Run(ctx context.Context, nc *nats.Conn, kv jetstream.KeyValue, rnd func(n int) int) {
	tick := time.NewTicker(k.Every)
	defer tick.Stop()
	lastRev := map[string]uint64{} // the last revision this client saw per key, for CAS
	for n := 0; n < k.Max; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		key := k.Keys[rnd(len(k.Keys))]
		value := fmt.Sprintf("c%d-%d", k.ID, n)
		op := histcheck.KVOp{Client: k.ID, Key: key, Call: k.Clock.Now()}
		octx, cancel := context.WithTimeout(ctx, OpTimeout)
		switch rnd(3) {
		case 0:
			op.Kind, op.Value = histcheck.KVPut, value
			rev, err := kv.Put(octx, key, []byte(value))
			op.Known, op.OK, op.Rev = err == nil, err == nil, rev
			k.failed(err)
		case 1:
			op.Kind, op.Value, op.Expect = histcheck.KVUpdate, value, lastRev[key]
			rev, err := kv.Update(octx, key, []byte(value), op.Expect)
			switch {
			case err == nil:
				op.Known, op.OK, op.Rev = true, true, rev
			case isWrongLast(err):
				op.Known = true
			default:
				k.failed(err)
			}
		default:
			op.Kind = histcheck.KVGet
			got, rev, found, err := leaderGet(octx, nc, k.Bucket, key)
			if err == nil {
				op.Known, op.OK, op.Rev, op.Got = true, found, rev, got
				if found {
					lastRev[key] = rev
				}
			}
			k.failed(err)
		}
		cancel()
		op.Return = k.Clock.Now()
		if op.Kind != histcheck.KVGet && op.OK {
			lastRev[key] = op.Rev
		}
		k.mu.Lock()
		k.ops = append(k.ops, op)
		k.mu.Unlock()
	}
}

// failed notes an operation's error, if any.
func (k *KVClient) failed(err error) {
	if err == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.errs.add(err)
}

// Failed counts the operations that returned an error, and lists the
// first few distinct errors.
func (k *KVClient) Failed() (int, []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.errs.n, slices.Clone(k.errs.first)
}

// Ops returns the recorded history.
func (k *KVClient) Ops() []histcheck.KVOp {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]histcheck.KVOp(nil), k.ops...)
}

// isWrongLast reports a CAS the stream refused because the key's last
// revision differed: a known outcome, nothing written. nats-server 2.11
// answers with a newer error code than 2.9 (10164, not 10071); the client
// marks both with ErrKeyRevisionMismatch.
func isWrongLast(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
		errors.As(err, &api) && api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Clock gives operation times from the monotonic clock, as wall times
// (porcupine compares UnixNano), so a wall-clock step cannot reorder
// them.
type Clock struct{ start time.Time }

// NewClock starts a clock.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Now is the start's wall time plus the monotonic time since.
func (c *Clock) Now() time.Time { return c.start.Add(time.Since(c.start)) }

// pause waits d or until ctx ends: a workload's pacing, not a wait for a
// condition.
func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// trimErr shortens an error for a log line.
func trimErr(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
