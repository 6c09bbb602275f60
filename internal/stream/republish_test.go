package stream

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

func TestRepublishHeader(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC).UnixNano()
	const stamp = "2026-01-02T03:04:05.0000006Z"
	tests := []struct {
		name        string
		hdr         []byte
		headersOnly bool
		want        string
	}{
		{"no headers", nil, false,
			"NATS/1.0\r\nNats-Stream: S\r\nNats-Subject: s.a\r\nNats-Sequence: 7\r\nNats-Time-Stamp: " + stamp + "\r\nNats-Last-Sequence: 3\r\n\r\n"},
		{"headers only", nil, true,
			"NATS/1.0\r\nNats-Stream: S\r\nNats-Subject: s.a\r\nNats-Sequence: 7\r\nNats-Time-Stamp: " + stamp + "\r\nNats-Last-Sequence: 3\r\nNats-Msg-Size: 5\r\n\r\n"},
		{"original headers first", []byte("NATS/1.0\r\nFoo: bar\r\n\r\n"), false,
			"NATS/1.0\r\nFoo: bar\r\nNats-Stream: S\r\nNats-Subject: s.a\r\nNats-Sequence: 7\r\nNats-Time-Stamp: " + stamp + "\r\nNats-Last-Sequence: 3\r\n\r\n"},
		{"original headers, headers only", []byte("NATS/1.0\r\nFoo: bar\r\n\r\n"), true,
			"NATS/1.0\r\nFoo: bar\r\nNats-Stream: S\r\nNats-Subject: s.a\r\nNats-Sequence: 7\r\nNats-Time-Stamp: " + stamp + "\r\nNats-Last-Sequence: 3\r\nNats-Msg-Size: 5\r\n\r\n"},
		{"damaged header block replaced", []byte("garbage"), false,
			"NATS/1.0\r\nNats-Stream: S\r\nNats-Subject: s.a\r\nNats-Sequence: 7\r\nNats-Time-Stamp: " + stamp + "\r\nNats-Last-Sequence: 3\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]byte(nil), tt.hdr...)
			got := string(republishHeader(in, "S", "s.a", 7, ts, 3, 5, tt.headersOnly))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if string(in) != string(tt.hdr) {
				t.Errorf("stored header changed: %q", in)
			}
		})
	}
}

func TestRepublishRule(t *testing.T) {
	tests := []struct {
		rp   *jsapi.RePublish
		subj string
		want string
	}{
		{nil, "a.b", ""},
		{&jsapi.RePublish{Source: ">", Destination: ""}, "a.b", ""}, // nats-server sends nothing
		{&jsapi.RePublish{Source: ">", Destination: "rp.>"}, "a.b", "rp.a.b"},
		{&jsapi.RePublish{Source: "a.*", Destination: "rp.{{wildcard(1)}}"}, "a.b", "rp.b"},
		{&jsapi.RePublish{Source: "a.*", Destination: "rp.{{wildcard(1)}}"}, "a.b.c", ""},
		{&jsapi.RePublish{Source: "x.>", Destination: "rp.>"}, "a.b", ""}, // accepted, never matches
		{&jsapi.RePublish{Source: "a.b", Destination: "rp.one"}, "a.b", "rp.one"},
	}
	for _, tt := range tests {
		r := newRepublishRule(tt.rp)
		got := ""
		if r != nil {
			got = r.destination(tt.subj)
		}
		if got != tt.want {
			t.Errorf("%+v on %q: got %q, want %q", tt.rp, tt.subj, got, tt.want)
		}
	}
}

// rpRecorder keeps republished messages in the order they were sent.
type rpRecorder struct {
	mu   sync.Mutex
	msgs []rpMsg
	gate chan struct{} // when set, each Publish waits for a token
}

func (r *rpRecorder) Publish(subject, _ string, hdr, data []byte) (bool, error) {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rpMsg{subject: subject, hdr: append([]byte(nil), hdr...), data: append([]byte(nil), data...)})
	return true, nil
}

func (r *rpRecorder) snapshot() []rpMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rpMsg(nil), r.msgs...)
}

func (r *rpRecorder) waitFor(t *testing.T, n int) []rpMsg {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("republished %d messages, want %d", len(got), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newRepublishStream(t *testing.T, cfg jsapi.StreamConfig, rp *rpRecorder) *Stream {
	t.Helper()
	clk := newClock()
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: &recorder{}, Republish: rp, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRepublishStoredMessagesOnly(t *testing.T) {
	cfg := baseConfig("S")
	cfg.MaxMsgsPer = 1
	cfg.Discard = jsapi.DiscardNew
	cfg.DiscardNewPer = true
	cfg.RePublish = &jsapi.RePublish{Source: ">", Destination: "rp.>"}
	rp := &rpRecorder{}
	s := newRepublishStream(t, cfg, rp)
	s.Ingest("S.a", "", hdr("Nats-Msg-Id", "1"), []byte("one"))
	s.Ingest("S.a", "", hdr("Nats-Msg-Id", "1"), []byte("duplicate"))             // de-duplicated
	s.Ingest("S.a", "", nil, []byte("over the subject limit"))                    // refused
	s.Ingest("S.b", "", hdr("Nats-Expected-Last-Sequence", "9"), []byte("wrong")) // refused
	s.Ingest("S.b", "", nil, []byte("two"))
	got := rp.waitFor(t, 2)
	// Anything else would have been queued before "two".
	if len(got) != 2 || string(got[0].data) != "one" || string(got[1].data) != "two" {
		t.Fatalf("republished %+v", got)
	}
	if got[0].subject != "rp.S.a" || got[1].subject != "rp.S.b" {
		t.Errorf("subjects %q %q", got[0].subject, got[1].subject)
	}
	if !strings.Contains(string(got[1].hdr), "Nats-Sequence: 2\r\n") || !strings.Contains(string(got[1].hdr), "Nats-Last-Sequence: 0\r\n") {
		t.Errorf("headers %q", got[1].hdr)
	}
	if sent, dropped := s.RepublishStats(); sent != 2 || dropped != 0 {
		t.Errorf("stats %d sent %d dropped", sent, dropped)
	}
}

func TestRepublishInterestWithoutConsumers(t *testing.T) {
	cfg := baseConfig("S")
	cfg.Retention = jsapi.InterestPolicy
	cfg.RePublish = &jsapi.RePublish{Destination: "rp.>"}
	rp := &rpRecorder{}
	s := newRepublishStream(t, cfg, rp)
	s.Ingest("S.a", "", nil, []byte("nobody reads this"))
	s.SetConsumerCount(1)
	s.Ingest("S.a", "", nil, []byte("kept"))
	got := rp.waitFor(t, 1)
	if len(got) != 1 || string(got[0].data) != "kept" || !strings.Contains(string(got[0].hdr), "Nats-Sequence: 2\r\n") {
		t.Fatalf("republished %+v", got)
	}
}

func TestRepublishLastSequencePerSubject(t *testing.T) {
	cfg := baseConfig("S")
	cfg.RePublish = &jsapi.RePublish{Source: "S.*", Destination: "rp.{{wildcard(1)}}", HeadersOnly: true}
	rp := &rpRecorder{}
	s := newRepublishStream(t, cfg, rp)
	for _, subj := range []string{"S.a", "S.b", "S.a", "S.x.y", "S.a"} {
		s.Ingest(subj, "", nil, []byte("12345"))
	}
	got := rp.waitFor(t, 4)
	want := []struct{ subj, seq, last string }{{"rp.a", "1", "0"}, {"rp.b", "2", "0"}, {"rp.a", "3", "1"}, {"rp.a", "5", "3"}}
	if len(got) != len(want) {
		t.Fatalf("republished %d, want %d", len(got), len(want))
	}
	for i, w := range want {
		h := string(got[i].hdr)
		if got[i].subject != w.subj || !strings.Contains(h, "Nats-Sequence: "+w.seq+"\r\n") ||
			!strings.Contains(h, "Nats-Last-Sequence: "+w.last+"\r\n") || !strings.Contains(h, "Nats-Msg-Size: 5\r\n") || len(got[i].data) != 0 {
			t.Errorf("message %d: %s %q %q", i, got[i].subject, h, got[i].data)
		}
	}
}

func TestRepublishUpdate(t *testing.T) {
	cfg := baseConfig("S")
	rp := &rpRecorder{}
	s := newRepublishStream(t, cfg, rp)
	s.Ingest("S.a", "", nil, []byte("before"))
	with := cfg
	with.RePublish = &jsapi.RePublish{Destination: "rp.>"}
	if err := s.Update(with); err != nil {
		t.Fatal(err)
	}
	s.Ingest("S.a", "", nil, []byte("during"))
	if err := s.Update(cfg); err != nil {
		t.Fatal(err)
	}
	s.Ingest("S.a", "", nil, []byte("after"))
	with.RePublish = &jsapi.RePublish{Destination: "again.>"}
	if err := s.Update(with); err != nil {
		t.Fatal(err)
	}
	s.Ingest("S.a", "", nil, []byte("again"))
	got := rp.waitFor(t, 2)
	if len(got) != 2 || string(got[0].data) != "during" || string(got[1].data) != "again" || got[1].subject != "again.S.a" {
		t.Fatalf("republished %+v", got)
	}
}

// A full queue drops and counts instead of blocking the publisher; what
// was queued is still sent, in order, and Close waits for it.
func TestRepublishQueueBound(t *testing.T) {
	cfg := baseConfig("S")
	cfg.RePublish = &jsapi.RePublish{Destination: "rp.>"}
	rp := &rpRecorder{gate: make(chan struct{})}
	clk := newClock()
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: &recorder{}, Republish: rp, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	const queue = 100
	s.rpMaxMsgs = queue
	// The goroutine takes what is queued and waits at the gate with it;
	// the queue then fills up and drops, without blocking Ingest.
	total := 0
	for dropped := uint64(0); dropped < 10; _, dropped = s.RepublishStats() {
		if total > 3*queue {
			t.Fatalf("nothing dropped after %d messages with a queue of %d", total, queue)
		}
		s.Ingest("S.a", "", nil, nil)
		total++
	}
	_, dropped := s.RepublishStats()
	close(rp.gate)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := rp.snapshot()
	if uint64(len(got))+dropped != uint64(total) {
		t.Fatalf("sent %d + dropped %d != %d", len(got), dropped, total)
	}
	prev := 0
	for _, m := range got {
		seq := seqOf(t, m.hdr)
		if seq <= prev {
			t.Fatalf("out of order: %d after %d", seq, prev)
		}
		prev = seq
	}
}

// The byte bound holds when the count bound would not.
func TestRepublishQueueByteBound(t *testing.T) {
	cfg := baseConfig("S")
	cfg.RePublish = &jsapi.RePublish{Destination: "rp.>"}
	rp := &rpRecorder{gate: make(chan struct{})}
	clk := newClock()
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: &recorder{}, Republish: rp, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	s.rpMaxBytes = 64 << 10
	big := make([]byte, 4<<10)
	for range 40 {
		s.Ingest("S.a", "", nil, big)
	}
	if _, dropped := s.RepublishStats(); dropped == 0 {
		t.Fatal("160 KiB queued behind a 64 KiB bound")
	}
	close(rp.gate)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func seqOf(t *testing.T, hdr []byte) int {
	t.Helper()
	v, ok := headerValue(hdr, "Nats-Sequence")
	if !ok {
		t.Fatalf("no sequence in %q", hdr)
	}
	n := 0
	for _, c := range v {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestRepublishMirror(t *testing.T) {
	cfg := baseConfig("M")
	cfg.Subjects = nil
	cfg.Mirror = &jsapi.StreamSource{Name: "O"}
	cfg.RePublish = &jsapi.RePublish{Destination: "rp.>"}
	rp := &rpRecorder{}
	s := newRepublishStream(t, cfg, rp)
	for _, m := range []*store.Msg{
		{Subject: "o.a", Seq: 3, Data: []byte("x"), Time: 1, Header: hdr("Nats-Expected-Stream", "O", "Keep", "me")},
		{Subject: "o.a", Seq: 5, Data: []byte("y"), Time: 2},
	} {
		if err := s.IngestMirror(m); err != nil {
			t.Fatal(err)
		}
	}
	got := rp.waitFor(t, 2)
	h0, h1 := string(got[0].hdr), string(got[1].hdr)
	if got[0].subject != "rp.o.a" || !strings.Contains(h0, "Nats-Sequence: 3\r\n") || !strings.HasPrefix(h0, "NATS/1.0\r\nKeep: me\r\n") {
		t.Errorf("first: %s %q", got[0].subject, h0)
	}
	if strings.Contains(h0, "Nats-Expected-Stream") {
		t.Errorf("mirror kept the origin's expectation headers: %q", h0)
	}
	if !strings.Contains(h1, "Nats-Sequence: 5\r\n") || !strings.Contains(h1, "Nats-Last-Sequence: 3\r\n") {
		t.Errorf("second: %q", h1)
	}
}

// A subject delete marker is stored like a publish and republished like
// one, with nats-server's header block.
func TestRepublishDeleteMarker(t *testing.T) {
	cfg := baseConfig("K")
	cfg.MaxAge = time.Minute
	cfg.AllowMsgTTL = true
	cfg.AllowRollup = true
	cfg.SubjectDeleteMarkerTTL = 5 * time.Minute
	cfg.RePublish = &jsapi.RePublish{Destination: "rp.>"}
	rp := &rpRecorder{}
	clk := newClock()
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: &recorder{}, Republish: rp, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Ingest("K.a", "", nil, []byte("v"))
	clk.add(2 * time.Minute)
	s.onTimer()
	const marker = "NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\nNats-TTL: 5m0s\r\nNats-Rollup: sub\r\n\r\n"
	m, err := s.Store().LoadLast("K.a")
	if err != nil || m.Seq != 2 || string(m.Header) != marker {
		t.Fatalf("stored marker %+v %q %v", m, m.Header, err)
	}
	got := rp.waitFor(t, 2)
	h := string(got[1].hdr)
	if got[1].subject != "rp.K.a" || len(got[1].data) != 0 ||
		!strings.HasPrefix(h, marker[:len(marker)-2]+"Nats-Stream: K\r\nNats-Subject: K.a\r\nNats-Sequence: 2\r\n") ||
		!strings.HasSuffix(h, "Nats-Last-Sequence: 1\r\n\r\n") {
		t.Fatalf("republished marker %s %q", got[1].subject, h)
	}
}
