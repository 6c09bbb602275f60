package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxDeliverEvent is the part of a max-deliveries advisory tests read.
type maxDeliverEvent struct {
	Type       string `json:"type"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries int    `json:"deliveries"`
}

// TestJetStreamMaxDeliverEveryPath: max_deliver caps deliveries however
// a message comes back (NAK, NAK with a delay, ack wait, backoff), and the
// max-deliveries advisory says when it was given up.
func TestJetStreamMaxDeliverEveryPath(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "MD", Subjects: []string{"md.*"}})
	tests := []struct {
		name  string
		cfg   jetstream.ConsumerConfig
		after func(m jetstream.Msg) // what the client does with each delivery
	}{
		{"nak", jetstream.ConsumerConfig{}, func(m jetstream.Msg) { m.Nak() }},
		{"nak-delay", jetstream.ConsumerConfig{}, func(m jetstream.Msg) { m.NakWithDelay(50 * time.Millisecond) }},
		{"ack-wait", jetstream.ConsumerConfig{AckWait: 200 * time.Millisecond}, func(jetstream.Msg) {}},
		{"backoff", jetstream.ConsumerConfig{BackOff: []time.Duration{100 * time.Millisecond, 150 * time.Millisecond}}, func(jetstream.Msg) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Durable, cfg.FilterSubject, cfg.MaxDeliver = tt.name, "md."+tt.name, 2
			cons, err := st.CreateConsumer(c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			adv, _ := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.MD." + tt.name)
			nc.Flush()
			if _, err := js.Publish(c, "md."+tt.name, []byte("x")); err != nil {
				t.Fatal(err)
			}
			deliveries := 0
			for deliveries < 2 {
				m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
				if err != nil {
					t.Fatalf("delivery %d: %v", deliveries+1, err)
				}
				deliveries++
				if md, _ := m.Metadata(); md.NumDelivered != uint64(deliveries) {
					t.Fatalf("delivery %d says %d", deliveries, md.NumDelivered)
				}
				tt.after(m)
			}
			am, err := adv.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal("no max-deliveries advisory")
			}
			var ev maxDeliverEvent
			json.Unmarshal(am.Data, &ev)
			if ev.Type != "io.nats.jetstream.advisory.v1.max_deliver" || ev.Deliveries != 2 || ev.StreamSeq == 0 {
				t.Fatalf("advisory %s", am.Data)
			}
			// Never a third time.
			if m, err := cons.Next(jetstream.FetchMaxWait(500 * time.Millisecond)); err == nil {
				md, _ := m.Metadata()
				t.Fatalf("delivered again (delivery %d)", md.NumDelivered)
			}
			info, err := cons.Info(c)
			if err != nil || info.NumAckPending != 0 || info.AckFloor.Stream != ev.StreamSeq {
				t.Fatalf("info after giving up: %+v %v", info, err)
			}
		})
	}
}

// TestJetStreamStalePullRequests: requests left behind by a client that
// stopped consuming do not take the next messages.
func TestJetStreamStalePullRequests(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "SP", Subjects: []string{"sp"}})
	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { m.Ack() })
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() bool {
		info, err := cons.Info(c)
		return err == nil && info.NumWaiting > 0
	}, "the consume loop's pull request")
	cc.Stop()
	select {
	case <-cc.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("consume did not stop")
	}
	// The stopped loop's request (30s expiry) is still queued; the next
	// message must go to Next, not into it.
	js.Publish(c, "sp", []byte("1"))
	m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil || string(m.Data()) != "1" {
		t.Fatalf("next after a stopped consume: %v", err)
	}
	if md, _ := m.Metadata(); md.NumDelivered != 1 {
		t.Fatalf("delivered %d times: the stale request took it first", md.NumDelivered)
	}
	m.Ack()

	// A request whose subscriber went away is dropped from the queue.
	inbox := nats.NewInbox()
	sub, _ := nc.SubscribeSync(inbox)
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.SP.c", inbox, []byte(`{"batch":1,"expires":60000000000}`))
	eventually(t, 20*time.Second, func() bool { info, _ := cons.Info(c); return info.NumWaiting == 1 }, "the request queued")
	sub.Unsubscribe()
	// Generous for a loaded machine, and still well inside the request's
	// 60s expiry: it is dropped for its subscriber, not expired.
	eventually(t, 20*time.Second, func() bool { info, _ := cons.Info(c); return info.NumWaiting == 0 }, "the abandoned request dropped")
}

// TestJetStreamDeliverPolicyChecks: start options that do not go with
// the deliver policy are refused with nats-server's error.
func TestJetStreamDeliverPolicyChecks(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "DP", Subjects: []string{"dp.>"}})
	start := time.Now()
	for _, tt := range []struct {
		cfg  jetstream.ConsumerConfig
		want string
	}{
		{jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy},
			"consumer delivery policy is deliver by start sequence, but optional start sequence is not set"},
		{jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy},
			"consumer delivery policy is deliver by start time, but optional start time is not set"},
		{jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy, OptStartSeq: 4},
			"consumer delivery policy is deliver new, but optional start sequence is also set"},
		{jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPolicy, OptStartTime: &start},
			"consumer delivery policy is deliver last, but optional start time is also set"},
		{jetstream.ConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy},
			"consumer delivery policy is deliver last per subject, but optional filter subject is not set"},
	} {
		_, err := st.CreateConsumer(c, tt.cfg)
		if apiCode(err) != 10094 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v", tt.cfg, err)
		}
	}
	// The valid forms still work.
	for i, cfg := range []jetstream.ConsumerConfig{
		{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 1},
		{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start},
		{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy, FilterSubject: "dp.>"},
	} {
		cfg.Durable = fmt.Sprint("ok", i)
		if _, err := st.CreateConsumer(c, cfg); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// TestJetStreamWorkQueueUpdateOverlap: on a work queue, an update may not
// widen a consumer's filter into another consumer's subjects.
func TestJetStreamWorkQueueUpdateOverlap(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "WQ", Subjects: []string{"w.*"}, Retention: jetstream.WorkQueuePolicy})
	for _, f := range []string{"a", "b"} {
		if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: f, FilterSubject: "w." + f, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpdateConsumer(c, jetstream.ConsumerConfig{Durable: "b", FilterSubject: "w.*", AckPolicy: jetstream.AckExplicitPolicy}); apiCode(err) != 10100 {
		t.Fatalf("widened into a's subjects: %v", err)
	}
	if _, err := st.UpdateConsumer(c, jetstream.ConsumerConfig{Durable: "b", FilterSubject: "w.b", AckPolicy: jetstream.AckExplicitPolicy, Description: "ok"}); err != nil {
		t.Fatalf("update keeping its own subjects: %v", err)
	}
}
