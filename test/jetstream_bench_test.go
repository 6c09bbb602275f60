package test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkJetStreamPublish measures acknowledged publishes to a file
// stream with the safe default (sync before ack), synchronously and with
// 256 acks in flight. Compare with nats-server using starling bench --js
// (bench/compare.sh --js).
func BenchmarkJetStreamPublish(b *testing.B) {
	for _, bc := range []struct {
		name     string
		inflight int
	}{{"sync", 1}, {"async256", 256}} {
		b.Run(bc.name, func(b *testing.B) {
			s := startJS(b, "")
			_, js := jsConnect(b, s)
			// Not ctx(b): b.N is unbounded in time by design.
			c := context.Background()
			mustStream(b, js, jetstream.StreamConfig{Name: "B", Subjects: []string{"b"}})
			payload := make([]byte, 128)
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			if bc.inflight == 1 {
				for range b.N {
					if _, err := js.Publish(c, "b", payload); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			ajs, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(bc.inflight))
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				if _, err := ajs.PublishAsync("b", payload); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-ajs.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("acks did not arrive")
			}
		})
	}
}

// BenchmarkJetStreamConsume measures delivery from a filled file stream to
// a push consumer (ack none) and a pull consumer (explicit acks, batches
// of 100).
func BenchmarkJetStreamConsume(b *testing.B) {
	for _, mode := range []string{"push", "pull"} {
		b.Run(mode, func(b *testing.B) {
			s := startJS(b, "")
			nc, js := jsConnect(b, s)
			c := context.Background()
			st := mustStream(b, js, jetstream.StreamConfig{Name: "C", Subjects: []string{"c"}})
			ajs, _ := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
			payload := make([]byte, 128)
			for range b.N {
				if _, err := ajs.PublishAsync("c", payload); err != nil {
					b.Fatal(err)
				}
			}
			<-ajs.PublishAsyncComplete()
			b.ResetTimer()
			switch mode {
			case "push":
				done := make(chan struct{})
				n := 0
				sub, _ := nc.Subscribe("deliver.c", func(m *nats.Msg) {
					if len(m.Data) == 0 {
						return
					}
					if n++; n == b.N {
						close(done)
					}
				})
				sub.SetPendingLimits(-1, -1)
				nc.Flush()
				if _, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "p", DeliverSubject: "deliver.c", AckPolicy: jetstream.AckNonePolicy, FilterSubject: "c"}); err != nil {
					b.Fatal(err)
				}
				select {
				case <-done:
				case <-time.After(time.Minute):
					b.Fatalf("push got %d of %d", n, b.N)
				}
			case "pull":
				cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "q", AckPolicy: jetstream.AckExplicitPolicy, FilterSubject: "c"})
				if err != nil {
					b.Fatal(err)
				}
				for n := 0; n < b.N; {
					batch, err := cons.Fetch(100, jetstream.FetchMaxWait(5*time.Second))
					if err != nil {
						b.Fatal(err)
					}
					for m := range batch.Messages() {
						m.Ack()
						n++
					}
				}
			}
		})
	}
}
