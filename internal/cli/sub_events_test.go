package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// startServerHandle is startServerOpts returning the server, for tests
// that stop, restart or reload it.
func startServerHandle(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	s, err := server.New(opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { stopServer(t, s) })
	return s
}

func stopServer(t *testing.T, s *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestSubReportsDisconnectAndReconnect(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	first := startServerHandle(t, &server.Options{Host: "127.0.0.1", Port: port})
	url := first.ClientURL()
	sub := startCmd(t, "sub", "-s", url, "ev.>", "--count", "1", "--raw")
	waitFor(t, sub, "Subscribing on ev.>")

	stopServer(t, first)
	eventually(t, cmdTimeout, "the disconnect notice", func() bool {
		return strings.Contains(sub.stderr.String(), "Disconnected: ")
	})
	if !strings.Contains(sub.stderr.String(), "; reconnecting") {
		t.Errorf("disconnect notice does not say it reconnects: %q", sub.stderr)
	}
	startServerHandle(t, &server.Options{Host: "127.0.0.1", Port: port})
	eventually(t, 2*cmdTimeout, "the reconnect notice", func() bool {
		return strings.Contains(sub.stderr.String(), "Reconnected to nats://127.0.0.1:")
	})
	// The subscription was restored: a message published now arrives. The
	// re-sent SUB and another connection's PUB race at the server, so
	// publish until one gets through (sub prints one and exits).
	eventually(t, cmdTimeout, "a message after the reconnect", func() bool {
		if code, _, stderr := runCmd(t, "pub", "-s", url, "ev.one", "after", "-q"); code != 0 {
			t.Fatalf("pub: %d %s", code, stderr)
		}
		select {
		case code := <-sub.done:
			sub.done <- code
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	if code := sub.wait(t); code != 0 || sub.stdout.String() != "after\n" {
		t.Errorf("sub exit %d, printed %q, stderr %q", code, sub.stdout, sub.stderr)
	}
}

func TestSubReportsRevokedSubscription(t *testing.T) {
	perms := func(allow string) *server.Permissions {
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{allow}},
		}
	}
	opts := server.Options{Host: "127.0.0.1", Port: server.RandomPort,
		Users: []*server.User{{Username: "alice", Password: "pw", Permissions: perms("reports.>")}}}
	s := startServerHandle(t, &opts)
	creds := []string{"-s", s.ClientURL(), "--user", "alice", "--password", "pw"}

	// Refused from the start: an error before "Subscribing", not silence.
	code, _, stderr := runCmd(t, "sub", append([]string{"secret.x", "--count", "1"}, creds...)...)
	if code != 1 || !strings.Contains(stderr, `Permissions Violation for Subscription to "secret.x"`) || strings.Contains(stderr, "Subscribing") {
		t.Errorf("forbidden sub: exit %d, %q", code, stderr)
	}

	sub := startCmd(t, "sub", append([]string{"reports.daily"}, creds...)...)
	waitFor(t, sub, "Subscribing on reports.daily")
	reply := startCmd(t, "reply", append([]string{"reports.>", "ok"}, creds...)...)
	waitFor(t, reply, `Listening on "reports.>"`)

	next := opts
	next.Users = []*server.User{{Username: "alice", Password: "pw", Permissions: perms("other.>")}}
	if err := s.Reload(&next); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*running{"sub": sub, "reply": reply} {
		if code := r.wait(t); code != 1 {
			t.Errorf("%s exit %d after its subscription was revoked; stderr %q", name, code, r.stderr)
		}
		if !strings.Contains(r.stderr.String(), "the server ended the subscription to") ||
			!strings.Contains(r.stderr.String(), "Permissions Violation for Subscription") {
			t.Errorf("%s stderr %q", name, r.stderr)
		}
	}
}

func TestPubReportsRefusedPublish(t *testing.T) {
	s := startServerHandle(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort,
		Users: []*server.User{{Username: "bob", Password: "pw", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{"bob.>"}},
		}}}})
	code, _, stderr := runCmd(t, "pub", "-s", s.ClientURL(), "--user", "bob", "--password", "pw", "alice.x", "hi", "-q")
	if code != 1 || !strings.Contains(stderr, `Permissions Violation for Publish to "alice.x"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
