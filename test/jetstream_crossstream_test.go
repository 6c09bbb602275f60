package test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestJetStreamDeliveryIntoAnotherStream: a push consumer of stream A
// whose deliver subject stream B captures (nats-server accepts it: the
// stream is interest). Under load, with a client acking every delivery and
// publishers on both streams, every publish of either stream must be
// acknowledged. This used to stop publish acks of every stream for good:
// the consumer stored into B on its own goroutine while holding its lock,
// B's ack waited for the one client all streams shared, and that client
// was applying an ack to the consumer. STARLING_CROSS_ROUNDS=200 runs it
// 200 times (docs/locking.md).
func TestJetStreamDeliveryIntoAnotherStream(t *testing.T) {
	const perPub = 300
	for round := range envInt(t, "STARLING_CROSS_ROUNDS", 4) {
		t.Run(fmt.Sprint(round), func(t *testing.T) { crossStreamRound(t, perPub) })
	}
}

func crossStreamRound(t *testing.T, perPub int) {
	s := startJS(t, t.TempDir())
	nc, js := jsConnect(t, s)
	c := ctx(t)
	mustStream(t, js, jetstream.StreamConfig{Name: "A", Subjects: []string{"a.>"}})
	mustStream(t, js, jetstream.StreamConfig{Name: "B", Subjects: []string{"b.>"}})
	ackc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ackc.Close()
	var acked sync.WaitGroup
	acked.Add(2 * perPub)
	var once sync.Map
	sub, err := ackc.Subscribe("b.deliver", func(m *nats.Msg) {
		if m.Reply == "" || string(m.Data) == "after" {
			return
		}
		if err := m.Ack(); err == nil {
			if _, dup := once.LoadOrStore(string(m.Data), true); !dup {
				acked.Done()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	ackc.Flush()
	stA, err := js.Stream(c, "A")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stA.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "toB", DeliverSubject: "b.deliver",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 5 * time.Second, MaxAckPending: 64}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for p, subj := range []string{"a.1", "a.2", "b.other", "b.other"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc, pjs := jsConnect(t, s)
			defer pc.Close()
			for i := range perPub {
				data := fmt.Appendf(nil, "%d-%d", p, i)
				if _, err := pjs.Publish(c, subj, data); err != nil {
					errs <- fmt.Errorf("publish %d to %s: %w", i, subj, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { acked.Wait(); close(done) }()
	select {
	case <-done:
	case <-c.Done():
		t.Fatal("not every message of A was delivered into B and acknowledged")
	}
	// Still serving after the load.
	if _, err := js.Publish(c, "a.1", []byte("after")); err != nil {
		t.Fatalf("publish after the load: %v", err)
	}
	_ = nc
}
