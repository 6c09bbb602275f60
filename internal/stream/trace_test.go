package stream

import (
	"testing"

	"github.com/starling-mq/starling/internal/jsapi"
)

// TestIngestTraced: what a traced ingest reports, in nats-server's
// words, and that trace-only checks without storing or acking.
func TestIngestTraced(t *testing.T) {
	cfg := baseConfig("S")
	cfg.MaxMsgs = 5
	cfg.Discard = jsapi.DiscardNew
	s, rec, _ := newTestStream(t, cfg)
	s.Ingest("S.a", "", hdr("Nats-Msg-Id", "m1"), []byte("one")) // seq 1
	s.Ingest("S.b", "", nil, []byte("two"))                      // seq 2

	tests := []struct {
		name       string
		subject    string
		hdr        []byte
		only       bool
		wantErr    string
		reached    bool
		stored     bool
		ackOrError bool // a reply was sent
	}{
		{"stored", "S.c", nil, false, "", true, true, true},
		{"only: checked, not stored, no ack", "S.c", nil, true, "", true, false, false},
		{"duplicate", "S.a", hdr("Nats-Msg-Id", "m1"), false, "msgid is duplicate", false, false, true},
		{"duplicate, only: the duplicate ack still goes", "S.a", hdr("Nats-Msg-Id", "m1"), true, "msgid is duplicate", false, false, true},
		{"wrong last sequence", "S.a", hdr("Nats-Expected-Last-Sequence", "7"), false, "last sequence mismatch: 7 vs 3", false, false, true},
		{"wrong last sequence, only: the error still goes", "S.a", hdr("Nats-Expected-Last-Sequence", "7"), true, "last sequence mismatch: 7 vs 3", false, false, true},
		{"wrong subject sequence", "S.a", hdr("Nats-Expected-Last-Subject-Sequence", "7"), false, "last sequence by subject mismatch: 7 vs 1", false, false, true},
		{
			"subject sequence right, stream sequence wrong", "S.a",
			hdr("Nats-Expected-Last-Subject-Sequence", "1", "Nats-Expected-Last-Sequence", "9"), false,
			"last sequence mismatch: 9 vs 3", false, false, true,
		},
		{"wrong last msg id", "S.a", hdr("Nats-Expected-Last-Msg-Id", "zz"), false, `last msgid mismatch: "zz" vs ""`, false, false, true},
		{"wrong stream", "S.a", hdr("Nats-Expected-Stream", "T"), false, "expected stream does not match", false, false, true},
		{"ttl disabled", "S.a", hdr("Nats-TTL", "5s"), false, "message TTL disabled", false, false, true},
		{"rollup not permitted", "S.a", hdr("Nats-Rollup", "sub"), false, "rollup not permitted", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Store().State().Msgs
			reply := "r." + tt.name
			tr := &Trace{Only: tt.only}
			s.IngestTraced(tt.subject, reply, tt.hdr, []byte("x"), tr)
			if tr.Err != tt.wantErr || tr.Reached != tt.reached {
				t.Errorf("trace %+v, want err %q reached %v", tr, tt.wantErr, tt.reached)
			}
			if tr.Reached && tr.Subject != tt.subject {
				t.Errorf("subject %q", tr.Subject)
			}
			if stored := s.Store().State().Msgs > before; stored != tt.stored {
				t.Errorf("stored = %v", stored)
			}
			if sent := rec.last(reply) != ""; sent != tt.ackOrError {
				t.Errorf("reply sent = %v (%q)", sent, rec.last(reply))
			}
		})
	}
}

// TestIngestTracedLimitsAndInterest: a refusal by a limit comes after the
// checks (subject set, error from the store), and an interest stream
// without consumers reports nointerest.
func TestIngestTracedLimitsAndInterest(t *testing.T) {
	cfg := baseConfig("L")
	cfg.MaxMsgs = 1
	cfg.Discard = jsapi.DiscardNew
	s, _, _ := newTestStream(t, cfg)
	s.Ingest("L.a", "", nil, nil)
	tr := &Trace{}
	s.IngestTraced("L.a", "", nil, nil, tr)
	if !tr.Reached || tr.Subject != "L.a" || tr.Err != "maximum messages exceeded" {
		t.Errorf("limit: %+v", tr)
	}

	icfg := baseConfig("I")
	icfg.Retention = jsapi.InterestPolicy
	is, _, _ := newTestStream(t, icfg)
	tr = &Trace{}
	is.IngestTraced("I.a", "", nil, nil, tr)
	if !tr.Reached || !tr.NoInterest || tr.Err != "" {
		t.Errorf("interest: %+v", tr)
	}

	s.Close()
	tr = &Trace{}
	s.IngestTraced("L.a", "", nil, nil, tr)
	if tr.Err != "stream closed" {
		t.Errorf("closed: %+v", tr)
	}
}
