package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consumers run on a shared scheduler: with no goroutine of their own,
// what used to be noticed by each consumer's periodic wake-up (a
// subscriber appearing or leaving, a request's client going away) must
// still be noticed. These tests pin those behaviours.

// TestSchedPushSubscriberAppears: a durable push consumer created before
// anyone subscribes to its deliver subject starts delivering once a
// subscriber appears, and stops when it leaves.
func TestSchedPushSubscriberAppears(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "SP", Subjects: []string{"sp.>"}})
	if _, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "d",
		DeliverSubject: "late.sub", AckPolicy: jetstream.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := js.Publish(ctx(t), "sp.x", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := nc.SubscribeSync("late.sub")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("delivery %d: %v %v", i, m, err)
		}
	}
	if info := schedConsumerInfo(t, nc, "SP", "d"); info == nil || !info.PushBound {
		t.Fatalf("push bound with a subscriber: %+v", info)
	}
}

// TestSchedEphemeralPushGoesWhenSubscriberLeaves: an ephemeral push
// consumer lives while its subscriber does (past its inactive threshold)
// and is removed once the subscriber left and the threshold passed.
func TestSchedEphemeralPushGoesWhenSubscriberLeaves(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "SE", Subjects: []string{"se.>"}})
	sub, err := nc.SubscribeSync("eph.deliver")
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	const thr = 300 * time.Millisecond
	if _, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Name: "e",
		DeliverSubject: "eph.deliver", AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: thr}); err != nil {
		t.Fatal(err)
	}
	// A window several thresholds long, in which it must stay: this is a
	// check that nothing happens, so it has to wait.
	time.Sleep(4 * thr)
	if schedConsumerInfo(t, nc, "SE", "e") == nil {
		t.Fatal("removed while its subscriber is there")
	}
	if _, err := js.Publish(ctx(t), "se.x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "1" {
		t.Fatalf("delivery: %v %v", m, err)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() bool { return schedConsumerInfo(t, nc, "SE", "e") == nil },
		"the ephemeral consumer to go after its subscriber left")
}

// TestSchedPullInactiveAndAbandonedRequest: an ephemeral pull consumer
// whose only request's client went away (no expiry, so only the interest
// check can drop it) is removed after its inactive threshold; one that
// keeps getting requests stays.
func TestSchedPullInactiveAndAbandonedRequest(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "SQ", Subjects: []string{"sq.>"}})
	const thr = 300 * time.Millisecond
	if _, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Name: "p",
		AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: thr}); err != nil {
		t.Fatal(err)
	}
	other := connect(t, s)
	inbox := nats.NewInbox()
	if _, err := other.SubscribeSync(inbox); err != nil {
		t.Fatal(err)
	}
	if err := other.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.SQ.p", inbox, []byte(`{"batch":1}`)); err != nil {
		t.Fatal(err)
	}
	other.Flush()
	eventually(t, 5*time.Second, func() bool {
		c, err := st.Consumer(ctx(t), "p")
		return err == nil && c.CachedInfo().NumWaiting == 1
	}, "the request to wait")
	other.Close() // the request's client goes away
	eventually(t, 10*time.Second, func() bool {
		_, err := st.Consumer(ctx(t), "p")
		return errors.Is(err, jetstream.ErrConsumerNotFound)
	}, "the pull consumer to go once its only request was abandoned")
}

// TestSchedPullFetchLongerThanThreshold: a fetch that waits longer than
// the consumer's inactive threshold keeps it: the threshold counts from
// when the fetch's request ended, as nats-server counts it.
func TestSchedPullFetchLongerThanThreshold(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "SF", Subjects: []string{"sf.>"}})
	c, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "p",
		AckPolicy: jetstream.AckExplicitPolicy, InactiveThreshold: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
		t.Fatal("a message from an empty stream")
	}
	if _, err := st.Consumer(ctx(t), "p"); err != nil {
		t.Fatalf("the consumer went when its 3 s fetch ended (threshold 2 s): %v", err)
	}
}

// TestSchedManyConsumersOneBacklog: with a push consumer working through
// thousands of messages and 200 pull consumers on the same stream, each
// pull consumer gets its own message and the backlog arrives complete and
// in order (turns are bounded and interleaved; the fairness bound itself
// is TestSchedulerFairness in internal/consumer).
func TestSchedManyConsumersOneBacklog(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "SB", Subjects: []string{"sb.>"}})
	const backlog = 5000
	for i := range backlog {
		if err := nc.Publish("sb.bulk", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, func() bool {
		info, err := st.Info(ctx(t))
		return err == nil && info.State.Msgs == backlog
	}, "the backlog to be stored")
	bulk, err := nc.SubscribeSync("bulk.deliver")
	if err != nil {
		t.Fatal(err)
	}
	if err := bulk.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: "bulk",
		DeliverSubject: "bulk.deliver", FilterSubject: "sb.bulk", AckPolicy: jetstream.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	cons := make([]jetstream.Consumer, n)
	for i := range n {
		c, err := st.CreateOrUpdateConsumer(ctx(t), jetstream.ConsumerConfig{Durable: fmt.Sprint("q", i),
			FilterSubject: fmt.Sprint("sb.q.", i), AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		cons[i] = c
	}
	for i := range n {
		if _, err := js.Publish(ctx(t), fmt.Sprint("sb.q.", i), []byte("mine")); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cons {
		m, err := c.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil || m.Subject() != fmt.Sprint("sb.q.", i) {
			t.Fatalf("consumer %d: %v", i, err)
		}
	}
	for i := range backlog {
		m, err := bulk.NextMsg(10 * time.Second)
		if err != nil || string(m.Data) != fmt.Sprint(i) {
			t.Fatalf("backlog message %d: %v", i, err)
		}
	}
}

// schedConsumerInfo asks CONSUMER.INFO directly (nats.go's jetstream
// package refuses push consumers); nil when the consumer does not exist.
func schedConsumerInfo(t *testing.T, nc *nats.Conn, stream, name string) *jetstream.ConsumerInfo {
	t.Helper()
	resp, err := nc.Request("$JS.API.CONSUMER.INFO."+stream+"."+name, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		jetstream.ConsumerInfo
		Error *struct {
			ErrCode int `json:"err_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		t.Fatalf("consumer info %s: %v", resp.Data, err)
	}
	if r.Error != nil {
		if r.Error.ErrCode != 10014 {
			t.Fatalf("consumer info: %s", resp.Data)
		}
		return nil
	}
	return &r.ConsumerInfo
}
