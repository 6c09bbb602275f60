package sysref

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestRecord starts nats-server (2.9.10 is the reference) with accounts A, B and SYS, makes
// every system-account request and triggers every event Starling must match, and rewrites
// testdata/ with what came back. It only runs when asked to: the files are the reference, not
// something each test run should regenerate.
//
//	STARLING_SYSREF_RECORD=1 go test ./test/sysref/ -run Record -v
func TestRecord(t *testing.T) {
	if os.Getenv("STARLING_SYSREF_RECORD") != "1" {
		t.Skip("set STARLING_SYSREF_RECORD=1 to re-record testdata from nats-server")
	}
	bin := os.Getenv("STARLING_SYSREF_SERVER")
	if bin == "" {
		bin = "/usr/sbin/nats-server"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("nats-server binary: %v", err)
	}
	rec := &recorder{t: t, dir: "testdata"}
	rec.clean()

	srv := startServer(t, bin, "sysref", nil, 0)
	recordRun(t, rec, srv)
	recordClusterEvents(t, rec, bin)

	rec.writeIndex()
	rec.writeSchema()
}

// ---- the server ----

type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	dir  string
	done chan struct{}
}

// serverConf is the configuration every run uses: %s is the server name, %d the client port,
// the last %s the JetStream or cluster block.
const serverConf = `
server_name: %s
listen: 127.0.0.1:%d
lame_duck_duration: 30s
lame_duck_grace_period: 1s
accounts {
  A {
    jetstream: enabled
    users: [ {user: a, password: a} ]
    exports: [ {stream: "a.events.>"} ]
    imports: [ {service: {account: B, subject: "b.svc.>"}} ]
  }
  B {
    users: [ {user: b, password: b} ]
    exports: [ {service: "b.svc.>"} ]
    imports: [ {stream: {account: A, subject: "a.events.>"}} ]
  }
  SYS {
    users: [ {user: sys, password: sys} ]
  }
}
system_account: SYS
%s
`

const jetStreamBlock = `jetstream {
  store_dir: %q
  max_memory_store: 64MB
  max_file_store: 256MB
}`

const clusterBlock = `cluster {
  name: sysref
  listen: 127.0.0.1:%d
  routes: [ %s ]
}`

// startServer runs nats-server alone with JetStream when clusterPorts is nil, else as the
// idx-th member of a cluster listening for routes on clusterPorts, without JetStream.
func startServer(t *testing.T, bin, name string, clusterPorts []int, idx int) *server {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "server.conf")
	extra := fmt.Sprintf(jetStreamBlock, filepath.Join(dir, "js"))
	if clusterPorts != nil {
		var routes []string
		for i, p := range clusterPorts {
			if i != idx {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
			}
		}
		extra = fmt.Sprintf(clusterBlock, clusterPorts[idx], strings.Join(routes, ", "))
	}
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(serverConf, name, port, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf, "-l", filepath.Join(dir, "server.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, url: fmt.Sprintf("nats://127.0.0.1:%d", port), dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	eventually(t, 10*time.Second, "server accepts connections", func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return s
}

// stop ends the server this test started, by its own PID, and waits for it.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("server pid %d did not exit", s.cmd.Process.Pid)
	}
}

func (s *server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

func (s *server) connect(t *testing.T, user, pass, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.url, nats.UserInfo(user, pass), nats.Name(name), nats.NoReconnect())
	if err != nil {
		t.Fatalf("connect %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- the events ----

// events collects every event the system user can see: everything under $SYS.ACCOUNT.> and
// $SYS.SERVER.>. It leaves $SYS.REQ.> alone so that a request nobody answers gets "no
// responders" rather than silently reaching this watcher.
type events struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func watchEvents(t *testing.T, nc *nats.Conn) *events {
	t.Helper()
	ev := &events{}
	for _, subj := range []string{"$SYS.ACCOUNT.>", "$SYS.SERVER.>"} {
		_, err := nc.Subscribe(subj, func(m *nats.Msg) {
			ev.mu.Lock()
			ev.msgs = append(ev.msgs, m)
			ev.mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ev
}

// first returns the first message whose subject is subj and whose data passes keep (nil: any).
func (ev *events) first(subj string, keep func([]byte) bool) *nats.Msg {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, m := range ev.msgs {
		if m.Subject == subj && (keep == nil || keep(m.Data)) {
			return m
		}
	}
	return nil
}

// wait polls for first(subj, keep) up to d; nil when nothing came.
func (ev *events) wait(subj string, keep func([]byte) bool, d time.Duration) *nats.Msg {
	deadline := time.Now().Add(d)
	for {
		if m := ev.first(subj, keep); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (ev *events) subjects() map[string]int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	out := map[string]int{}
	for _, m := range ev.msgs {
		out[m.Subject]++
	}
	return out
}

func mentions(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

// ---- the recording ----

func recordRun(t *testing.T, rec *recorder, srv *server) {
	sys := srv.connect(t, "sys", "sys", "sysref-sys")
	ev := watchEvents(t, sys)
	id := sys.ConnectedServerId()

	// Account A: JetStream with a stream and a consumer, publishes the exported stream and asks
	// B's exported service. Account B: answers the service and reads the imported stream.
	a := srv.connect(t, "a", "a", "sysref-a")
	b := srv.connect(t, "b", "b", "sysref-b")
	if _, err := b.Subscribe("b.svc.>", func(m *nats.Msg) { _ = m.Respond([]byte("pong")) }); err != nil {
		t.Fatal(err)
	}
	if _, err := b.QueueSubscribe("a.events.>", "q", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Request("b.svc.echo", []byte("ping"), 2*time.Second); err != nil {
		t.Fatalf("service import: %v", err)
	}
	if err := a.Publish("a.events.one", []byte("1")); err != nil {
		t.Fatal(err)
	}
	js, err := a.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := js.Publish("orders.new", []byte("o")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.AddConsumer("ORDERS", &nats.ConsumerConfig{Durable: "C1", AckPolicy: nats.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SubscribeSync("a.plain"); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}

	// A closed connection in A, so connz with state=closed has something to list, and the
	// CONNECT and DISCONNECT events of a client that has a name.
	gone := srv.connect(t, "a", "a", "sysref-gone")
	goneCID, _ := gone.GetClientID()
	gone.Close()
	rec.event("event_account_connect", "$SYS.ACCOUNT.A.CONNECT",
		ev.wait("$SYS.ACCOUNT.A.CONNECT", mentions("sysref-gone"), 5*time.Second))
	rec.event("event_account_disconnect", "$SYS.ACCOUNT.A.DISCONNECT",
		ev.wait("$SYS.ACCOUNT.A.DISCONNECT", mentions("sysref-gone"), 5*time.Second))
	// A client without a name, in B, for the variant where optional fields are empty.
	anon, err := nats.Connect(srv.url, nats.UserInfo("b", "b"), nats.NoReconnect())
	if err != nil {
		t.Fatal(err)
	}
	anonCID, _ := anon.GetClientID()
	anon.Close()
	cidKey := func(cid uint64) func([]byte) bool { return mentions(fmt.Sprintf(`"id":%d,`, cid)) }
	rec.event("event_account_connect_noname", "$SYS.ACCOUNT.B.CONNECT",
		ev.wait("$SYS.ACCOUNT.B.CONNECT", cidKey(anonCID), 5*time.Second))
	rec.event("event_account_disconnect_noname", "$SYS.ACCOUNT.B.DISCONNECT",
		ev.wait("$SYS.ACCOUNT.B.DISCONNECT", cidKey(anonCID), 5*time.Second))
	_ = goneCID

	// A wrong password.
	if nc, err := nats.Connect(srv.url, nats.UserInfo("a", "wrong"), nats.Name("sysref-badpass"), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("wrong password was accepted")
	}
	authErr := "$SYS.SERVER." + id + ".CLIENT.AUTH.ERR"
	rec.event("event_client_auth_err", authErr, ev.wait(authErr, nil, 5*time.Second))
	if nc, err := nats.Connect(srv.url, nats.UserInfo("nobody", "x"), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("unknown user was accepted")
	}
	rec.event("event_client_auth_err_noname", authErr, ev.wait(authErr, mentions(`"user":"nobody"`), 5*time.Second))

	recordRequests(t, rec, sys, a, b, id)

	statsz := "$SYS.SERVER." + id + ".STATSZ"
	rec.event("event_server_statsz", statsz, ev.wait(statsz, nil, 45*time.Second))

	// Requests that act on the server, last since they may change it.
	victim := srv.connect(t, "a", "a", "sysref-kick")
	victimCID, _ := victim.GetClientID()
	cidBody := fmt.Sprintf(`{"cid":%d}`, victimCID)
	base := "$SYS.REQ.SERVER." + id + "."
	rec.request(sys, "sys", "server_id_kick", "KICK", base+"KICK", cidBody)
	rec.request(sys, "sys", "server_id_ldm", "LDM", base+"LDM", cidBody)
	rec.request(sys, "sys", "server_id_reload", "RELOAD", base+"RELOAD", "")

	// The SHUTDOWN event of a lone server never reaches its own clients (they are closed
	// with it); recordClusterEvents catches it on a peer.
	shutdown := "$SYS.SERVER." + id + ".SHUTDOWN"
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	m := ev.wait(shutdown, nil, 5*time.Second)
	rec.notes = append(rec.notes, fmt.Sprintf("a lone server's own system client saw its SHUTDOWN event after SIGTERM: %v", m != nil))
	select {
	case <-srv.done:
	case <-time.After(15 * time.Second):
		t.Errorf("server did not exit after SIGTERM")
	}
	rec.seen = ev.subjects()
	rec.serverID = id
}

// recordClusterEvents runs three clustered servers and watches from the third: the first
// gets SIGTERM (SHUTDOWN), the second SIGUSR2 (lame duck mode, then LAMEDUCK and SHUTDOWN).
func recordClusterEvents(t *testing.T, rec *recorder, bin string) {
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var srvs []*server
	for i := range ports {
		srvs = append(srvs, startServer(t, bin, fmt.Sprintf("sysref-%d", i+1), ports, i))
	}
	watch := srvs[2].connect(t, "sys", "sys", "sysref-watch")
	ev := watchEvents(t, watch)
	eventually(t, 20*time.Second, "three servers answer a PING", func() bool {
		return len(pingAll(t, watch)) == 3
	})
	ids := map[string]string{}
	for i, s := range srvs[:2] {
		nc := s.connect(t, "sys", "sys", "sysref-id")
		ids[nc.ConnectedServerId()] = fmt.Sprintf("<id%d>", i+1)
		nc.Close()
	}

	var id1, id2 string
	for id, n := range ids {
		if n == "<id1>" {
			id1 = id
		} else {
			id2 = id
		}
	}
	if err := srvs[0].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	subj := "$SYS.SERVER." + id1 + ".SHUTDOWN"
	rec.event("event_server_shutdown", subj, ev.wait(subj, nil, 10*time.Second))

	signalled := time.Now()
	if err := srvs[1].cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	subj = "$SYS.SERVER." + id2 + ".SHUTDOWN"
	m := ev.wait(subj, nil, 40*time.Second)
	if m != nil {
		rec.notes = append(rec.notes, fmt.Sprintf("SHUTDOWN reached a peer %v after SIGUSR2 (lame_duck_duration 30s): at the start of lame duck mode, not at its end",
			time.Since(signalled).Round(100*time.Millisecond)))
	}
	rec.event("event_server_shutdown_after_lameduck", subj, m)
	subj = "$SYS.SERVER." + id2 + ".LAMEDUCK"
	rec.event("event_server_lameduck", subj, ev.wait(subj, nil, 5*time.Second))
	exited := false
	select {
	case <-srvs[1].done:
		exited = true
	case <-time.After(40 * time.Second):
	}
	rec.notes = append(rec.notes, fmt.Sprintf("after SIGUSR2 (lame_duck_duration 30s, grace 1s) the server exited: %v; its log mentions lame duck: %v",
		exited, strings.Contains(strings.ToLower(srvs[1].log()), "lame duck")))
	for s, n := range ev.subjects() {
		for id, name := range ids {
			s = strings.Replace(s, id, name, 1)
		}
		if strings.Contains(s, "<id") {
			rec.clusterSeen = append(rec.clusterSeen, fmt.Sprintf("%s x%d", s, n))
		}
	}
	sort.Strings(rec.clusterSeen)
}

// pingAll publishes $SYS.REQ.SERVER.PING and returns the server ids that answered within 1s.
func pingAll(t *testing.T, nc *nats.Conn) map[string]bool {
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$SYS.REQ.SERVER.PING", inbox, nil); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for {
		m, err := sub.NextMsg(time.Second)
		if err != nil {
			return ids
		}
		var r struct {
			Server struct {
				ID string `json:"id"`
			} `json:"server"`
		}
		if json.Unmarshal(m.Data, &r) == nil {
			ids[r.Server.ID] = true
		}
	}
}

var monitorKinds = []string{"STATSZ", "VARZ", "CONNZ", "SUBSZ", "ROUTEZ", "JSZ", "HEALTHZ", "ACCOUNTZ", "IDZ"}

// bodies are the request bodies tried for each kind, beyond the empty one, keyed by a name
// suffix.
var bodies = map[string][][2]string{
	"STATSZ": {{"filter_match", `{"server_name":"sysref"}`}, {"filter_nomatch", `{"server_name":"other"}`}},
	"VARZ":   {{"filter_match", `{"server_name":"sysref"}`}},
	"CONNZ": {
		{"subscriptions", `{"subscriptions":true}`},
		{"subscriptions_detail", `{"subscriptions_detail":true}`},
		{"auth", `{"auth":true}`},
		{"acc_a", `{"acc":"A","subscriptions":true}`},
		{"state_closed", `{"state":1,"auth":true}`},
		{"sort_bytes_to", `{"sort":"bytes_to"}`},
		{"limit_offset", `{"limit":1,"offset":1}`},
		{"user_a", `{"user":"a","auth":true}`},
		{"subs_unknown_key", `{"subs":true}`},
		{"bad_json", `{`},
		{"bad_sort", `{"sort":"nope"}`},
	},
	"SUBSZ": {
		{"subscriptions", `{"subscriptions":true}`},
		{"account_a", `{"account":"A","subscriptions":true}`},
		{"test_subject", `{"subscriptions":true,"test":"b.svc.echo"}`},
		{"limit", `{"subscriptions":true,"limit":2}`},
	},
	"ROUTEZ": {{"subscriptions", `{"subscriptions":true}`}},
	"JSZ": {
		{"accounts", `{"accounts":true}`},
		{"all", `{"accounts":true,"streams":true,"consumer":true,"config":true}`},
		{"account_a", `{"account":"A","streams":true,"consumer":true}`},
	},
	"HEALTHZ": {
		{"js_enabled_only", `{"js-enabled-only":true}`},
		{"js_server_only", `{"js-server-only":true}`},
		{"stream", `{"account":"A","stream":"ORDERS"}`},
		{"stream_missing", `{"account":"A","stream":"NOPE"}`},
	},
	"ACCOUNTZ": {
		{"account_a", `{"account":"A"}`},
		{"account_b", `{"account":"B"}`},
		{"account_sys", `{"account":"SYS"}`},
		{"account_missing", `{"account":"NOPE"}`},
	},
}

var accountKinds = []string{"CONNZ", "SUBSZ", "JSZ", "INFO", "STATZ"}

var accountBodies = map[string][][2]string{
	"CONNZ": {{"subscriptions", `{"subscriptions":true}`}},
	"SUBSZ": {{"subscriptions", `{"subscriptions":true}`}},
	"JSZ":   {{"streams", `{"streams":true,"consumer":true,"config":true}`}},
	"STATZ": {{"include_unused", `{"include_unused":true}`}},
}

func recordRequests(t *testing.T, rec *recorder, sys, a, b *nats.Conn, id string) {
	rec.request(sys, "sys", "server_ping", "STATSZ", "$SYS.REQ.SERVER.PING", "")
	for _, k := range monitorKinds {
		lk := strings.ToLower(k)
		rec.request(sys, "sys", "server_ping_"+lk, k, "$SYS.REQ.SERVER.PING."+k, "")
		rec.request(sys, "sys", "server_id_"+lk, k, "$SYS.REQ.SERVER."+id+"."+k, "")
		for _, bd := range bodies[k] {
			rec.request(sys, "sys", "server_ping_"+lk+"_"+bd[0], k, "$SYS.REQ.SERVER.PING."+k, bd[1])
		}
	}
	rec.request(sys, "sys", "server_id_unknown", "", "$SYS.REQ.SERVER."+id+".NOPE", "")

	for _, acc := range []string{"A", "B", "SYS"} {
		for _, k := range accountKinds {
			name := "account_" + strings.ToLower(acc) + "_" + strings.ToLower(k)
			subj := "$SYS.REQ.ACCOUNT." + acc + "." + k
			rec.request(sys, "sys", name, "ACCOUNT_"+k, subj, "")
			for _, bd := range accountBodies[k] {
				rec.request(sys, "sys", name+"_"+bd[0], "ACCOUNT_"+k, subj, bd[1])
			}
		}
	}
	rec.request(sys, "sys", "account_missing_info", "ACCOUNT_INFO", "$SYS.REQ.ACCOUNT.NOPE.INFO", "")
	rec.request(sys, "sys", "account_ping_connz", "ACCOUNT_CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ", "")
	rec.request(sys, "sys", "account_ping_statz", "ACCOUNT_STATZ", "$SYS.REQ.ACCOUNT.PING.STATZ", "")
	rec.request(sys, "sys", "account_ping_statz_accounts", "ACCOUNT_STATZ", "$SYS.REQ.ACCOUNT.PING.STATZ", `{"accounts":["A","B"]}`)
	rec.request(sys, "sys", "user_info_sys", "USER_INFO", "$SYS.REQ.USER.INFO", "")

	// What an ordinary account's user gets on $SYS subjects.
	for _, u := range []struct {
		name string
		nc   *nats.Conn
	}{{"a", a}, {"b", b}} {
		p := "user_" + u.name + "_"
		rec.request(u.nc, u.name, p+"user_info", "USER_INFO", "$SYS.REQ.USER.INFO", "")
		rec.request(u.nc, u.name, p+"account_ping_connz", "ACCOUNT_CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ", "")
		rec.request(u.nc, u.name, p+"account_ping_connz_subscriptions", "ACCOUNT_CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ", `{"subscriptions":true}`)
		rec.request(u.nc, u.name, p+"account_ping_statz", "ACCOUNT_STATZ", "$SYS.REQ.ACCOUNT.PING.STATZ", "")
		rec.request(u.nc, u.name, p+"server_ping", "STATSZ", "$SYS.REQ.SERVER.PING", "")
		for _, k := range monitorKinds {
			rec.request(u.nc, u.name, p+"server_ping_"+strings.ToLower(k), k, "$SYS.REQ.SERVER.PING."+k, "")
		}
		rec.request(u.nc, u.name, p+"server_id_varz", "VARZ", "$SYS.REQ.SERVER."+id+".VARZ", "")
		rec.request(u.nc, u.name, p+"account_own_connz", "ACCOUNT_CONNZ", "$SYS.REQ.ACCOUNT."+strings.ToUpper(u.name)+".CONNZ", "")
		rec.request(u.nc, u.name, p+"account_own_info", "ACCOUNT_INFO", "$SYS.REQ.ACCOUNT."+strings.ToUpper(u.name)+".INFO", "")
	}
	// Whether an ordinary account sees any $SYS.> traffic at all.
	sub, err := a.SubscribeSync("$SYS.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if nc, err := nats.Connect(a.ConnectedUrl(), nats.UserInfo("a", "a"), nats.NoReconnect()); err == nil {
		nc.Close()
	}
	_, err = sub.NextMsg(2 * time.Second)
	rec.notes = append(rec.notes, fmt.Sprintf("a user of account A subscribed to $SYS.> while another A client connected and left; NextMsg(2s): %v", errString(err)))
	_ = sub.Unsubscribe()
}

func errString(err error) string {
	if err == nil {
		return "a message arrived"
	}
	return err.Error()
}

// ---- writing testdata ----

// entry is one row of testdata/index.json.
type entry struct {
	Name    string            `json:"name"`
	Kind    string            `json:"kind"`
	Subject string            `json:"subject"`
	User    string            `json:"user,omitempty"`
	Body    string            `json:"body,omitempty"`
	Outcome string            `json:"outcome"`
	File    string            `json:"file,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

type recorder struct {
	t           *testing.T
	dir         string
	entries     []entry
	data        map[string][]byte
	notes       []string
	seen        map[string]int
	clusterSeen []string
	serverID    string
}

func (r *recorder) clean() {
	old, _ := filepath.Glob(filepath.Join(r.dir, "*.json"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			r.t.Fatal(err)
		}
	}
	r.data = map[string][]byte{}
}

func (r *recorder) request(nc *nats.Conn, user, name, kind, subj, body string) {
	r.t.Helper()
	m, err := nc.Request(subj, []byte(body), 2*time.Second)
	e := entry{Name: name, Kind: kind, Subject: subj, User: user, Body: body}
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		e.Outcome = "no responders"
	case errors.Is(err, nats.ErrTimeout):
		e.Outcome = "timeout (2s)"
	case err != nil:
		e.Outcome = "error: " + err.Error()
	default:
		e.Outcome = "reply"
		e.Headers = flatHeaders(m.Header)
		r.save(&e, m.Data)
	}
	r.t.Logf("%-50s %s", name, e.Outcome)
	r.entries = append(r.entries, e)
}

func (r *recorder) event(name, subj string, m *nats.Msg) {
	r.t.Helper()
	e := entry{Name: name, Kind: "EVENT_" + eventKind(subj), Subject: subj}
	if m == nil {
		e.Outcome = "not seen"
	} else {
		e.Outcome = "event"
		e.Headers = flatHeaders(m.Header)
		r.save(&e, m.Data)
	}
	r.t.Logf("%-50s %s", name, e.Outcome)
	r.entries = append(r.entries, e)
}

// eventKind is the last token of an event subject, with CLIENT.AUTH.ERR kept whole.
func eventKind(subj string) string {
	if strings.HasSuffix(subj, ".CLIENT.AUTH.ERR") {
		return "CLIENT_AUTH_ERR"
	}
	return subj[strings.LastIndexByte(subj, '.')+1:]
}

func (r *recorder) save(e *entry, data []byte) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		e.Outcome += " (not JSON: " + string(data) + ")"
		return
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	out = append(out, '\n')
	e.File = e.Name + ".json"
	r.data[e.Name] = data
	if err := os.WriteFile(filepath.Join(r.dir, e.File), out, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func flatHeaders(h nats.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

func (r *recorder) writeIndex() {
	seen := map[string]int{}
	for s, n := range r.seen {
		seen[strings.Replace(s, r.serverID, "<id>", 1)] += n
	}
	idx := struct {
		Server      string         `json:"server"`
		Recordings  []entry        `json:"recordings"`
		EventsSeen  map[string]int `json:"events_seen_by_sys"`
		ClusterSeen []string       `json:"cluster_run_server_events"`
		Notes       []string       `json:"notes"`
	}{"nats-server " + serverVersion(), r.entries, seen, r.clusterSeen, r.notes}
	out, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "index.json"), append(out, '\n'), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func serverVersion() string {
	bin := os.Getenv("STARLING_SYSREF_SERVER")
	if bin == "" {
		bin = "/usr/sbin/nats-server"
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "nats-server: ")
}

// writeSchema writes testdata/SCHEMA.md: per kind, the recordings of that kind and the union
// of their field paths, with whether a field was seen left out.
func (r *recorder) writeSchema() {
	kinds := map[string][]entry{}
	var order []string
	for _, e := range r.entries {
		k := e.Kind
		if k == "" {
			k = "OTHER"
		}
		if _, ok := kinds[k]; !ok {
			order = append(order, k)
		}
		kinds[k] = append(kinds[k], e)
	}
	var b strings.Builder
	b.WriteString("# Shapes of nats-server " + serverVersion() + " system-account replies and events\n\n")
	b.WriteString("Generated by TestRecord (see ../README.md); do not edit by hand.\n\n")
	b.WriteString("Each section merges the recordings of one kind. \"omitted when empty\" compares how often a\n")
	b.WriteString("field was present with how often its parent object was: \"yes\" means it was missing from some\n")
	b.WriteString("objects and never written empty, \"no\" means it was written with an empty value (\"\", 0, false,\n")
	b.WriteString("null, [], {}) and never missing, \"sometimes\" means both, \"unknown\" that the recordings\n")
	b.WriteString("always had it with a non-empty value. A member only counts as absent from objects its parent\n")
	b.WriteString("was present in. Paths and types are those of Shape in ../shape.go. The last section merges the\n")
	b.WriteString("server block (\"server\" in replies and events, the whole body of SHUTDOWN) of every recording.\n")
	serverInfo := NewFieldStats()
	for _, e := range r.entries {
		d, ok := r.data[e.Name]
		if !ok {
			continue
		}
		var v map[string]any
		if json.Unmarshal(d, &v) != nil {
			continue
		}
		if e.Kind == "EVENT_SHUTDOWN" {
			serverInfo.Add(v)
		} else if si, ok := v["server"].(map[string]any); ok {
			serverInfo.Add(si)
		}
	}
	for _, k := range order {
		fmt.Fprintf(&b, "\n## %s\n\n", k)
		stats := NewFieldStats()
		for _, e := range kinds[k] {
			fmt.Fprintf(&b, "- `%s`: `%s`", e.Name, e.Subject)
			if e.User != "" {
				fmt.Fprintf(&b, " as %s", e.User)
			}
			if e.Body != "" {
				fmt.Fprintf(&b, ", body `%s`", e.Body)
			}
			fmt.Fprintf(&b, ": %s\n", e.Outcome)
			if d, ok := r.data[e.Name]; ok {
				stats.Add(d)
			}
		}
		if stats.Values() > 0 {
			fmt.Fprintf(&b, "\nFields over %d recording(s):\n\n%s", stats.Values(), stats.Markdown())
		}
	}
	fmt.Fprintf(&b, "\n## Server block, all recordings\n\nFields over %d recording(s):\n\n%s", serverInfo.Values(), serverInfo.Markdown())
	if err := os.WriteFile(filepath.Join(r.dir, "SCHEMA.md"), []byte(b.String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
}
