package test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// TestJetStreamShutdownLeavesNoGoroutines: streams (with their syncers and
// ack senders), consumers, a mirror and the API workers all stop with the
// server.
func TestJetStreamShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.CreateStream(c, jetstream.StreamConfig{Name: "G", Subjects: []string{"g"}, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(c, jetstream.StreamConfig{Name: "GM", Mirror: &jetstream.StreamSource{Name: "G"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(c, "g", nil); err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "d"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	for m := range b.Messages() {
		m.Ack()
	}
	nc.Close()
	if err := s.Shutdown(c); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
