package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestTraceJetStream: a traced message offered to a stream says what the
// stream did, in nats-server's words; trace-only checks and stores
// nothing; the stored copy's trace header is renamed so that it never
// starts a trace again.
func TestTraceJetStream(t *testing.T) {
	s := startJS(t, "")
	nc, js := jsConnect(t, s)
	if _, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: "S", Subjects: []string{"st.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: "I", Subjects: []string{"in.>"}, Retention: jetstream.InterestPolicy}); err != nil {
		t.Fatal(err)
	}
	traces, _ := nc.SubscribeSync("trace.js")
	nc.Flush()

	tests := []struct {
		name       string
		msg        *nats.Msg
		stream     string
		subject    string // set when the checks passed
		noInterest bool
		err        string
		stored     bool
	}{
		{"stored", tracedMsg("st.a", "trace.js", "", "Nats-Msg-Id", "id1"), "S", "st.a", false, "", true},
		{"trace only", tracedMsg("st.b", "trace.js", "true"), "S", "st.b", false, "", false},
		{"duplicate", tracedMsg("st.a", "trace.js", "", "Nats-Msg-Id", "id1"), "S", "", false, "msgid is duplicate", false},
		{"duplicate, trace only", tracedMsg("st.a", "trace.js", "1", "Nats-Msg-Id", "id1"), "S", "", false, "msgid is duplicate", false},
		{"wrong last sequence", tracedMsg("st.b", "trace.js", "", "Nats-Expected-Last-Sequence", "7"), "S", "", false, "last sequence mismatch: 7 vs 1", false},
		{"wrong last subject sequence", tracedMsg("st.b", "trace.js", "", "Nats-Expected-Last-Subject-Sequence", "7"), "S", "", false, "last sequence by subject mismatch: 7 vs 0", false},
		{"wrong last msg id", tracedMsg("st.b", "trace.js", "", "Nats-Expected-Last-Msg-Id", "zz"), "S", "", false, `last msgid mismatch: "zz" vs "id1"`, false},
		{"wrong stream", tracedMsg("st.b", "trace.js", "", "Nats-Expected-Stream", "zz"), "S", "", false, "expected stream does not match", false},
		{"ttl disabled", tracedMsg("st.b", "trace.js", "", "Nats-TTL", "10s"), "S", "", false, "message TTL disabled", false},
		{"no interest", tracedMsg("in.b", "trace.js", ""), "I", "in.b", true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := streamMsgs(t, js, tt.stream)
			if err := nc.PublishMsg(tt.msg); err != nil {
				t.Fatal(err)
			}
			ev := nextTrace(t, traces)
			e := ev.entry("js")
			if e == nil {
				t.Fatalf("no js entry: %+v", ev.Events)
			}
			if e.Stream != tt.stream || e.Subject != tt.subject || e.NoInterest != tt.noInterest || e.Error != tt.err || e.TS.IsZero() {
				t.Errorf("js entry %+v", *e)
			}
			if len(ev.egresses()) != 0 {
				t.Errorf("a stream is not an egress: %+v", ev.egresses())
			}
			if stored := streamMsgs(t, js, tt.stream) > before; stored != tt.stored {
				t.Errorf("stored = %v", stored)
			}
		})
	}

	m, err := js.Stream(ctx(t), "S")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.GetMsg(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Header.Get("Xats-Trace-Dest") != "trace.js" || raw.Header.Get("Nats-Trace-Dest") != "" {
		t.Errorf("stored headers %v, want the trace header renamed", raw.Header)
	}
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	st, err := js.Stream(ctx(t), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// TestTraceJetStreamAcks: a trace-only publish gets no ack (nothing was
// stored), but a refusal is still answered, as nats-server does.
func TestTraceJetStreamAcks(t *testing.T) {
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	if _, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: "A", Subjects: []string{"ack.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	rc := dialRaw(t, s)
	rc.send(connectQuiet + "SUB trace.ack 1\r\nSUB reply 2\r\n")
	pub := func(extra string) {
		hdr := "NATS/1.0\r\nNats-Trace-Dest: trace.ack\r\nNats-Trace-Only: true\r\n" + extra + "\r\n"
		rc.send(fmt.Sprintf("HPUB ack.x reply %d %d\r\n%sx\r\nPING\r\n", len(hdr), len(hdr)+1, hdr))
	}
	// Success, trace-only: the event, then PONG; no ack in between.
	pub("")
	ev := decodeTrace(t, rc.readBody(rc.expectMatch(`^MSG trace\.ack 1 \d+\r\n$`)))
	if e := ev.entry("js"); e == nil || e.Subject != "ack.x" || e.Error != "" {
		t.Fatalf("js entry %+v", e)
	}
	rc.expect("PONG\r\n")

	// Refused, trace-only: the error reply comes first, then the event.
	pub("Nats-Expected-Last-Sequence: 5\r\n")
	body := rc.readBody(rc.expectMatch(`^MSG reply 2 \d+\r\n$`))
	var ack struct {
		Error *struct {
			ErrCode int `json:"err_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &ack); err != nil || ack.Error == nil || ack.Error.ErrCode != 10071 {
		t.Fatalf("error reply %s (%v)", body, err)
	}
	ev = decodeTrace(t, rc.readBody(rc.expectMatch(`^MSG trace\.ack 1 \d+\r\n$`)))
	if e := ev.entry("js"); e == nil || e.Error != "last sequence mismatch: 5 vs 0" {
		t.Fatalf("js entry %+v", e)
	}
	rc.expect("PONG\r\n")
	if n := streamMsgs(t, js, "A"); n != 0 {
		t.Fatalf("stream holds %d messages", n)
	}
}

// TestTraceJetStreamAPI: a traced request to an internal service (the
// JetStream API) is served like any other; internal subscriptions are
// not egresses, as in nats-server.
func TestTraceJetStreamAPI(t *testing.T) {
	s := startJS(t, "")
	nc := connect(t, s)
	traces, _ := nc.SubscribeSync("trace.api")
	nc.Flush()
	req := tracedMsg("$JS.API.INFO", "trace.api", "")
	req.Data = nil
	resp, err := nc.RequestMsg(req, 5*time.Second)
	if err != nil || !strings.Contains(string(resp.Data), `"type":"io.nats.jetstream.api.v1.account_info_response"`) {
		t.Fatalf("API reply %v %v", resp, err)
	}
	ev := nextTrace(t, traces)
	if len(ev.Events) != 1 || ev.Events[0].Subj != "$JS.API.INFO" {
		t.Fatalf("events %+v", ev.Events)
	}
}
