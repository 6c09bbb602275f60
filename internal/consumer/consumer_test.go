package consumer

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// fakeSource is a stream over a memory store.
type fakeSource struct {
	st *store.Memory
	mu sync.Mutex
	fn []func()
}

func (f *fakeSource) Name() string               { return "S" }
func (f *fakeSource) Store() store.Store         { return f.st }
func (f *fakeSource) Config() jsapi.StreamConfig { return jsapi.StreamConfig{Name: "S"} }
func (f *fakeSource) OnStored(fn func()) func() {
	f.mu.Lock()
	f.fn = append(f.fn, fn)
	f.mu.Unlock()
	return func() {}
}

func (f *fakeSource) add(subj, data string) {
	f.st.Append(subj, nil, []byte(data), time.Now().UnixNano(), 0)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fn := range f.fn {
		fn()
	}
}

// delivery is one message the consumer sent.
type delivery struct{ to, subject, reply, hdr, data string }

// fakeOut records deliveries.
type fakeOut struct {
	mu       sync.Mutex
	got      []delivery
	interest bool
}

func (o *fakeOut) Publish(subject, reply string, hdr, data []byte) (bool, error) {
	return o.PublishTo(subject, subject, reply, hdr, data)
}
func (o *fakeOut) PublishTo(to, subject, reply string, hdr, data []byte) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, delivery{to, subject, reply, string(hdr), string(data)})
	return true, nil
}
func (o *fakeOut) PublishToDeferred(to, subject, reply string, hdr, data []byte) (bool, error) {
	return o.PublishTo(to, subject, reply, hdr, data)
}
func (o *fakeOut) Flush()                  {}
func (o *fakeOut) HasInterest(string) bool { return o.interest }
func (o *fakeOut) all() []delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]delivery(nil), o.got...)
}

// waitFor polls until n deliveries arrived (bounded).
func waitFor(t *testing.T, o *fakeOut, n int) []delivery {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := o.all()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d deliveries, want %d: %+v", len(got), n, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newTest(t *testing.T, cfg jsapi.ConsumerConfig, msgs ...string) (*Consumer, *fakeSource, *fakeOut) {
	t.Helper()
	src := &fakeSource{st: store.NewMemory()}
	for i, subj := range msgs {
		src.add(subj, fmt.Sprint(i+1))
	}
	out := &fakeOut{interest: true}
	cfg, e := Normalize(cfg, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	c := New(cfg.Name, cfg, Options{Source: src, Out: out})
	t.Cleanup(c.Stop)
	return c, src, out
}

func TestDeliverPolicies(t *testing.T) {
	tests := []struct {
		cfg  jsapi.ConsumerConfig
		want string // data of deliveries, in order
	}{
		{jsapi.ConsumerConfig{Durable: "all", DeliverSubject: "d", AckPolicy: jsapi.AckNone}, "1 2 3 4"},
		{jsapi.ConsumerConfig{Durable: "last", DeliverSubject: "d", AckPolicy: jsapi.AckNone, DeliverPolicy: jsapi.DeliverLast}, "4"},
		{jsapi.ConsumerConfig{Durable: "seq", DeliverSubject: "d", AckPolicy: jsapi.AckNone, DeliverPolicy: jsapi.DeliverByStartSequence, OptStartSeq: 3}, "3 4"},
		{jsapi.ConsumerConfig{Durable: "lps", DeliverSubject: "d", AckPolicy: jsapi.AckNone, DeliverPolicy: jsapi.DeliverLastPerSubject, FilterSubject: ">"}, "3 4"},
		{jsapi.ConsumerConfig{Durable: "f", DeliverSubject: "d", AckPolicy: jsapi.AckNone, FilterSubject: "a"}, "1 3"},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Durable, func(t *testing.T) {
			_, _, out := newTest(t, tt.cfg, "a", "b", "a", "b")
			n := len(strings.Fields(tt.want))
			got := waitFor(t, out, n)
			var data []string
			for _, d := range got {
				if d.data != "" {
					data = append(data, d.data)
				}
			}
			if strings.Join(data, " ") != tt.want {
				t.Fatalf("delivered %v, want %s", data, tt.want)
			}
			if got[0].to != "d" || !strings.HasPrefix(got[0].reply, "$JS.ACK.S."+tt.cfg.Durable+".1.") {
				t.Fatalf("delivery %+v", got[0])
			}
		})
	}
}

func TestNewPolicyAndLiveDelivery(t *testing.T) {
	_, src, out := newTest(t, jsapi.ConsumerConfig{Durable: "n", DeliverSubject: "d", AckPolicy: jsapi.AckNone, DeliverPolicy: jsapi.DeliverNew}, "a", "b")
	src.add("c", "new")
	got := waitFor(t, out, 1)
	if got[0].data != "new" || got[0].subject != "c" {
		t.Fatalf("%+v", got)
	}
}

func TestPullRequestsAndAcks(t *testing.T) {
	c, _, out := newTest(t, jsapi.ConsumerConfig{Durable: "p", AckPolicy: jsapi.AckExplicit, AckWait: 50 * time.Millisecond, MaxDeliver: 2}, "a", "b", "c")
	c.Pull("r1", jsapi.NextRequest{Batch: 2})
	got := waitFor(t, out, 2)
	if got[0].to != "r1" || got[1].data != "2" {
		t.Fatalf("%+v", got)
	}
	c.Ack(got[0].reply, "", []byte("+ACK"))
	// Message 2 is not acked: after ack_wait it is delivered again.
	c.Pull("r2", jsapi.NextRequest{Batch: 1})
	got = waitFor(t, out, 3)
	if got[2].data != "3" {
		t.Fatalf("third delivery %+v", got[2])
	}
	c.Pull("r3", jsapi.NextRequest{Batch: 1, Expires: time.Second})
	got = waitFor(t, out, 4)
	if got[3].data != "2" || !strings.HasPrefix(got[3].reply, "$JS.ACK.S.p.2.2.") {
		t.Fatalf("redelivery %+v (all: %+v)", got[3], got)
	}
	info := c.Info()
	if info.AckFloor.Stream != 1 || info.NumAckPending != 2 || info.NumRedelivered != 1 {
		t.Fatalf("info %+v", info)
	}
	c.Ack(got[2].reply, "", nil)
	c.Ack(got[3].reply, "", []byte("+ACK"))
	if info := c.Info(); info.NumAckPending != 0 || info.AckFloor.Stream != 3 {
		t.Fatalf("all acked: %+v", info)
	}
	// no_wait with nothing new: 404; an expiring request: 408.
	c.Pull("r4", jsapi.NextRequest{Batch: 1, NoWait: true})
	got = waitFor(t, out, 5)
	if !strings.HasPrefix(got[4].hdr, "NATS/1.0 404 No Messages") {
		t.Fatalf("no wait: %+v", got[4])
	}
	c.Pull("r5", jsapi.NextRequest{Batch: 1, Expires: 20 * time.Millisecond})
	got = waitFor(t, out, 6)
	var timeout bool
	for _, d := range got[5:] {
		timeout = timeout || (d.to == "r5" && strings.HasPrefix(d.hdr, "NATS/1.0 408 Request Timeout"))
	}
	if !timeout {
		t.Fatalf("no 408 for an expired request: %+v", got[5:])
	}
}

func TestAckAllAndTerm(t *testing.T) {
	c, _, out := newTest(t, jsapi.ConsumerConfig{Durable: "aa", AckPolicy: jsapi.AckAll}, "a", "b", "c")
	c.Pull("r", jsapi.NextRequest{Batch: 3})
	got := waitFor(t, out, 3)
	c.Ack(got[1].reply, "", nil) // acks 1 and 2
	if info := c.Info(); info.NumAckPending != 1 || info.AckFloor.Stream != 2 {
		t.Fatalf("ack all: %+v", info)
	}
	c.Ack(got[2].reply, "", []byte("+TERM"))
	if info := c.Info(); info.NumAckPending != 0 || info.AckFloor.Stream != 3 {
		t.Fatalf("term: %+v", info)
	}
}

// A pull consumer's inactivity is counted from when its last request
// ended (expired or satisfied), not from when it came.
func TestPullInactiveFromRequestEnd(t *testing.T) {
	var mu sync.Mutex
	base := time.Unix(1_000_000, 0)
	now := base
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := &fakeSource{st: store.NewMemory()}
	out := &fakeOut{interest: true}
	cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "D", AckPolicy: jsapi.AckExplicit, InactiveThreshold: 10 * time.Second},
		jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	c := New(cfg.Name, cfg, Options{Source: src, Out: out, Now: clock, OnInactive: func() {}})
	t.Cleanup(c.Stop)
	c.Pull("r", jsapi.NextRequest{Batch: 1, Expires: 30 * time.Second})
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{20 * time.Second, false}, // waiting
		{31 * time.Second, false}, // expired a second ago
		{39 * time.Second, false},
		{41 * time.Second, true}, // idle for 11 s since the request ended
	} {
		mu.Lock()
		now = base.Add(tc.at)
		mu.Unlock()
		c.mu.Lock()
		n := clock().UnixNano()
		c.expireRequestsLocked(n)
		got := c.inactiveLocked(n)
		c.mu.Unlock()
		if got != tc.want {
			t.Fatalf("at %v: inactive %v, want %v", tc.at, got, tc.want)
		}
	}
}
