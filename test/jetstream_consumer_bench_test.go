package test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkJetStreamPullAck measures a pull consumer's round trip per
// message: fetched in batches of 100, each acknowledged (the ack path runs
// through the consumers' worker queues).
func BenchmarkJetStreamPullAck(b *testing.B) {
	s := startJS(b, "")
	nc, js := jsConnect(b, s)
	st := mustStream(b, js, jetstream.StreamConfig{Name: "PA", Subjects: []string{"pa"}})
	fillStream(b, nc, "pa", b.N, 128)
	cons, err := st.CreateConsumer(ctx(b), jetstream.ConsumerConfig{Durable: "q", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(128)
	b.ResetTimer()
	for n := 0; n < b.N; {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		for m := range batch.Messages() {
			m.Ack()
			n++
		}
	}
	b.StopTimer()
	// Every ack applied: nothing left pending.
	deadline := time.Now().Add(time.Minute)
	for {
		info, err := cons.Info(ctx(b))
		if err == nil && info.NumAckPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("acks not applied: %+v %v", info, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
