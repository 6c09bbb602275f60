package test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

// TestReloadAuthorization changes a password and a permission under live
// connections.
func TestReloadAuthorization(t *testing.T) {
	opts := &serverOptions{Host: "127.0.0.1", Port: -1, Users: []*server.User{
		{Username: "alice", Password: "old-pw"},
		{Username: "bob", Password: "bob-pw", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{">"}},
			Subscribe: &server.SubjectPermission{Allow: []string{">"}},
		}},
	}}
	s := startServer(t, func(o *serverOptions) { *o = *opts })

	aliceClosed := make(chan error, 1)
	alice := connect(t, s, nats.UserInfo("alice", "old-pw"), nats.MaxReconnects(0),
		nats.ClosedHandler(func(nc *nats.Conn) { aliceClosed <- nc.LastError() }))
	bobErrs := make(chan error, 4)
	bob := connect(t, s, nats.UserInfo("bob", "bob-pw"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { bobErrs <- err }))
	bobSub, _ := bob.SubscribeSync("reports.daily")
	bob.Flush()

	next := *opts
	next.Users = []*server.User{
		{Username: "alice", Password: "new-pw"},
		{Username: "bob", Password: "bob-pw", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"bob.>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"bob.>"}},
		}},
	}
	if err := s.Reload(&next); err != nil {
		t.Fatal(err)
	}
	// Alice's password changed: her connection is closed.
	select {
	case <-aliceClosed:
	case <-time.After(5 * time.Second):
		t.Fatal("alice still connected with the old password")
	}
	_ = alice
	connect(t, s, nats.UserInfo("alice", "new-pw"))
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("alice", "old-pw"), nats.MaxReconnects(0)); err == nil {
		t.Error("old password still accepted")
	}
	// Bob's permissions shrank: his subscription outside them is dropped
	// with an error, and publishing outside them is refused.
	select {
	case err := <-bobErrs:
		if !strings.Contains(err.Error(), `Subscription to "reports.daily"`) {
			t.Errorf("bob: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob's subscription was not revoked")
	}
	bob.Publish("reports.daily", []byte("x"))
	select {
	case err := <-bobErrs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("bob publish: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bob's publish outside the new permissions was accepted")
	}
	if _, err := bobSub.NextMsg(100 * time.Millisecond); err == nil {
		t.Error("revoked subscription still receives")
	}
	if !bob.IsConnected() {
		t.Error("bob was disconnected; only his subscription should go")
	}
}

func TestReloadRefusesFixedOptions(t *testing.T) {
	s := startServer(t)
	next := serverOptions{Host: "127.0.0.1", Port: 1, MaxPayload: 2048}
	err := s.Reload(&next)
	if err == nil || !strings.Contains(err.Error(), "config reload not supported for port: old=") {
		t.Fatalf("reload changing the port: %v", err)
	}
	// Nothing applied: max_payload is unchanged.
	nc := connect(t, s)
	if nc.MaxPayload() != 1<<20 {
		t.Fatalf("max_payload %d after a refused reload", nc.MaxPayload())
	}
}

func TestReloadLimits(t *testing.T) {
	opts := serverOptions{Host: "127.0.0.1", Port: -1}
	s := startServer(t, func(o *serverOptions) { *o = opts })
	nc := connect(t, s)
	next := opts
	next.MaxPayload = 512
	if err := s.Reload(&next); err != nil {
		t.Fatal(err)
	}
	// The existing client learns the new limit from an async INFO.
	eventually(t, 5*time.Second, func() bool { return nc.MaxPayload() == 512 }, "client to see max_payload 512")
	rc := dialRaw(t, s)
	rc.send(connectQuiet + "PUB x 513\r\n")
	rc.expectClosed("-ERR 'Maximum Payload Violation'\r\n")
}

// TestReloadRefusesJetStreamSettings: JetStream's store, sync interval,
// limits, domain and open-file budget are fixed while it runs; a reload
// changing them is refused whole, naming the option, not reported as
// applied.
func TestReloadRefusesJetStreamSettings(t *testing.T) {
	dir := t.TempDir()
	base := serverOptions{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, JetStreamMaxStore: 1 << 30}
	s := startServer(t, func(o *serverOptions) { *o = base })
	tests := []struct {
		change func(*serverOptions)
		want   string
	}{
		{func(o *serverOptions) { o.SyncInterval = time.Minute }, "jetstream sync_interval: old=0s, new=1m0s"},
		{func(o *serverOptions) { o.JetStreamMaxStore = 2 << 30 }, "jetstream max_file_store: old=1073741824, new=2147483648"},
		{func(o *serverOptions) { o.JetStreamMaxMemory = 1 << 20 }, "jetstream max_memory_store: old=0, new=1048576"},
		{func(o *serverOptions) { o.JetStreamDomain = "hub" }, "jetstream domain: old=, new=hub"},
		{func(o *serverOptions) { o.JetStreamMaxOpenFiles = 64 }, "jetstream max_open_files: old=0, new=64"},
		{func(o *serverOptions) { o.StoreDir = t.TempDir() }, "store_dir: old=" + dir},
		{func(o *serverOptions) { o.JetStream = false }, "jetstream: old=on, new=off"},
	}
	for _, tt := range tests {
		next := base
		next.MaxPayload = 2048 // would apply, if the reload were not refused
		tt.change(&next)
		err := s.Reload(&next)
		if err == nil || !strings.Contains(err.Error(), "config reload not supported for "+tt.want) ||
			!errors.Is(err, server.ErrReloadUnsupported) {
			t.Errorf("reload changing %s: %v", tt.want, err)
		}
	}
	if nc := connect(t, s); nc.MaxPayload() != 1<<20 {
		t.Fatalf("max_payload %d after refused reloads", nc.MaxPayload())
	}
	same := base
	same.MaxPayload = 2048
	if err := s.Reload(&same); err != nil {
		t.Fatalf("reload without JetStream changes: %v", err)
	}
}
