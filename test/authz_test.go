package test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"

	"github.com/starling-mq/starling/server"
)

func TestAuthUserList(t *testing.T) {
	// The lowest cost: what is tested is that the server checks the hash,
	// and a production cost (11) takes seconds under -race on a busy
	// machine.
	h, err := bcrypt.GenerateFromPassword([]byte("b-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(h)
	s := startServer(t, func(o *serverOptions) {
		o.Users = []*server.User{
			{Username: "a", Password: "a-secret"},
			{Username: "b", Password: hash},
		}
	})
	connect(t, s, nats.UserInfo("a", "a-secret"))
	connect(t, s, nats.UserInfo("b", "b-secret"), nats.Timeout(15*time.Second)) // checked against the bcrypt hash
	for _, bad := range []nats.Option{nats.UserInfo("a", "b-secret"), nats.UserInfo("b", hash), nats.UserInfo("c", "x")} {
		// Even at the lowest cost bcrypt is slow by design, more so under
		// -race on a busy machine: allow more than nats.go's default 2s.
		if _, err := nats.Connect(s.ClientURL(), bad, nats.MaxReconnects(0), nats.Timeout(15*time.Second)); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("bad credentials: %v", err)
		}
	}
}

func TestAuthNkeys(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	other, _ := nkeys.CreateUser()
	s := startServer(t, func(o *serverOptions) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} })

	rc := dialRaw(t, s)
	if nonce, _ := rc.info["nonce"].(string); len(nonce) == 0 {
		t.Fatalf("INFO has no nonce: %v", rc.info)
	}
	sign := func(kp nkeys.KeyPair) nats.Option {
		pk, _ := kp.PublicKey()
		return nats.Nkey(pk, kp.Sign)
	}
	nc := connect(t, s, sign(kp))
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// The right key but a signature by another key.
	wrong := nats.Nkey(pub, other.Sign)
	if _, err := nats.Connect(s.ClientURL(), wrong, nats.MaxReconnects(0)); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("forged signature: %v", err)
	}
	if _, err := nats.Connect(s.ClientURL(), sign(other), nats.MaxReconnects(0)); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("unknown key: %v", err)
	}
	_ = seed
}

func TestNoAuthUser(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.Users = []*server.User{{Username: "guest", Password: "g", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{"public.>"}},
		}}}
		o.NoAuthUser = "guest"
	})
	rc := dialRaw(t, s)
	if _, ok := rc.info["auth_required"]; ok {
		t.Errorf("auth_required advertised with no_auth_user")
	}
	nc := connect(t, s) // no credentials: becomes guest
	errs := make(chan error, 1)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })
	sub, _ := nc.SubscribeSync("public.news")
	nc.Publish("public.news", []byte("ok"))
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	nc.Publish("private", []byte("no"))
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no permission error for guest")
	}
	// Telnet style: no CONNECT at all, the first operation logs in as guest.
	rc.send("PUB private 1\r\nx\r\n")
	rc.expect("-ERR 'Permissions Violation for Publish to \"private\"'\r\n")
}

func permsServer(t *testing.T, p *server.Permissions) *serverOptions {
	t.Helper()
	return &serverOptions{Users: []*server.User{{Username: "svc", Password: "pw", Permissions: p}, {Username: "admin", Password: "pw"}}}
}

func TestPermissionsPublishSubscribe(t *testing.T) {
	p := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: []string{"orders.>", "status"}, Deny: []string{"orders.secret.>"}},
		Subscribe: &server.SubjectPermission{Allow: []string{"events.*", "work workers"}, Deny: []string{"events.private"}},
	}
	o := permsServer(t, p)
	s := startServer(t, func(so *serverOptions) { so.Users = o.Users })

	rc := dialRaw(t, s)
	rc.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"user\":\"svc\",\"pass\":\"pw\"}\r\n")
	steps := []struct{ send, want string }{
		{"PUB orders.new 1\r\nx\r\n", ""},
		{"PUB status 1\r\nx\r\n", ""},
		{"PUB orders.secret.key 1\r\nx\r\n", "-ERR 'Permissions Violation for Publish to \"orders.secret.key\"'\r\n"}, // deny beats allow
		{"PUB other 1\r\nx\r\n", "-ERR 'Permissions Violation for Publish to \"other\"'\r\n"},
		{"SUB events.created 1\r\n", ""},
		{"SUB events.private 2\r\n", "-ERR 'Permissions Violation for Subscription to \"events.private\"'\r\n"},
		{"SUB events.> 3\r\n", "-ERR 'Permissions Violation for Subscription to \"events.>\"'\r\n"}, // wider than the allow
		{"SUB work workers 4\r\n", ""},
		{"SUB work 5\r\n", "-ERR 'Permissions Violation for Subscription to \"work\"'\r\n"},                               // only as queue "workers"
		{"SUB work others 6\r\n", "-ERR 'Permissions Violation for Subscription to \"work\" using queue \"others\"'\r\n"}, // wrong queue
	}
	for _, st := range steps {
		rc.send(st.send)
		if st.want != "" {
			rc.expect(st.want)
		}
		rc.quiet() // the connection stays up after each violation
	}

	// Delivery-time deny: a wildcard subscription does not receive what the
	// deny list forbids.
	svc := connect(t, s, nats.UserInfo("svc", "pw"))
	sub, err := svc.SubscribeSync("events.*")
	if err != nil {
		t.Fatal(err)
	}
	svc.Flush()
	admin := connect(t, s, nats.UserInfo("admin", "pw"))
	admin.Publish("events.private", []byte("hidden"))
	admin.Publish("events.public", []byte("shown"))
	admin.Flush()
	m, err := sub.NextMsg(2 * time.Second)
	if err != nil || string(m.Data) != "shown" {
		t.Fatalf("got %v %v", m, err)
	}
	if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("denied message delivered: %q", m.Data)
	}
}

func TestPermissionsAllowResponses(t *testing.T) {
	p := &server.Permissions{
		Subscribe: &server.SubjectPermission{Allow: []string{"svc.requests"}},
		Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
	o := permsServer(t, p)
	s := startServer(t, func(so *serverOptions) { so.Users = o.Users })
	errs := make(chan error, 4)
	svc := connect(t, s, nats.UserInfo("svc", "pw"), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	svc.Subscribe("svc.requests", func(m *nats.Msg) {
		m.Respond([]byte("first"))
		m.Respond([]byte("second: over the one-message grant"))
	})
	svc.Flush()
	client := connect(t, s, nats.UserInfo("admin", "pw"))
	m, err := client.Request("svc.requests", nil, 2*time.Second)
	if err != nil || string(m.Data) != "first" {
		t.Fatalf("reply %v %v", m, err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation for Publish") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("second reply was not refused")
	}
	// The responder cannot publish anywhere else.
	svc.Publish("elsewhere", nil)
	select {
	case <-errs:
	case <-time.After(2 * time.Second):
		t.Fatal("publish outside the grant was not refused")
	}
}

func TestConnzAuthorizedUser(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.Users = []*server.User{{Username: "alice", Password: "secret-pw"}}
		o.HTTPPort = -1
	})
	connect(t, s, nats.UserInfo("alice", "secret-pw"))
	body, _ := get(t, s.MonitorURL()+"/connz?auth=1")
	if !strings.Contains(body, `"authorized_user": "alice"`) {
		t.Errorf("connz?auth=1 lacks the user:\n%s", body)
	}
	if strings.Contains(body, "secret-pw") {
		t.Error("password in monitoring output")
	}
	body, _ = get(t, s.MonitorURL()+"/connz")
	if strings.Contains(body, "authorized_user") {
		t.Error("authorized_user shown without auth=1")
	}
}

// TestTraceRedactsSecrets: with protocol tracing on, the CONNECT line is
// logged without the password or token.
func TestTraceRedactsSecrets(t *testing.T) {
	var logs lockedBuffer
	s := startServer(t, func(o *serverOptions) {
		o.Username, o.Password = "alice", "hunter2-secret"
		o.Trace = true
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
	})
	nc := connect(t, s, nats.UserInfo("alice", "hunter2-secret"))
	nc.Flush()
	nc.Close()
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("alice", "wrong-secret-pw"), nats.MaxReconnects(0)); err == nil {
		t.Fatal("bad password accepted")
	}
	out := logs.String()
	if !strings.Contains(out, "op=CONNECT") {
		t.Fatalf("no CONNECT trace:\n%s", out)
	}
	for _, secret := range []string{"hunter2-secret", "wrong-secret-pw"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q in logs:\n%s", secret, out)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
