package test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestJetStreamMessagesBackIntoJetStream: what a consumer sends while it
// holds its state (heartbeats, timeouts, deliveries) can land on subjects
// JetStream serves itself: its own ack subject, the pull API, a memory
// stream capturing inboxes that answers with a pub ack on the delivery's
// ack subject. None of it may stall the server's deliveries (each of
// these used to deadlock every consumer).
func TestJetStreamMessagesBackIntoJetStream(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	c := ctx(t)
	st := mustStream(t, js, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.*"}})
	mustStream(t, js, jetstream.StreamConfig{Name: "CAP", Subjects: []string{"cap.>"}, Storage: jetstream.MemoryStorage})
	watch := func(subj string) *nats.Subscription {
		sub, err := nc.SubscribeSync(subj)
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	loopAcks, pAcks, capAcks := watch("$JS.ACK.R.loop.>"), watch("$JS.ACK.R.p.>"), watch("$JS.ACK.R.cap.>")
	nc.Flush()
	// A push consumer heartbeating onto its own ack subject.
	if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "loop", FilterSubject: "r.a",
		DeliverSubject: "$JS.ACK.R.loop.1.1.1.1.0", AckPolicy: jetstream.AckExplicitPolicy, IdleHeartbeat: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	// A pull request timing out onto its consumer's ack subject.
	for _, name := range []string{"p", "cap"} {
		if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: name, FilterSubject: "r." + name, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatal(err)
		}
	}
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.R.p", "$JS.ACK.R.p.1.1.1.1.0", []byte(`{"batch":5,"expires":100000000}`))
	// A delivery into a memory stream, which acks it on the ack subject.
	nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.R.cap", "cap.inbox", []byte(`{"batch":1,"expires":5000000000}`))
	nc.Flush()
	js.Publish(c, "r.cap", []byte("captured"))
	for _, tt := range []struct {
		sub  *nats.Subscription
		what string
	}{{loopAcks, "heartbeat"}, {pAcks, "timeout"}, {capAcks, "pub ack"}} {
		if _, err := tt.sub.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("no %s on the ack subject: %v", tt.what, err)
		}
	}
	other, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "other", FilterSubject: "r.c", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		js.Publish(c, "r.c", []byte("x"))
		m, err := other.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("delivery %d stalled: %v", i, err)
		}
		m.Ack()
		// Another heartbeat went round meanwhile.
		if _, err := loopAcks.NextMsg(5 * time.Second); err != nil {
			t.Fatalf("heartbeats stopped: %v", err)
		}
	}
}
