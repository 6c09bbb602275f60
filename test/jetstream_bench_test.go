package test

import (
	"context"
	"testing"
	"time"

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
