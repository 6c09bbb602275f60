package sysacct

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/test/sysref"
)

const testID = "NTESTSERVERID"

// fakeServer stands in for core.Server.
type fakeServer struct {
	mu      sync.Mutex
	seq     uint64
	kicked  []uint64
	ldm     []uint64
	clients map[uint64]identity
	cluster string
}

type identity struct {
	user, acc string
	perms     *auth.Permissions
}

func (f *fakeServer) ID() string          { return testID }
func (f *fakeServer) Name() string        { return "sysref" }
func (f *fakeServer) ClusterName() string { return f.cluster }
func (f *fakeServer) NextEventSeq() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return f.seq
}
func (f *fakeServer) DisconnectClient(cid uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[cid]; !ok {
		return core.ErrNoSuchClient
	}
	f.kicked = append(f.kicked, cid)
	return nil
}
func (f *fakeServer) LameDuckClient(cid uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.clients[cid]; !ok {
		return core.ErrNoSuchClient
	}
	f.ldm = append(f.ldm, cid)
	return nil
}
func (f *fakeServer) ClientIdentity(cid uint64) (string, string, *auth.Permissions, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.clients[cid]
	return id.user, id.acc, id.perms, ok
}

// fakeReporter answers from the recordings' data, or with err.
type fakeReporter struct {
	mu    sync.Mutex
	calls []string
	data  map[string]any // by kind
	err   error
}

func (r *fakeReporter) Report(kind, account string, body []byte) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, kind+"/"+account+"/"+string(body))
	if r.err != nil {
		return nil, r.err
	}
	return r.data[kind], nil
}

// statusErr is a report error with a status and "data": null.
type statusErr struct {
	code int
	null bool
}

func (e statusErr) Error() string   { return "invalid sorting option: nope" }
func (e statusErr) StatusCode() int { return e.code }
func (e statusErr) NullData() bool  { return e.null }

// capture records what the service publishes.
type capture struct {
	mu   sync.Mutex
	msgs []published
}

type published struct {
	subj string
	data []byte
}

func (c *capture) Publish(subj, reply string, hdr, data []byte) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, published{subj, append([]byte(nil), data...)})
	return true, nil
}

func (c *capture) list() []published {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]published(nil), c.msgs...)
}

// recordedField decodes one member of a recording.
func recordedField(t *testing.T, name, field string) any {
	t.Helper()
	b, err := sysref.Recorded(name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m[field]
}

// sameShape compares v's JSON shape with a recording's, leaving out the
// server block's "flags", which nats-server 2.11 added after the 2.9
// recordings.
func sameShape(t *testing.T, name string, v any) {
	t.Helper()
	want, err := sysref.RecordedShape(name)
	if err != nil {
		t.Fatal(err)
	}
	got := sysref.Shape(v)
	for _, p := range []string{"server.flags", "flags"} {
		delete(got, p)
	}
	if diff := sysref.CompareShapes(want, got); diff != nil {
		t.Errorf("%s: shape differs:\n%s", name, strings.Join(diff, "\n"))
	}
}

func newTestService(rep Reporter) (*Service, *fakeServer, *capture) {
	fs := &fakeServer{clients: map[uint64]identity{
		7: {user: "a", acc: "A", perms: &auth.Permissions{Publish: &auth.SubjectPermission{Allow: []string{"x.>"}}}},
	}}
	pub := &capture{}
	s := newService(fs, "SYS", pub, Config{Reporter: rep, Host: "127.0.0.1", JetStream: true})
	return s, fs, pub
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		subj string
		ok   bool
		want request
	}{
		{"$SYS.REQ.SERVER.PING", true, request{scope: scopeServer, kind: "STATSZ"}},
		{"$SYS.REQ.SERVER.PING.VARZ", true, request{scope: scopeServer, kind: "VARZ"}},
		{"$SYS.REQ.SERVER.PING.IDZ", true, request{scope: scopeServer, kind: "IDZ"}},
		{"$SYS.REQ.SERVER.PING.KICK", false, request{}}, // control needs the id
		{"$SYS.REQ.SERVER." + testID + ".KICK", true, request{scope: scopeServer, kind: "KICK", direct: true}},
		{"$SYS.REQ.SERVER." + testID + ".CONNZ", true, request{scope: scopeServer, kind: "CONNZ", direct: true}},
		{"$SYS.REQ.SERVER." + testID + ".NOPE", false, request{}},
		{"$SYS.REQ.SERVER.OTHER.VARZ", false, request{}},
		{"$SYS.REQ.ACCOUNT.A.INFO", true, request{scope: scopeAccount, kind: "INFO", account: "A"}},
		{"$SYS.REQ.ACCOUNT.PING.CONNZ", true, request{scope: scopeAccount, kind: "CONNZ", account: "PING"}},
		{"$SYS.REQ.ACCOUNT.PING.INFO", false, request{}},
		{"$SYS.REQ.ACCOUNT.A.NOPE", false, request{}},
		{"$SYS.REQ.USER.A.INFO", true, request{scope: scopeUser, kind: "INFO", account: "A"}},
		{"$SYS.REQ.USER.A.NOPE", false, request{}},
		{"$SYS.OTHER", false, request{}},
	}
	for _, tt := range tests {
		got, ok := parseRequest(tt.subj, testID)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %+v %v, want %+v %v", tt.subj, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAnswerShapes(t *testing.T) {
	rep := &fakeReporter{data: map[string]any{
		"STATSZ":  recordedField(t, "server_ping", "statsz"),
		"VARZ":    recordedField(t, "server_ping_varz", "data"),
		"CONNZ":   recordedField(t, "server_ping_connz", "data"),
		"HEALTHZ": recordedField(t, "server_ping_healthz", "data"),
		"INFO":    recordedField(t, "account_a_info", "data"),
		"STATZ":   recordedField(t, "account_a_statz", "data"),
	}}
	s, _, _ := newTestService(rep)
	tests := []struct {
		recording, subj, body string
		err                   error
	}{
		{"server_ping", "$SYS.REQ.SERVER.PING", "", nil},
		{"server_ping_statsz", "$SYS.REQ.SERVER.PING.STATSZ", "", nil},
		{"server_ping_statsz_filter_match", "$SYS.REQ.SERVER.PING.STATSZ", `{"server_name":"sysref"}`, nil},
		{"server_ping_varz", "$SYS.REQ.SERVER.PING.VARZ", "", nil},
		{"server_id_connz", "$SYS.REQ.SERVER." + testID + ".CONNZ", "", nil},
		{"server_ping_healthz", "$SYS.REQ.SERVER.PING.HEALTHZ", "", nil},
		{"account_a_info", "$SYS.REQ.ACCOUNT.A.INFO", "", nil},
		{"account_a_statz", "$SYS.REQ.ACCOUNT.A.STATZ", "", nil},
		{"server_ping_connz_bad_json", "$SYS.REQ.SERVER.PING.CONNZ", "{", nil},
		{"server_ping_connz_bad_sort", "$SYS.REQ.SERVER.PING.CONNZ", `{"sort":"nope"}`, statusErr{500, true}},
	}
	for _, tt := range tests {
		rep.err = tt.err
		req, ok := parseRequest(tt.subj, testID)
		if !ok {
			t.Fatalf("%s: not parsed", tt.subj)
		}
		reply, send := s.answer(&job{req: req, reply: "r", body: []byte(tt.body)})
		if !send {
			t.Errorf("%s: no reply", tt.recording)
			continue
		}
		sameShape(t, tt.recording, reply)
	}
}

func TestAnswerFilteredOut(t *testing.T) {
	s, _, _ := newTestService(&fakeReporter{})
	req, _ := parseRequest("$SYS.REQ.SERVER.PING.STATSZ", testID)
	for _, body := range []string{`{"server_name":"other"}`, `{"cluster":"c"}`, `{"domain":"d"}`, `{"tags":["x"]}`} {
		if _, send := s.answer(&job{req: req, reply: "r", body: []byte(body)}); send {
			t.Errorf("%s: answered, want silence", body)
		}
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		err  error
		code int
		null bool
	}{
		{errors.New("boom"), 500, false},
		{statusErr{400, false}, 400, false},
		{statusErr{500, true}, 500, true},
	}
	for _, tt := range tests {
		ae, data := errorResponse(tt.err)
		if ae.Code != tt.code || (data != nil) != tt.null {
			t.Errorf("%v: code %d data %v", tt.err, ae.Code, data)
		}
	}
}

func TestControlRequests(t *testing.T) {
	s, fs, _ := newTestService(nil)
	reload := 0
	s.cfg.Reload = func() error { reload++; return nil }
	run := func(kind, body string) map[string]any {
		t.Helper()
		req, ok := parseRequest("$SYS.REQ.SERVER."+testID+"."+kind, testID)
		if !ok {
			t.Fatalf("%s not parsed", kind)
		}
		reply, send := s.answer(&job{req: req, reply: "r", body: []byte(body)})
		if !send {
			return nil
		}
		var m map[string]any
		b, _ := json.Marshal(reply)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := run("KICK", `{"cid":7}`); m["error"] != nil || m["data"] != nil || len(fs.kicked) != 1 {
		t.Errorf("kick: %v, kicked %v", m, fs.kicked)
	}
	if m := run("KICK", `{"cid":99}`); m["error"].(map[string]any)["description"] != "no such client or leafnode id" {
		t.Errorf("kick of a missing client: %v", m)
	}
	if m := run("KICK", `{`); m != nil {
		t.Errorf("unreadable kick answered: %v", m)
	}
	if m := run("LDM", `{"cid":7}`); m["error"] != nil || len(fs.ldm) != 1 {
		t.Errorf("ldm: %v", m)
	}
	if m := run("RELOAD", ""); m["error"] != nil || reload != 1 {
		t.Errorf("reload: %v (%d)", m, reload)
	}
	s.cfg.Reload = nil
	if m := run("RELOAD", ""); m["error"] == nil {
		t.Errorf("reload without a configuration: %v", m)
	}
	if m := run("IDZ", ""); m["id"] != testID || m["server"] != nil {
		t.Errorf("idz: %v", m)
	}
}

func TestUserInfo(t *testing.T) {
	s, _, _ := newTestService(nil)
	hdr := func(server string, cid uint64) []byte {
		ri, _ := json.Marshal(core.RequestInfo{Account: "A", Server: server, ID: cid})
		return []byte("NATS/1.0\r\n" + core.RequestInfoHeader + ": " + string(ri) + "\r\n\r\n")
	}
	req, _ := parseRequest("$SYS.REQ.USER.A.INFO", testID)
	reply, send := s.answer(&job{req: req, reply: "r", hdr: hdr("sysref", 7)})
	if !send {
		t.Fatal("no reply")
	}
	b, _ := json.Marshal(reply)
	if !strings.Contains(string(b), `"data":{"user":"a","account":"A","permissions":{"publish":{"allow":["x.\u003e"]},"subscribe":{}}}`) {
		t.Errorf("user info: %s", b)
	}
	if _, send := s.answer(&job{req: req, reply: "r", hdr: hdr("other", 7)}); send {
		t.Error("answered for another server's client")
	}
	if _, send := s.answer(&job{req: req, reply: "r"}); send {
		t.Error("answered without a requester")
	}
}

func TestClientEventShapes(t *testing.T) {
	start := time.Now().Add(-time.Second)
	info := core.ConnInfo{CID: 16, IP: "127.0.0.1", Start: start, Name: "sysref-gone", Lang: "go", Version: "1.55.0", User: "a", RTT: time.Millisecond}
	closed := info
	closed.Stop, closed.Reason = time.Now(), "Client Closed"
	si := &ServerInfo{Name: "n", Host: "h", ID: testID, Version: "2.11.0"}
	tests := []struct {
		recording, subj string
		ev              core.ClientEvent
	}{
		{"event_account_connect", "$SYS.ACCOUNT.A.CONNECT", core.ClientEvent{Kind: core.EventConnect, Account: "A", Info: info}},
		{"event_account_disconnect", "$SYS.ACCOUNT.A.DISCONNECT", core.ClientEvent{Kind: core.EventDisconnect, Account: "A", Info: closed}},
		{"event_client_auth_err", "$SYS.SERVER." + testID + ".CLIENT.AUTH.ERR", core.ClientEvent{Kind: core.EventAuthError, Account: "$G", Info: closed}},
	}
	for _, tt := range tests {
		subj, body := clientEvent(tt.ev, testID, si)
		if subj != tt.subj {
			t.Errorf("%s: subject %q, want %q", tt.recording, subj, tt.subj)
		}
		sameShape(t, tt.recording, body)
	}
	// No name: no "name", as nats-server leaves it out.
	noName := tests[0].ev
	noName.Info.Name = ""
	_, body := clientEvent(noName, testID, si)
	sameShape(t, "event_account_connect_noname", body)
}

func TestEventsQueueAndShutdown(t *testing.T) {
	s, fs, pub := newTestService(nil)
	fs.cluster = "c"
	// Not running: the queue fills, the rest are counted as dropped.
	for i := 0; i < maxQueuedEvents+5; i++ {
		s.ClientEvent(core.ClientEvent{Kind: core.EventConnect, Account: "A"})
	}
	if _, ev := s.Dropped(); ev != 5 {
		t.Fatalf("dropped %d events, want 5", ev)
	}
	for len(s.evs) > 0 {
		<-s.evs
	}
	s.run()
	defer s.Stop()
	s.ServerLameDuck()
	s.ServerShutdown() // returns once SHUTDOWN is published
	msgs := pub.list()
	var subjects []string
	for _, m := range msgs {
		if !strings.HasSuffix(m.subj, ".STATSZ") {
			subjects = append(subjects, m.subj)
		}
	}
	want := []string{"$SYS.SERVER." + testID + ".LAMEDUCK", "$SYS.SERVER." + testID + ".SHUTDOWN"}
	if strings.Join(subjects, " ") != strings.Join(want, " ") {
		t.Fatalf("published %v, want %v", subjects, want)
	}
	sameShape(t, "event_server_shutdown", json.RawMessage(msgs[len(msgs)-1].data))
	// After SHUTDOWN nothing more is sent.
	s.ClientEvent(core.ClientEvent{Kind: core.EventConnect, Account: "A"})
	if len(s.evs) != 0 {
		t.Error("event queued after shutdown")
	}
}

func TestHandleDeclinesAndQueues(t *testing.T) {
	s, _, _ := newTestService(nil)
	tests := []struct {
		subj     string
		declined bool
		queued   bool
	}{
		{"$SYS.REQ.SERVER.PING.NOPE", true, false},
		{"$SYS.REQ.SERVER.PING.VARZ", true, false}, // no monitoring data yet
		{"$SYS.REQ.SERVER.PING.IDZ", false, true},
		{"$SYS.REQ.USER.A.INFO", false, true},
	}
	for _, tt := range tests {
		m := &core.Msg{Subject: []byte(tt.subj), Reply: []byte("r")}
		s.handle(m)
		queued := len(s.reqs) == 1
		if m.Declined != tt.declined || queued != tt.queued {
			t.Errorf("%s: declined %v queued %v", tt.subj, m.Declined, queued)
		}
		for len(s.reqs) > 0 {
			<-s.reqs
		}
	}
	s.SetReporter(&fakeReporter{})
	for i := 0; i < maxQueuedRequests+3; i++ {
		s.handle(&core.Msg{Subject: []byte("$SYS.REQ.SERVER.PING.VARZ"), Reply: []byte("r")})
	}
	if req, _ := s.Dropped(); req != 3 {
		t.Errorf("dropped %d requests, want 3", req)
	}
}
