package consumer

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// step runs one delivery pass at the fake time, as the consumer's
// goroutine would, so the test knows it happened.
func step(c *Consumer) {
	c.mu.Lock()
	c.deliverLocked()
	out := c.takeOutboxLocked()
	c.mu.Unlock()
	c.sendOutbox(out)
}

// TestBackoffAndMaxDeliver: each redelivery waits its backoff step, and
// the message is given up after max_deliver deliveries, with the advisory.
func TestBackoffAndMaxDeliver(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	src := &fakeSource{st: store.NewMemory()}
	src.add("a", "1")
	out := &fakeOut{interest: true}
	var mu sync.Mutex
	var advised []string
	cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "b", AckPolicy: jsapi.AckExplicit, MaxDeliver: 3,
		BackOff: []time.Duration{50 * time.Millisecond, 150 * time.Millisecond}}, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	c := New("b", cfg, Options{Source: src, Out: out, Now: clk.now, Advise: func(subj string, _ any) {
		mu.Lock()
		advised = append(advised, subj)
		mu.Unlock()
	}})
	t.Cleanup(c.Stop)
	c.Pull("r", jsapi.NextRequest{Batch: 10})
	step(c)
	deliveries := func() int {
		n := 0
		for _, d := range out.all() {
			if d.data != "" {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		advance time.Duration
		want    int
	}{
		{0, 1},
		{49 * time.Millisecond, 1}, {time.Millisecond, 2}, // first step: 50ms
		{149 * time.Millisecond, 2}, {time.Millisecond, 3}, // then 150ms
		{time.Hour, 3}, // max_deliver 3: never a fourth
	} {
		clk.advance(tt.advance)
		step(c)
		if got := deliveries(); got != tt.want {
			t.Fatalf("after +%v: %d deliveries, want %d", tt.advance, got, tt.want)
		}
	}
	got := out.all()
	if last := got[len(got)-1]; !strings.HasPrefix(last.reply, "$JS.ACK.S.b.3.1.1.") {
		t.Fatalf("third delivery %+v", last)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(advised) != 1 || advised[0] != "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.b" {
		t.Fatalf("advisories %v", advised)
	}
	if info := c.Info(); info.NumAckPending != 0 || info.AckFloor.Stream != 1 {
		t.Fatalf("after giving up: %+v", info)
	}
}

// TestLastPerSubjectPutBack: a last-per-subject start message that a
// request could not take (max_bytes) goes back to the start set, not
// back into the stream's sequence (which delivered messages twice).
func TestLastPerSubjectPutBack(t *testing.T) {
	c, _, out := newTest(t, jsapi.ConsumerConfig{Durable: "l", AckPolicy: jsapi.AckExplicit,
		DeliverPolicy: jsapi.DeliverLastPerSubject, FilterSubject: ">"}, "a", "b", "a", "b")
	c.Pull("r1", jsapi.NextRequest{Batch: 1, MaxBytes: 1})
	got := waitFor(t, out, 1)
	if !strings.HasPrefix(got[0].hdr, "NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 1\r\n") {
		t.Fatalf("max bytes: %+v", got[0])
	}
	c.Pull("r2", jsapi.NextRequest{Batch: 10, NoWait: true})
	got = waitFor(t, out, 4) // two messages and the 408 ending the no_wait batch
	var data []string
	for _, d := range got[1:] {
		if d.data != "" {
			data = append(data, d.data)
		}
	}
	if strings.Join(data, " ") != "3 4" {
		t.Fatalf("delivered %v, want 3 4", data)
	}
}

// TestPinOnlyWithAMessage: a waiting request is pinned when there is a
// message for it, not before.
func TestPinOnlyWithAMessage(t *testing.T) {
	c, src, out := newTest(t, jsapi.ConsumerConfig{Durable: "p", AckPolicy: jsapi.AckExplicit,
		PriorityPolicy: jsapi.PriorityPinnedClient, PriorityGroups: []string{"A"}})
	c.Pull("r", jsapi.NextRequest{Batch: 1, Expires: time.Hour, PriorityGroup: jsapi.PriorityGroup{Group: "A"}})
	step(c)
	if pg := c.Info().PriorityGroups; len(pg) != 1 || pg[0].PinnedClientID != "" {
		t.Fatalf("pinned without a message: %+v", pg)
	}
	src.add("a", "1")
	got := waitFor(t, out, 1)
	pg := c.Info().PriorityGroups
	if pg[0].PinnedClientID == "" || !strings.Contains(got[0].hdr, "Nats-Pin-Id: "+pg[0].PinnedClientID+"\r\n") {
		t.Fatalf("delivery %+v, groups %+v", got[0], pg)
	}
}
