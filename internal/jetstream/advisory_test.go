package jetstream

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// fakeEvents is an eventPublisher whose Publish can be held at a gate.
type fakeEvents struct {
	mu       sync.Mutex
	subjects []string
	bodies   [][]byte
	listen   string        // subjects with this prefix have interest
	gate     chan struct{} // when set, each Publish waits for a token
}

func (f *fakeEvents) Publish(subject, _ string, _, data []byte) (bool, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subjects = append(f.subjects, subject)
	f.bodies = append(f.bodies, data)
	return true, nil
}

func (f *fakeEvents) HasInterest(subject string) bool { return strings.HasPrefix(subject, f.listen) }
func (f *fakeEvents) Close()                          {}

func (f *fakeEvents) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.subjects...)
}

func waitSent(t *testing.T, f *fakeEvents, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := f.sent()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %d events, want %d", len(got), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAdvisorOrderAndInterest(t *testing.T) {
	f := &fakeEvents{listen: "$JS.EVENT.ADVISORY.STREAM."}
	a := newAdvisor(f, slog.New(slog.DiscardHandler))
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() { a.run(quit); close(done) }()
	for _, subj := range []string{"$JS.EVENT.ADVISORY.STREAM.CREATED.A", "$JS.EVENT.ADVISORY.API", "$JS.EVENT.ADVISORY.STREAM.UPDATED.A", "$JS.EVENT.ADVISORY.STREAM.DELETED.A"} {
		a.send(subj, map[string]string{"s": subj})
	}
	got := waitSent(t, f, 3)
	want := []string{"$JS.EVENT.ADVISORY.STREAM.CREATED.A", "$JS.EVENT.ADVISORY.STREAM.UPDATED.A", "$JS.EVENT.ADVISORY.STREAM.DELETED.A"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("sent %v, want %v (nobody listens to the API audit)", got, want)
	}
	close(quit)
	<-done
	if sent, dropped := a.sent.Load(), a.dropped.Load(); sent != 3 || dropped != 0 {
		t.Errorf("sent %d dropped %d", sent, dropped)
	}
}

// A stuck publisher must not block whoever raises an advisory: the queue
// fills, then drops and counts; what was queued is sent at shutdown.
func TestAdvisorNeverBlocks(t *testing.T) {
	f := &fakeEvents{listen: "", gate: make(chan struct{})}
	const queue = 100
	a := newAdvisorSized(f, slog.New(slog.DiscardHandler), queue, advisoryQueueBytes)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() { a.run(quit); close(done) }()
	total := 0
	for a.dropped.Load() < 5 {
		if total > 3*queue {
			t.Fatalf("nothing dropped after %d events with a queue of %d", total, queue)
		}
		a.send("$JS.EVENT.ADVISORY.X", map[string]int{"n": total})
		total++
	}
	close(f.gate) // unblock every Publish from now on
	close(quit)
	<-done
	if got, dropped := len(f.sent()), int(a.dropped.Load()); got+dropped != total {
		t.Fatalf("sent %d + dropped %d != raised %d", got, dropped, total)
	}
	// In order: each body's n is larger than the previous one's.
	prev := -1
	for _, b := range f.bodies {
		var v struct{ N int }
		if err := json.Unmarshal(b, &v); err != nil || v.N <= prev {
			t.Fatalf("out of order or bad body %s after %d", b, prev)
		}
		prev = v.N
	}
	if a.bytes.Load() != 0 {
		t.Errorf("queued bytes left: %d", a.bytes.Load())
	}
}

// The byte bound holds even when the count bound would not.
func TestAdvisorByteBound(t *testing.T) {
	f := &fakeEvents{gate: make(chan struct{})}
	const bound = 64 << 10
	a := newAdvisorSized(f, slog.New(slog.DiscardHandler), advisoryQueueLen, bound)
	big := strings.Repeat("x", 4<<10)
	for range 40 {
		a.send("$JS.EVENT.ADVISORY.API", &jsapi.APIAudit{Response: big})
	}
	if a.dropped.Load() == 0 || a.bytes.Load() > bound {
		t.Fatalf("dropped %d, queued %d bytes (bound %d)", a.dropped.Load(), a.bytes.Load(), bound)
	}
}

func TestPeerID(t *testing.T) {
	a, b := peerID("srv-a"), peerID("srv-b")
	if len(a) != 8 || a == b || peerID("srv-a") != a {
		t.Fatalf("peer ids %q %q", a, b)
	}
}
