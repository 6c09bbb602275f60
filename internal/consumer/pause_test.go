package consumer

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// TestPausedPushHeartbeats: a paused push consumer sends idle heartbeats
// but no messages, and resumes (with an advisory) at the deadline.
func TestPausedPushHeartbeats(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	src := &fakeSource{st: store.NewMemory()}
	src.add("a", "1")
	out := &fakeOut{interest: true}
	until := clk.now().Add(time.Second)
	cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "p", DeliverSubject: "d", AckPolicy: jsapi.AckExplicit,
		Heartbeat: 100 * time.Millisecond, PauseUntil: &until}, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	var mu sync.Mutex
	var events []*jsapi.ConsumerPauseAdvisory
	c := New("p", cfg, Options{Source: src, Out: out, Now: clk.now, Advise: func(_ string, ev any) {
		if p, ok := ev.(*jsapi.ConsumerPauseAdvisory); ok {
			mu.Lock()
			events = append(events, p)
			mu.Unlock()
		}
	}})
	t.Cleanup(c.Stop)
	count := func() (data, heartbeats int) {
		for _, d := range out.all() {
			switch {
			case d.data != "":
				data++
			case strings.HasPrefix(d.hdr, "NATS/1.0 100 Idle Heartbeat\r\n"):
				heartbeats++
			}
		}
		return
	}
	for range 5 {
		clk.advance(150 * time.Millisecond)
		step(c)
	}
	if data, hb := count(); data != 0 || hb == 0 {
		t.Fatalf("while paused: %d messages, %d heartbeats", data, hb)
	}
	if info := c.Info(); !info.Paused || info.PauseRemaining != 250*time.Millisecond {
		t.Fatalf("paused info: %v %v", info.Paused, info.PauseRemaining)
	}
	clk.advance(250 * time.Millisecond)
	step(c)
	if data, _ := count(); data != 1 {
		t.Fatalf("after the deadline: %d messages", data)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].Paused || !events[0].PauseUntil.Equal(until) {
		t.Fatalf("resume advisories %+v", events)
	}
}
