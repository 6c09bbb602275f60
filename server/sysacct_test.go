package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// sysReporter stands in for the monitoring data: it answers every kind
// with {"kind":…, "account":…} and records what it was asked.
type sysReporter struct {
	mu    sync.Mutex
	calls []string
}

func (r *sysReporter) Report(kind, account string, body []byte) (any, error) {
	r.mu.Lock()
	r.calls = append(r.calls, kind+"/"+account)
	r.mu.Unlock()
	return map[string]string{"kind": kind, "account": account}, nil
}

func (r *sysReporter) asked(call string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if c == call {
			return true
		}
	}
	return false
}

// sysOptions: accounts A, B and SYS (the system account), one user each.
func sysOptions() *Options {
	return &Options{
		Host: "127.0.0.1", Port: RandomPort, ServerName: "sysref",
		Accounts:      []AccountOptions{{Name: "A"}, {Name: "B"}, {Name: "SYS"}},
		SystemAccount: "SYS",
		Users: []*User{
			{Username: "a", Password: "a", Account: "A"},
			{Username: "b", Password: "b", Account: "B"},
			{Username: "sys", Password: "sys", Account: "SYS"},
		},
	}
}

func startSys(t *testing.T, o *Options) (*Server, *sysReporter) {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	rep := &sysReporter{}
	s.sys.SetReporter(rep)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("not ready")
	}
	return s, rep
}

func connectAs(t *testing.T, url, user string, extra ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.UserInfo(user, user)}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// envelope is a reply as the tests read it.
type envelope struct {
	Server map[string]any  `json:"server"`
	Data   json.RawMessage `json:"data"`
	Statsz json.RawMessage `json:"statsz"`
	Error  *struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error"`
}

func request(t *testing.T, nc *nats.Conn, subj, body string) (*envelope, error) {
	t.Helper()
	m, err := nc.Request(subj, []byte(body), 5*time.Second)
	if err != nil {
		return nil, err
	}
	var e envelope
	if err := json.Unmarshal(m.Data, &e); err != nil {
		t.Fatalf("%s: %v: %s", subj, err, m.Data)
	}
	return &e, nil
}

// TestSystemRequests: what the system account's user and an ordinary
// account's user may ask, and what they get.
func TestSystemRequests(t *testing.T) {
	s, rep := startSys(t, sysOptions())
	sys, a := connectAs(t, s.ClientURL(), "sys"), connectAs(t, s.ClientURL(), "a")
	id := s.ID()

	// As sys: every kind, on PING and on the server's id.
	for _, kind := range []string{"STATSZ", "VARZ", "CONNZ", "SUBSZ", "ROUTEZ", "JSZ", "HEALTHZ", "ACCOUNTZ", "IDZ"} {
		for _, subj := range []string{"$SYS.REQ.SERVER.PING." + kind, "$SYS.REQ.SERVER." + id + "." + kind} {
			e, err := request(t, sys, subj, "")
			if err != nil {
				t.Fatalf("%s: %v", subj, err)
			}
			if kind == "IDZ" {
				continue // not enveloped; TestSystemClusterEvents reads it
			}
			if e.Server["id"] != id || e.Server["name"] != "sysref" || e.Error != nil {
				t.Errorf("%s: envelope %+v", subj, e)
			}
			if kind == "STATSZ" && len(e.Statsz) == 0 || kind != "STATSZ" && len(e.Data) == 0 {
				t.Errorf("%s: no data", subj)
			}
		}
	}
	if e, err := request(t, sys, "$SYS.REQ.SERVER.PING", ""); err != nil || len(e.Statsz) == 0 {
		t.Errorf("PING: %v %+v", err, e)
	}
	for _, kind := range []string{"CONNZ", "SUBSZ", "JSZ", "INFO", "STATZ"} {
		if _, err := request(t, sys, "$SYS.REQ.ACCOUNT.B."+kind, ""); err != nil || !rep.asked(kind+"/B") {
			t.Errorf("ACCOUNT.B.%s: %v", kind, err)
		}
	}
	if _, err := request(t, sys, "$SYS.REQ.ACCOUNT.PING.CONNZ", ""); err != nil || !rep.asked("CONNZ/SYS") {
		t.Errorf("ACCOUNT.PING.CONNZ as sys: %v", err)
	}
	e, err := request(t, sys, "$SYS.REQ.USER.INFO", "")
	if err != nil || !strings.Contains(string(e.Data), `"user":"sys","account":"SYS"`) {
		t.Errorf("USER.INFO as sys: %v %s", err, e.Data)
	}
	// Filtered out: this server does not answer at all.
	if _, err := sys.Request("$SYS.REQ.SERVER.PING.STATSZ", []byte(`{"server_name":"other"}`), 300*time.Millisecond); err != nats.ErrTimeout {
		t.Errorf("filtered STATSZ: %v, want a timeout", err)
	}
	for _, subj := range []string{"$SYS.REQ.SERVER." + id + ".NOPE", "$SYS.REQ.SERVER.PING.KICK", "$SYS.REQ.ACCOUNT.A.NOPE"} {
		if _, err := request(t, sys, subj, ""); err != nats.ErrNoResponders {
			t.Errorf("%s as sys: %v, want no responders", subj, err)
		}
	}

	// As a: only its own account's imports answer.
	if _, err := request(t, a, "$SYS.REQ.SERVER.PING.CONNZ", ""); err != nil || !rep.asked("CONNZ/A") {
		t.Errorf("SERVER.PING.CONNZ as a: %v", err)
	}
	if _, err := request(t, a, "$SYS.REQ.ACCOUNT.PING.STATZ", ""); err != nil || !rep.asked("STATZ/A") {
		t.Errorf("ACCOUNT.PING.STATZ as a: %v", err)
	}
	e, err = request(t, a, "$SYS.REQ.USER.INFO", "")
	if err != nil || !strings.Contains(string(e.Data), `"user":"a","account":"A"`) {
		t.Errorf("USER.INFO as a: %v %+v", err, e)
	}
	for _, subj := range []string{"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.VARZ", "$SYS.REQ.SERVER.PING.IDZ",
		"$SYS.REQ.SERVER." + id + ".VARZ", "$SYS.REQ.ACCOUNT.A.CONNZ", "$SYS.REQ.ACCOUNT.A.INFO"} {
		if _, err := request(t, a, subj, ""); err != nats.ErrNoResponders {
			t.Errorf("%s as a: %v, want no responders", subj, err)
		}
	}
}

// TestSystemKickAndLDM: the system user closes a client, and sends
// another to a different server.
func TestSystemKickAndLDM(t *testing.T) {
	s, _ := startSys(t, sysOptions())
	sys := connectAs(t, s.ClientURL(), "sys")
	closed := make(chan struct{})
	ldm := make(chan struct{}, 1)
	victim := connectAs(t, s.ClientURL(), "b", nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	moved := connectAs(t, s.ClientURL(), "b", nats.LameDuckModeHandler(func(*nats.Conn) {
		select {
		case ldm <- struct{}{}:
		default:
		}
	}))
	cid := func(nc *nats.Conn) uint64 {
		id, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ask := func(kind string, id uint64) *envelope {
		e, err := request(t, sys, "$SYS.REQ.SERVER."+s.ID()+"."+kind, fmt.Sprintf(`{"cid":%d}`, id))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		return e
	}
	if e := ask("KICK", cid(victim)); e.Error != nil {
		t.Fatalf("KICK: %+v", e.Error)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("kicked client still connected")
	}
	if e := ask("KICK", 999999); e.Error == nil || e.Error.Code != 500 {
		t.Errorf("KICK of no client: %+v", e)
	}
	if e := ask("LDM", cid(moved)); e.Error != nil {
		t.Fatalf("LDM: %+v", e.Error)
	}
	select {
	case <-ldm:
	case <-time.After(10 * time.Second):
		t.Fatal("client not told of lame duck mode")
	}
	if e, err := request(t, sys, "$SYS.REQ.SERVER."+s.ID()+".RELOAD", ""); err != nil || e.Error == nil {
		t.Errorf("RELOAD of an embedded server: %v %+v", err, e)
	}
}

// nextEvent waits for a message on sub whose subject ends with suffix
// (and, if given, whose client has that name).
func nextEvent(t *testing.T, sub *nats.Subscription, suffix string, name ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		if strings.HasSuffix(m.Subject, suffix) {
			var v map[string]any
			if err := json.Unmarshal(m.Data, &v); err != nil {
				t.Fatal(err)
			}
			if c, _ := v["client"].(map[string]any); len(name) > 0 && (c == nil || c["name"] != name[0]) {
				continue
			}
			return v
		}
	}
	t.Fatalf("no event on *%s", suffix)
	return nil
}

// TestSystemEvents: connections, authentication failures and STATSZ, as
// the system user sees them; an ordinary user sees none of it.
func TestSystemEvents(t *testing.T) {
	s, _ := startSys(t, sysOptions())
	sys := connectAs(t, s.ClientURL(), "sys")
	accEvents, _ := sys.SubscribeSync("$SYS.ACCOUNT.>")
	srvEvents, _ := sys.SubscribeSync("$SYS.SERVER.>")
	sys.Flush()
	a := connectAs(t, s.ClientURL(), "a")
	snoop, _ := a.SubscribeSync("$SYS.>")
	a.Flush()

	gone := connectAs(t, s.ClientURL(), "a", nats.Name("sysref-gone"))
	ev := nextEvent(t, accEvents, "A.CONNECT", "sysref-gone")
	client := ev["client"].(map[string]any)
	if client["name"] != "sysref-gone" || client["acc"] != "A" || client["user"] != "a" || ev["type"] != "io.nats.server.advisory.v1.client_connect" {
		t.Errorf("CONNECT: %v", ev)
	}
	gone.Close()
	ev = nextEvent(t, accEvents, "A.DISCONNECT", "sysref-gone")
	if ev["reason"] != "Client Closed" || ev["client"].(map[string]any)["name"] != "sysref-gone" {
		t.Errorf("DISCONNECT: %v", ev)
	}
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("a", "wrong"), nats.Name("sysref-badpass")); err == nil {
		t.Fatal("wrong password accepted")
	}
	ev = nextEvent(t, srvEvents, ".CLIENT.AUTH.ERR")
	if c := ev["client"].(map[string]any); ev["reason"] != "Authentication Failure" || c["user"] != "a" || c["name"] != "sysref-badpass" || c["acc"] != "$G" {
		t.Errorf("AUTH.ERR: %v", ev)
	}
	ev = nextEvent(t, srvEvents, s.ID()+".STATSZ")
	if ev["statsz"] == nil {
		t.Errorf("STATSZ: %v", ev)
	}
	a.Flush()
	if n, _, _ := snoop.Pending(); n != 0 {
		t.Errorf("a user subscribed to $SYS.> got %d messages", n)
	}
}

// TestSystemClusterEvents: every server answers a PING; a server's lame
// duck and shutdown reach the system user on another server.
func TestSystemClusterEvents(t *testing.T) {
	t.Run("lame duck", func(t *testing.T) { testClusterEvents(t, true) })
	t.Run("shutdown", func(t *testing.T) { testClusterEvents(t, false) })
}

func testClusterEvents(t *testing.T, lameDuck bool) {
	start := func(name string, routes ...*Server) *Server {
		o := sysOptions()
		o.ServerName = name
		o.LameDuckDuration, o.LameDuckGracePeriod = 2*time.Second, 100*time.Millisecond
		o.Cluster = ClusterOptions{Name: "sys", Host: "127.0.0.1", Port: RandomPort}
		for _, r := range routes {
			u, _ := url.Parse(fmt.Sprintf("nats-route://%s", r.ClusterAddr()))
			o.Cluster.Routes = append(o.Cluster.Routes, u)
		}
		s, _ := startSys(t, o)
		return s
	}
	one := start("one")
	two := start("two", one)
	for _, s := range []*Server{one, two} {
		deadline := time.Now().Add(20 * time.Second)
		for s.NumRoutes() != 1 {
			if time.Now().After(deadline) {
				t.Fatal("no route")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	sys := connectAs(t, two.ClientURL(), "sys")
	events, _ := sys.SubscribeSync("$SYS.SERVER." + one.ID() + ".*")
	sys.Flush()

	// Every server answers a PING, once its interest has reached it.
	inbox := nats.NewInbox()
	replies, _ := sys.SubscribeSync(inbox)
	seen := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(seen) < 2 && time.Now().Before(deadline) {
		sys.PublishRequest("$SYS.REQ.SERVER.PING.IDZ", inbox, nil)
		for {
			m, err := replies.NextMsg(200 * time.Millisecond)
			if err != nil {
				break
			}
			var idz struct{ Name, ID string }
			json.Unmarshal(m.Data, &idz)
			seen[idz.Name] = true
		}
	}
	if !seen["one"] || !seen["two"] {
		t.Fatalf("PING answered by %v, want one and two", seen)
	}

	done := make(chan error, 1)
	if lameDuck {
		go func() { done <- one.LameDuck(context.Background()) }()
		nextEvent(t, events, ".LAMEDUCK")
	} else {
		go func() { done <- one.Shutdown(context.Background()) }()
	}
	ev := nextEvent(t, events, ".SHUTDOWN")
	if ev["id"] != one.ID() || ev["name"] != "one" || ev["cluster"] != "sys" {
		t.Errorf("SHUTDOWN: %v", ev)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
