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
	c.mu.Unlock()
	c.out.Flush()
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
