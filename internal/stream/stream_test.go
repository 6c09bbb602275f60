package stream

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
)

// recorder is a Publisher that keeps what the stream sent.
type recorder struct {
	mu   sync.Mutex
	msgs map[string][]string // reply subject -> bodies
}

func (r *recorder) Publish(subject, _ string, _, data []byte) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msgs == nil {
		r.msgs = map[string][]string{}
	}
	r.msgs[subject] = append(r.msgs[subject], string(data))
	return true, nil
}

func (r *recorder) last(subject string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs[subject]
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_700_000_000, 0)} }
func hdr(kv ...string) []byte {
	h := proto.NewHeader(0, "")
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h.Bytes()
}

func baseConfig(name string) jsapi.StreamConfig {
	return jsapi.StreamConfig{
		Name:         name,
		Subjects:     []string{name + ".>"},
		Retention:    jsapi.LimitsPolicy,
		MaxConsumers: -1,
		MaxMsgs:      -1,
		MaxBytes:     -1,
		MaxMsgsPer:   -1,
		MaxMsgSize:   -1,
		Discard:      jsapi.DiscardOld,
		Storage:      jsapi.MemoryStorage,
		Replicas:     1,
		Duplicates:   2 * time.Minute,
	}
}

func newTestStream(t *testing.T, cfg jsapi.StreamConfig) (*Stream, *recorder, *clock) {
	t.Helper()
	rec, clk := &recorder{}, newClock()
	s, err := New(cfg, Options{Store: store.NewMemory(), Out: rec, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec, clk
}

// ack decodes the reply the stream sent to reply.
type ackReply struct {
	Stream    string          `json:"stream"`
	Seq       uint64          `json:"seq"`
	Duplicate bool            `json:"duplicate"`
	Error     *jsapi.ApiError `json:"error"`
}

func lastAck(t *testing.T, rec *recorder, reply string) ackReply {
	t.Helper()
	var a ackReply
	body := rec.last(reply)
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("ack %q: %v", body, err)
	}
	return a
}

func TestIngestAcksAndChecks(t *testing.T) {
	s, rec, clk := newTestStream(t, baseConfig("S"))
	s.Ingest("S.a", "r1", nil, []byte("one"))
	if got := rec.last("r1"); got != `{"stream":"S","seq":1}` {
		t.Fatalf("ack = %s", got)
	}
	s.Ingest("S.a", "r2", hdr("Nats-Msg-Id", "m1"), []byte("two"))
	s.Ingest("S.b", "r3", hdr("Nats-Msg-Id", "m1"), []byte("two"))
	if got := rec.last("r3"); got != `{"stream":"S","seq":2,"duplicate": true}` {
		t.Fatalf("duplicate ack = %s", got)
	}
	clk.add(3 * time.Minute) // past the duplicate window
	s.Ingest("S.b", "r4", hdr("Nats-Msg-Id", "m1"), nil)
	if a := lastAck(t, rec, "r4"); a.Seq != 3 || a.Duplicate {
		t.Fatalf("after window: %+v", a)
	}

	cases := []struct {
		name    string
		subject string
		hdr     []byte
		code    uint16
		desc    string
	}{
		{"wrong stream", "S.a", hdr("Nats-Expected-Stream", "T"), 10060, "expected stream does not match"},
		{"wrong last seq", "S.a", hdr("Nats-Expected-Last-Sequence", "1"), 10071, "wrong last sequence: 3"},
		{"wrong subject seq", "S.a", hdr("Nats-Expected-Last-Subject-Sequence", "3"), 10071, "wrong last sequence: 2"},
		{"wrong last id", "S.a", hdr("Nats-Expected-Last-Msg-Id", "zz"), 10070, "wrong last msg ID: m1"},
		{"rollup not allowed", "S.a", hdr("Nats-Rollup", "all"), 10111, "rollup not permitted"},
		{"ttl disabled", "S.a", hdr("Nats-TTL", "5s"), 10166, "per-message TTL is disabled"},
	}
	for _, tc := range cases {
		s.Ingest(tc.subject, "e", tc.hdr, nil)
		a := lastAck(t, rec, "e")
		if a.Error == nil || a.Error.ErrCode != tc.code || a.Error.Description != tc.desc || a.Stream != "S" {
			t.Errorf("%s: got %+v %+v", tc.name, a, a.Error)
		}
	}
	if st := s.Store().State(); st.Msgs != 3 {
		t.Fatalf("refused messages were stored: %+v", st)
	}
	// Matching expectations pass.
	s.Ingest("S.a", "ok", hdr("Nats-Expected-Last-Sequence", "3", "Nats-Expected-Last-Msg-Id", "m1",
		"Nats-Expected-Last-Subject-Sequence", "2", "Nats-Expected-Stream", "S"), nil)
	if a := lastAck(t, rec, "ok"); a.Error != nil || a.Seq != 4 {
		t.Fatalf("matching expectations: %+v %+v", a, a.Error)
	}
}

func TestIngestLimits(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*jsapi.StreamConfig)
		subjects  []string
		wantMsgs  uint64
		wantFirst uint64
		wantErr   string // description of the last publish's error
	}{
		{"max msgs old", func(c *jsapi.StreamConfig) { c.MaxMsgs = 3 }, []string{"a", "a", "a", "a", "a"}, 3, 3, ""},
		{"max msgs new", func(c *jsapi.StreamConfig) { c.MaxMsgs = 3; c.Discard = jsapi.DiscardNew }, []string{"a", "a", "a", "a"}, 3, 1, "maximum messages exceeded"},
		{"per subject old", func(c *jsapi.StreamConfig) { c.MaxMsgsPer = 1 }, []string{"a", "b", "a", "b", "a"}, 2, 4, ""},
		{"per subject new", func(c *jsapi.StreamConfig) { c.MaxMsgsPer = 1; c.Discard = jsapi.DiscardNew; c.DiscardNewPer = true }, []string{"a", "a"}, 1, 1, "maximum messages per subject exceeded"},
		// At its subject limit a message may replace the subject's oldest
		// even with discard new, unless discard_new_per_subject is set.
		{"per subject replaces under discard new", func(c *jsapi.StreamConfig) { c.MaxMsgsPer = 1; c.MaxMsgs = 2; c.Discard = jsapi.DiscardNew }, []string{"a", "b", "a"}, 2, 2, ""},
		{"max bytes old", func(c *jsapi.StreamConfig) { c.MaxBytes = 100 }, []string{"a", "a", "a", "a"}, 3, 2, ""},
		{"max bytes new", func(c *jsapi.StreamConfig) { c.MaxBytes = 100; c.Discard = jsapi.DiscardNew }, []string{"a", "a", "a", "a"}, 3, 1, "maximum bytes exceeded"},
		{"max msg size", func(c *jsapi.StreamConfig) { c.MaxMsgSize = 5 }, []string{"a"}, 0, 0, "message size exceeds maximum allowed"},
		{"sealed", func(c *jsapi.StreamConfig) { c.Sealed = true }, []string{"a"}, 0, 0, "invalid operation on sealed stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig("L")
			tt.mutate(&cfg)
			s, rec, _ := newTestStream(t, cfg)
			for i, subj := range tt.subjects {
				// 16 + len("L.x") + 10 = 29 bytes each in memory.
				s.Ingest("L."+subj, fmt.Sprint("r", i), nil, []byte("0123456789"))
			}
			st := s.Store().State()
			if st.Msgs != tt.wantMsgs || (tt.wantMsgs > 0 && st.FirstSeq != tt.wantFirst) {
				t.Fatalf("state %+v, want %d msgs from %d", st, tt.wantMsgs, tt.wantFirst)
			}
			a := lastAck(t, rec, fmt.Sprint("r", len(tt.subjects)-1))
			switch {
			case tt.wantErr == "" && a.Error != nil:
				t.Fatalf("unexpected error %+v", a.Error)
			case tt.wantErr != "" && (a.Error == nil || a.Error.Description != tt.wantErr):
				t.Fatalf("got %+v, want error %q", a.Error, tt.wantErr)
			}
		})
	}
}

func TestRollup(t *testing.T) {
	cfg := baseConfig("R")
	cfg.AllowRollup = true
	s, rec, _ := newTestStream(t, cfg)
	for i := range 6 {
		s.Ingest(fmt.Sprint("R.", i%2), "", nil, nil)
	}
	s.Ingest("R.0", "r", hdr("Nats-Rollup", "sub"), nil)
	if st := s.Store().State(); st.Msgs != 4 {
		t.Fatalf("rollup sub: %+v", st)
	}
	s.Ingest("R.1", "r", hdr("Nats-Rollup", "all"), nil)
	if st := s.Store().State(); st.Msgs != 1 || st.FirstSeq != 8 {
		t.Fatalf("rollup all: %+v", st)
	}
	s.Ingest("R.1", "bad", hdr("Nats-Rollup", "most"), nil)
	if a := lastAck(t, rec, "bad"); a.Error == nil || !strings.Contains(a.Error.Description, "rollup value invalid") {
		t.Fatalf("bad rollup: %+v", a)
	}
}

func TestAgeAndTTLExpiry(t *testing.T) {
	cfg := baseConfig("A")
	cfg.MaxAge = time.Minute
	cfg.AllowMsgTTL = true
	s, _, clk := newTestStream(t, cfg)
	s.Ingest("A.a", "", nil, nil)
	clk.add(30 * time.Second)
	s.Ingest("A.b", "", hdr("Nats-TTL", "10s"), nil)
	s.Ingest("A.c", "", nil, nil)
	clk.add(11 * time.Second)
	s.onTimer()
	if st := s.Store().State(); st.Msgs != 2 {
		t.Fatalf("after ttl: %+v", st)
	}
	clk.add(20 * time.Second) // first message is now 61s old
	s.onTimer()
	if st := s.Store().State(); st.Msgs != 1 || st.FirstSeq != 3 {
		t.Fatalf("after max age: %+v", st)
	}
	clk.add(time.Minute)
	s.onTimer()
	if st := s.Store().State(); st.Msgs != 0 || st.FirstSeq != 4 || st.LastSeq != 3 {
		t.Fatalf("all aged out: %+v", st)
	}
}

func TestSubjectDeleteMarkers(t *testing.T) {
	cfg := baseConfig("K")
	cfg.MaxAge = time.Minute
	cfg.AllowMsgTTL = true
	cfg.SubjectDeleteMarkerTTL = 5 * time.Minute
	s, _, clk := newTestStream(t, cfg)
	s.Ingest("K.a", "", nil, []byte("v"))
	clk.add(2 * time.Minute)
	s.onTimer()
	m, err := s.Store().LoadLast("K.a")
	if err != nil {
		t.Fatalf("no delete marker: %v", err)
	}
	if reason, _ := proto.HeaderValue(m.Header, "Nats-Marker-Reason"); reason != "MaxAge" || m.Seq != 2 {
		t.Fatalf("marker: %+v %q", m, m.Header)
	}
}

func TestRestartRebuildsDedup(t *testing.T) {
	rec, clk := &recorder{}, newClock()
	st := store.NewMemory()
	cfg := baseConfig("D")
	s, err := New(cfg, Options{Store: st, Out: rec, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	s.Ingest("D.a", "", hdr("Nats-Msg-Id", "x"), nil)
	s.Ingest("D.a", "", hdr("Nats-Msg-Id", "y"), nil)
	// A second stream over the same store, as after a restart.
	s2, err := New(cfg, Options{Store: st, Out: rec, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	s2.Ingest("D.a", "r", hdr("Nats-Msg-Id", "x"), nil)
	if got := rec.last("r"); got != `{"stream":"D","seq":1,"duplicate": true}` {
		t.Fatalf("dedup after rebuild: %s", got)
	}
	s2.Ingest("D.a", "r2", hdr("Nats-Expected-Last-Msg-Id", "y"), nil)
	if a := lastAck(t, rec, "r2"); a.Error != nil || a.Seq != 3 {
		t.Fatalf("last msg id after rebuild: %+v", a)
	}
}

func TestInterestWithoutConsumersSkips(t *testing.T) {
	cfg := baseConfig("I")
	cfg.Retention = jsapi.InterestPolicy
	s, rec, _ := newTestStream(t, cfg)
	s.Ingest("I.a", "r", nil, []byte("gone"))
	if got := rec.last("r"); got != `{"stream":"I","seq":1}` {
		t.Fatalf("ack = %s", got)
	}
	if st := s.Store().State(); st.Msgs != 0 || st.LastSeq != 1 {
		t.Fatalf("interest stream kept a message nobody can read: %+v", st)
	}
}
