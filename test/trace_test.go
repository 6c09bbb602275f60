package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

// traceEvent is nats-server's MsgTraceEvent as a client reads it, written
// out here from the field names on the wire (not from Starling's types),
// and decoded strictly: an unknown or misspelt field fails the test.
type traceEvent struct {
	Server struct {
		Name      string    `json:"name"`
		Host      string    `json:"host"`
		ID        string    `json:"id"`
		Domain    string    `json:"domain"`
		Version   string    `json:"ver"`
		JetStream bool      `json:"jetstream"`
		Flags     uint64    `json:"flags"`
		Seq       uint64    `json:"seq"`
		Time      time.Time `json:"time"`
	} `json:"server"`
	Request struct {
		Header  map[string][]string `json:"header"`
		MsgSize int                 `json:"msgsize"`
	} `json:"request"`
	Hops   int          `json:"hops"`
	Events []traceEntry `json:"events"`
}

// traceEntry holds the fields of every entry type ("in", "js", "eg").
type traceEntry struct {
	Type       string    `json:"type"`
	TS         time.Time `json:"ts"`
	Kind       int       `json:"kind"`
	CID        uint64    `json:"cid"`
	Name       string    `json:"name"`
	Account    string    `json:"acc"`
	Subj       string    `json:"subj"`
	Error      string    `json:"error"`
	Sub        string    `json:"sub"`
	Queue      string    `json:"queue"`
	Stream     string    `json:"stream"`
	Subject    string    `json:"subject"`
	NoInterest bool      `json:"nointerest"`
}

func decodeTrace(t testing.TB, data []byte) traceEvent {
	t.Helper()
	var ev traceEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("trace event %s: %v", data, err)
	}
	if len(ev.Events) == 0 || ev.Events[0].Type != "in" || ev.Events[0].TS.IsZero() {
		t.Fatalf("trace event without ingress first: %s", data)
	}
	// Against a reference nats-server (raw tests) the version is its own.
	wantVersion := "2.11.0"
	if os.Getenv(referenceEnv) != "" {
		wantVersion = ev.Server.Version
	}
	if ev.Server.ID == "" || ev.Server.Name == "" || ev.Server.Version != wantVersion || ev.Server.Seq == 0 || ev.Server.Time.IsZero() {
		t.Fatalf("trace event server: %+v", ev.Server)
	}
	return ev
}

// nextTrace waits for the next event on sub.
func nextTrace(t testing.TB, sub *nats.Subscription) traceEvent {
	t.Helper()
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no trace event: %v", err)
	}
	return decodeTrace(t, m.Data)
}

// egresses returns the "eg" entries.
func (ev traceEvent) egresses() []traceEntry {
	var out []traceEntry
	for _, e := range ev.Events {
		if e.Type == "eg" {
			out = append(out, e)
		}
	}
	return out
}

func (ev traceEvent) entry(typ string) *traceEntry {
	for i := range ev.Events {
		if ev.Events[i].Type == typ {
			return &ev.Events[i]
		}
	}
	return nil
}

// tracedMsg builds a message carrying the trace headers.
func tracedMsg(subj, dest, only string, kv ...string) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = []byte("payload")
	m.Header.Set("Nats-Trace-Dest", dest)
	if only != "" {
		m.Header.Set("Nats-Trace-Only", only)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Header.Add(kv[i], kv[i+1])
	}
	return m
}

// expectNoMsg proves sub got nothing: a message sent after the one that
// should not arrive comes first.
func expectNoMsg(t testing.TB, nc *nats.Conn, sub *nats.Subscription, subj string) {
	t.Helper()
	marker := []byte("marker-" + strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := nc.Publish(subj, marker); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("marker not received: %v", err)
	}
	if !bytes.Equal(m.Data, marker) {
		t.Fatalf("received %q with headers %v before the marker", m.Data, m.Header)
	}
}

func TestTraceINFOVersion(t *testing.T) {
	s := startServer(t)
	rc := dialRaw(t, s)
	if v := rc.info["version"]; v != "2.11.0" {
		t.Fatalf("INFO version %v, want 2.11.0 (natscli's nats trace needs 2.11)", v)
	}
}

// TestTraceDelivery: a traced message is delivered as usual, headers
// untouched, and the event has the ingress and one egress per delivery,
// a queue group counting once.
func TestTraceDelivery(t *testing.T) {
	s := startServer(t)
	pub := connect(t, s, nats.Name("publisher"))
	subc := connect(t, s, nats.Name("subscriber"))
	plain, _ := subc.SubscribeSync("orders.*")
	q1, _ := subc.QueueSubscribeSync("orders.new", "workers")
	q2, _ := subc.QueueSubscribeSync("orders.new", "workers")
	traces, _ := pub.SubscribeSync("trace.delivery")
	subc.Flush()
	pub.Flush()

	if err := pub.PublishMsg(tracedMsg("orders.new", "trace.delivery", "", "X-Other", " v1 ")); err != nil {
		t.Fatal(err)
	}
	ev := nextTrace(t, traces)
	in := ev.Events[0]
	if in.Kind != 0 || in.Name != "publisher" || in.Account != "$G" || in.Subj != "orders.new" || in.Error != "" || in.CID == 0 {
		t.Errorf("ingress %+v", in)
	}
	if got := ev.Request.Header; len(got["Nats-Trace-Dest"]) != 1 || got["Nats-Trace-Dest"][0] != "trace.delivery" || got["X-Other"][0] != "v1" {
		t.Errorf("request header %v", got)
	}
	if ev.Request.MsgSize == 0 || ev.Hops != 0 {
		t.Errorf("request %+v hops %d", ev.Request, ev.Hops)
	}
	eg := ev.egresses()
	if len(eg) != 2 {
		t.Fatalf("egresses %+v", eg)
	}
	var sawPlain, sawQueue bool
	for _, e := range eg {
		if e.Kind != 0 || e.Name != "subscriber" || e.Error != "" || e.Account != "" {
			t.Errorf("egress %+v", e)
		}
		switch {
		case e.Sub == "orders.*" && e.Queue == "":
			sawPlain = true
		case e.Sub == "orders.new" && e.Queue == "workers":
			sawQueue = true
		}
	}
	if !sawPlain || !sawQueue {
		t.Errorf("egresses %+v", eg)
	}
	m, err := plain.NextMsg(5 * time.Second)
	if err != nil || m.Header.Get("Nats-Trace-Dest") != "trace.delivery" || string(m.Data) != "payload" {
		t.Fatalf("delivered %v %v", m, err)
	}
	got := 0
	for _, q := range []*nats.Subscription{q1, q2} {
		if _, err := q.NextMsg(200 * time.Millisecond); err == nil {
			got++
		}
	}
	if got != 1 {
		t.Fatalf("queue group got %d copies", got)
	}
}

// TestTraceOnly: the accepted Nats-Trace-Only values trace without
// delivering; anything else delivers.
func TestTraceOnly(t *testing.T) {
	s := startServer(t)
	pub := connect(t, s, nats.Name("publisher"))
	subc := connect(t, s, nats.Name("subscriber"))
	sub, _ := subc.SubscribeSync("only.x")
	traces, _ := pub.SubscribeSync("trace.only")
	subc.Flush()
	pub.Flush()
	for _, tt := range []struct {
		value   string
		deliver bool
	}{
		{"true", false}, {"1", false}, {"on", false}, {"TRUE", false}, {"On", false},
		{"false", true}, {"0", true}, {"yes", true}, {"off", true},
	} {
		t.Run(tt.value, func(t *testing.T) {
			if err := pub.PublishMsg(tracedMsg("only.x", "trace.only", tt.value)); err != nil {
				t.Fatal(err)
			}
			ev := nextTrace(t, traces)
			if eg := ev.egresses(); len(eg) != 1 || eg[0].Sub != "only.x" || eg[0].Error != "" {
				t.Fatalf("egresses %+v", eg)
			}
			if tt.deliver {
				if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "payload" {
					t.Fatalf("not delivered: %v", err)
				}
				return
			}
			expectNoMsg(t, pub, sub, "only.x")
		})
	}
}

// TestTraceNoInterest: with nobody subscribed the event has the ingress
// alone; a trace-only request that reached a subscriber gets no
// "no responders", one that reached nobody does.
func TestTraceNoInterest(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	traces, _ := nc.SubscribeSync("trace.none")
	nc.Flush()
	if err := nc.PublishMsg(tracedMsg("nobody.here", "trace.none", "")); err != nil {
		t.Fatal(err)
	}
	if ev := nextTrace(t, traces); len(ev.Events) != 1 || ev.Events[0].Subj != "nobody.here" {
		t.Fatalf("events %+v", ev.Events)
	}

	req := tracedMsg("svc.none", "trace.none", "true")
	if _, err := nc.RequestMsg(req, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("trace-only request to nobody: %v", err)
	}
	nextTrace(t, traces)

	svc := connect(t, s, nats.Name("service"))
	svcSub, _ := svc.SubscribeSync("svc.there")
	svc.Flush()
	req = tracedMsg("svc.there", "trace.none", "true")
	if _, err := nc.RequestMsg(req, 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("trace-only request to a service: %v, want a timeout (no reply, no 503)", err)
	}
	if ev := nextTrace(t, traces); len(ev.egresses()) != 1 || ev.egresses()[0].Name != "service" {
		t.Fatalf("egresses %+v", ev.egresses())
	}
	expectNoMsg(t, svc, svcSub, "svc.there")
}

// TestTracePermissions: a publish refused by permissions is still traced,
// with the violation as the ingress error; a delivery the subscriber's
// deny list refuses is an egress error.
func TestTracePermissions(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.Users = []*server.User{
			{Username: "admin", Password: "pw"},
			{Username: "limited", Password: "pw", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Deny: []string{"secret"}},
			}},
			{Username: "denied", Password: "pw", Permissions: &server.Permissions{
				Subscribe: &server.SubjectPermission{Allow: []string{"foo.*"}, Deny: []string{"foo.secret"}},
			}},
		}
	})
	admin := connect(t, s, nats.UserInfo("admin", "pw"))
	traces, _ := admin.SubscribeSync("trace.perm")
	admin.Flush()
	limited := connect(t, s, nats.UserInfo("limited", "pw"), nats.Name("limited"),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	denied := connect(t, s, nats.UserInfo("denied", "pw"), nats.Name("denied"))
	denied.SubscribeSync("foo.*")
	denied.Flush()

	limited.PublishMsg(tracedMsg("secret", "trace.perm", ""))
	ev := nextTrace(t, traces)
	if in := ev.Events[0]; in.Error != `Permissions Violation for Publish to "secret"` || in.Name != "limited" || len(ev.Events) != 1 {
		t.Fatalf("events %+v", ev.Events)
	}

	limited.PublishMsg(tracedMsg("foo.secret", "trace.perm", ""))
	ev = nextTrace(t, traces)
	if eg := ev.egresses(); len(eg) != 1 || eg[0].Name != "denied" || eg[0].Sub != "foo.*" ||
		eg[0].Error != "Not delivered because subscription denies this subject" {
		t.Fatalf("egresses %+v", eg)
	}
}

// TestTraceNoEcho: a subscription of the publisher's own connection
// without echo is reported, not skipped silently.
func TestTraceNoEcho(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s, nats.NoEcho(), nats.Name("self"))
	nc.SubscribeSync("echo.x")
	watcher := connect(t, s)
	traces, _ := watcher.SubscribeSync("trace.echo")
	watcher.Flush()
	nc.Flush()
	nc.PublishMsg(tracedMsg("echo.x", "trace.echo", ""))
	eg := nextTrace(t, traces).egresses()
	if len(eg) != 1 || eg[0].Name != "self" || eg[0].Error != "Not delivered because of no echo" {
		t.Fatalf("egresses %+v", eg)
	}
}

// TestTraceUntraced: without a usable destination nothing is traced and
// the message is delivered, except that trace-only still holds it back;
// a traceparent alone (which would need an account trace destination) is
// delivered untraced, its key lowered as nats-server lowers it.
func TestTraceUntraced(t *testing.T) {
	s := startServer(t)
	rc := dialRaw(t, s)
	rc.send(connectQuiet + "SUB trace.> 1\r\nSUB plain.x 2\r\n")
	for _, tt := range []struct {
		name, hdr, want string
	}{
		{"lower-case dest key", "NATS/1.0\r\nnats-trace-dest: trace.a\r\n\r\n", "same"},
		{"wildcard dest", "NATS/1.0\r\nNats-Trace-Dest: trace.*\r\n\r\n", "same"},
		{"traceparent", "NATS/1.0\r\nTraceParent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
			"NATS/1.0\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"},
		{"empty dest with only", "NATS/1.0\r\nNats-Trace-Dest: \r\nNats-Trace-Only: true\r\n\r\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc.send(fmt.Sprintf("HPUB plain.x %d %d\r\n%shi\r\n", len(tt.hdr), len(tt.hdr)+2, tt.hdr))
			switch tt.want {
			case "":
			case "same":
				rc.expect(fmt.Sprintf("HMSG plain.x 2 %d %d\r\n%shi\r\n", len(tt.hdr), len(tt.hdr)+2, tt.hdr))
			default:
				rc.expect(fmt.Sprintf("HMSG plain.x 2 %d %d\r\n%shi\r\n", len(tt.want), len(tt.want)+2, tt.want))
			}
			rc.quiet()
		})
	}
	// A wildcard destination with trace-only: not delivered, and the
	// event goes where the destination leads, as with nats-server (which
	// writes its own events' MSG lines with two spaces).
	hdr := "NATS/1.0\r\nNats-Trace-Dest: trace.*\r\nNats-Trace-Only: true\r\n\r\n"
	rc.send(fmt.Sprintf("HPUB plain.x %d %d\r\n%shi\r\n", len(hdr), len(hdr)+2, hdr))
	line := rc.expectMatch(`^MSG trace\.\* 1 +\d+\r\n$`)
	body := rc.readBody(line)
	if eg := decodeTrace(t, body).egresses(); len(eg) != 1 || eg[0].Sub != "plain.x" {
		t.Fatalf("egresses %+v", eg)
	}
	rc.quiet()
}

// readBody reads the payload announced by a MSG line.
func (rc *rawConn) readBody(line string) []byte {
	rc.t.Helper()
	f := strings.Fields(line)
	n, err := strconv.Atoi(f[len(f)-1])
	if err != nil {
		rc.t.Fatalf("MSG line %q", line)
	}
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n+2)
	if _, err := io.ReadFull(rc.r, b); err != nil {
		rc.t.Fatalf("body: %v", err)
	}
	return b[:n]
}

// TestTraceCompression: Accept-Encoding picks the event's compression and
// Content-Encoding says which, as natscli expects (it asks for snappy).
func TestTraceCompression(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	traces, _ := nc.SubscribeSync("trace.z")
	nc.Flush()
	for _, tt := range []struct{ accept, encoding string }{
		{"snappy", "snappy"}, {"s2", "snappy"}, {"gzip", "gzip"}, {"br", "identity"}, {"", ""},
	} {
		m := tracedMsg("z.x", "trace.z", "true")
		if tt.accept != "" {
			m.Header.Set("Accept-Encoding", tt.accept)
		}
		nc.PublishMsg(m)
		ev, err := traces.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.Header.Get("Content-Encoding"); got != tt.encoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tt.accept, got, tt.encoding)
		}
		data := ev.Data
		if tt.encoding == "snappy" {
			if data, err = io.ReadAll(s2.NewReader(bytes.NewReader(ev.Data))); err != nil {
				t.Fatal(err)
			}
		}
		if tt.encoding == "gzip" {
			if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
				t.Errorf("not gzip: %q", data)
			}
			continue
		}
		decodeTrace(t, data)
	}
}

// TestTraceMaxPayload: a message over max_payload whose start names a
// destination is reported (ingress error) before the connection closes.
func TestTraceMaxPayload(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.MaxPayload = 1024 })
	watcher := dialRaw(t, s)
	watcher.send(connectQuiet + "SUB trace.big 1\r\nPING\r\n")
	watcher.expect("PONG\r\n")
	rc := dialRaw(t, s)
	hdr := "NATS/1.0\r\nNats-Trace-Dest: trace.big\r\n\r\n"
	rc.send(connectQuiet[:len(connectQuiet)-3] + ",\"name\":\"big\"}\r\n" +
		fmt.Sprintf("HPUB foo %d %d\r\n%s%s", len(hdr), len(hdr)+2000, hdr, strings.Repeat("x", 100)))
	rc.expectClosed("-ERR 'Maximum Payload Violation'\r\n")
	ev := decodeTrace(t, watcher.readBody(watcher.expectMatch(`^MSG trace\.big 1 +\d+\r\n$`)))
	in := ev.Events[0]
	if in.Error != "maximum payload exceeded" || in.Name != "big" || in.Subj != "" || in.Account != "" || ev.Request.MsgSize != len(hdr)+2000 {
		t.Fatalf("event %+v", ev)
	}
}
