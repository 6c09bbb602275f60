package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

// TestAccountsChecked: account settings reach the engine's options and
// are checked; an invalid set gets its own error.
func TestAccountsChecked(t *testing.T) {
	tests := []struct {
		name string
		opts server.Options
		want string
	}{
		{"jetstream in the system account", server.Options{JetStream: true, StoreDir: t.TempDir(),
			Accounts:      []server.AccountOptions{{Name: "SYS", JetStream: &server.AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}}},
			SystemAccount: "SYS"}, "Not allowed to enable JetStream on the system account"},
		{"import not authorized", server.Options{Accounts: []server.AccountOptions{
			{Name: "A"},
			{Name: "B", Imports: []server.Import{{Service: &server.ImportSource{Account: "A", Subject: "q"}}}},
		}}, `Error adding service import "q": service import not authorized`},
		{"user of an unknown account", server.Options{Users: []*server.User{{Username: "u", Account: "X"}}},
			`account "X" is not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Host, tt.opts.Port = "127.0.0.1", server.RandomPort
			_, err := server.New(&tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestAccountsRun: users of two accounts are isolated from each other,
// except through a stream export/import (with a prefix) and a service
// export/import.
func TestAccountsRun(t *testing.T) {
	opts := &server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		Accounts: []server.AccountOptions{
			{Name: "A", Exports: []server.Export{{Stream: "a.>"}, {Service: "svc.time"}}},
			{Name: "B", Imports: []server.Import{
				{Stream: &server.ImportSource{Account: "A", Subject: "a.>"}, Prefix: "from_a"},
				{Service: &server.ImportSource{Account: "A", Subject: "svc.time"}, To: "time"},
			}},
		},
		Users: []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "b", Password: "b", Account: "B"}},
	}
	s := startServer(t, opts)
	conn := func(user string) *nats.Conn {
		nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(user, user))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a, b := conn("a"), conn("b")

	// Isolation: A's subscriber is no interest in B (no responders).
	a.SubscribeSync("same")
	a.Flush()
	if _, err := b.Request("same", nil, 5*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("a request in B reached A: %v", err)
	}

	// Stream import with a prefix.
	bIn, _ := b.SubscribeSync("from_a.>")
	b.Flush()
	a.Publish("a.x", []byte("hello"))
	m, err := bIn.NextMsg(5 * time.Second)
	if err != nil || m.Subject != "from_a.a.x" || string(m.Data) != "hello" {
		t.Fatalf("stream import: %v %v", m, err)
	}

	// Service import: B asks on its own subject, A answers.
	a.Subscribe("svc.time", func(m *nats.Msg) { m.Respond([]byte("noon")) })
	a.Flush()
	resp, err := b.Request("time", nil, 5*time.Second)
	if err != nil || string(resp.Data) != "noon" {
		t.Fatalf("service import: %v %v", resp, err)
	}
}

// TestAccountsAcrossCluster: two servers with the same accounts; the
// stream import and the service import work with the publisher (or the
// requester) on one server and the subscriber (or the responder) on the
// other.
func TestAccountsAcrossCluster(t *testing.T) {
	mk := func(routes ...string) *server.Server {
		t.Helper()
		o := &server.Options{
			Host: "127.0.0.1", Port: server.RandomPort,
			Cluster: server.ClusterOptions{Name: "acc", Host: "127.0.0.1", Port: server.RandomPort},
			Accounts: []server.AccountOptions{
				{Name: "A", Exports: []server.Export{{Stream: "a.>"}, {Service: "svc.time"}}},
				{Name: "B", Imports: []server.Import{
					{Stream: &server.ImportSource{Account: "A", Subject: "a.>"}, Prefix: "from_a"},
					{Service: &server.ImportSource{Account: "A", Subject: "svc.time"}, To: "time"},
				}},
			},
			Users: []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "b", Password: "b", Account: "B"}},
		}
		for _, r := range routes {
			u, _ := url.Parse(r)
			o.Cluster.Routes = append(o.Cluster.Routes, u)
		}
		return startServer(t, o)
	}
	s1 := mk()
	s2 := mk("nats-route://" + s1.ClusterAddr().String())
	waitRoutes(t, 1, s1, s2)
	conn := func(s *server.Server, user string) *nats.Conn {
		nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(user, user))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	a1, b2 := conn(s1, "a"), conn(s2, "b")
	in, _ := b2.SubscribeSync("from_a.>")
	b2.Flush()
	// The subscriber's interest crosses asynchronously: publish until the
	// first message arrives, then check the rest arrive once each.
	deadline := time.Now().Add(20 * time.Second)
	for {
		a1.Publish("a.probe", nil)
		a1.Flush()
		if m, err := in.NextMsg(100 * time.Millisecond); err == nil && m.Subject == "from_a.a.probe" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream import never reached the other server")
		}
	}
	a1.Publish("a.x", []byte("1"))
	for {
		m, err := in.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("stream import across: %v", err)
		}
		if m.Subject == "from_a.a.x" {
			break
		}
		if m.Subject != "from_a.a.probe" { // probes still in flight
			t.Fatalf("stream import across: got %s", m.Subject)
		}
	}

	a2 := conn(s2, "a")
	a2.Subscribe("svc.time", func(m *nats.Msg) { m.Respond([]byte("noon")) })
	a2.Flush()
	b1 := conn(s1, "b")
	deadline = time.Now().Add(20 * time.Second)
	for {
		resp, err := b1.Request("time", nil, time.Second)
		if err == nil && string(resp.Data) == "noon" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("service import across: %v", err)
		}
	}
}

// TestSubjectMappings: a plain mapping renames the subject; weighted
// destinations share the messages by their weights (wide bounds over many
// messages); a subscriber on the source subject gets nothing mapped away.
func TestSubjectMappings(t *testing.T) {
	s := startServer(t, &server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		Mappings: []server.Mapping{
			{Subject: "legacy.*", Destinations: []server.MapDest{{Subject: "current.{{wildcard(1)}}", Weight: 100}}},
			{Subject: "split", Destinations: []server.MapDest{{Subject: "left", Weight: 20}, {Subject: "right", Weight: 80}}},
		},
	})
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	cur, _ := nc.SubscribeSync("current.>")
	left, _ := nc.SubscribeSync("left")
	right, _ := nc.SubscribeSync("right")
	for _, sub := range []*nats.Subscription{cur, left, right} {
		sub.SetPendingLimits(-1, -1)
	}
	nc.Flush()
	nc.Publish("legacy.x", []byte("1"))
	if m, err := cur.NextMsg(5 * time.Second); err != nil || m.Subject != "current.x" {
		t.Fatalf("plain mapping: %v %v", m, err)
	}
	const n = 2000
	for i := 0; i < n; i++ {
		nc.Publish("split", nil)
	}
	nc.Flush()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l, _, _ := left.Pending()
		r, _, _ := right.Pending()
		if l+r == n {
			if share := float64(l) / n; share < 0.12 || share > 0.28 {
				t.Fatalf("left got %.2f of the messages, want about 0.20", share)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d + %d of %d messages", l, r, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startServer starts s from o, shut down when the test ends.
func startServer(t *testing.T, o *server.Options) *server.Server {
	t.Helper()
	s, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

// watchedConn is a connection that does not reconnect, with the errors
// the server sent it and how it ended.
type watchedConn struct {
	*nats.Conn
	errs   chan error
	closed chan error // the connection's last error when it closed
}

func connectAs(t *testing.T, s *server.Server, user string) *watchedConn {
	t.Helper()
	w := &watchedConn{errs: make(chan error, 16), closed: make(chan error, 1)}
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(user, user), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case w.errs <- err:
			default:
			}
		}),
		nats.ClosedHandler(func(nc *nats.Conn) { w.closed <- nc.LastError() }))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	w.Conn = nc
	return w
}

// expectErr waits for an error from the server containing want.
func (w *watchedConn) expectErr(t *testing.T, want string) {
	t.Helper()
	select {
	case err := <-w.errs:
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q, want one containing %q", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no error containing %q", want)
	}
}

// expectClosedQuietly waits for the server to close the connection
// without an error, as nats-server closes those a reload moves or removes.
func (w *watchedConn) expectClosedQuietly(t *testing.T, who string) {
	t.Helper()
	select {
	case err := <-w.closed:
		if err != nil && strings.Contains(err.Error(), "Violation") {
			t.Fatalf("%s closed with %v, want no error", who, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s not closed", who)
	}
}

// TestServiceImportResponsePermissions: a responder answers an imported
// request on the reply subject of its own account. As in nats-server
// (2.9 and 2.11 alike), its publish permissions apply there as anywhere:
// without allow_responses a responder denied ">" cannot answer; with it, it
// answers once (the allow_responses default), and may publish nowhere
// else.
func TestServiceImportResponsePermissions(t *testing.T) {
	for _, tt := range []struct {
		name      string
		responses *server.ResponsePermission
	}{
		{"publish denied", nil},
		{"allow_responses", &server.ResponsePermission{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, &server.Options{
				Host: "127.0.0.1", Port: server.RandomPort,
				Accounts: []server.AccountOptions{
					{Name: "A", Exports: []server.Export{{Service: "svc"}}},
					{Name: "B", Imports: []server.Import{{Service: &server.ImportSource{Account: "A", Subject: "svc"}}}},
				},
				Users: []*server.User{
					{Username: "resp", Password: "resp", Account: "A", Permissions: &server.Permissions{
						Publish:  &server.SubjectPermission{Deny: []string{">"}},
						Response: tt.responses,
					}},
					{Username: "req", Password: "req", Account: "B"},
				},
			})
			resp, req := connectAs(t, s, "resp"), connectAs(t, s, "req")
			requests, _ := resp.SubscribeSync("svc")
			resp.Flush()
			inbox := nats.NewInbox()
			answers, _ := req.SubscribeSync(inbox)
			req.PublishRequest("svc", inbox, []byte("q"))
			req.Flush()
			m, err := requests.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Reply, "_R_.") {
				t.Fatalf("reply subject %q, want one of the exporter's _R_.", m.Reply)
			}
			resp.Publish(m.Reply, []byte("first"))
			resp.Flush()
			if tt.responses == nil {
				resp.expectErr(t, `Permissions Violation for Publish to "`+m.Reply+`"`)
				if a, err := answers.NextMsg(200 * time.Millisecond); err == nil {
					t.Fatalf("a refused response arrived: %q", a.Data)
				}
				return
			}
			if a, err := answers.NextMsg(10 * time.Second); err != nil || string(a.Data) != "first" {
				t.Fatalf("response: %v %v", a, err)
			}
			resp.Publish(m.Reply, []byte("second"))
			resp.Flush()
			resp.expectErr(t, `Permissions Violation for Publish to "`+m.Reply+`"`)
			resp.Publish("elsewhere", nil)
			resp.Flush()
			resp.expectErr(t, `Permissions Violation for Publish to "elsewhere"`)
			if a, err := answers.NextMsg(200 * time.Millisecond); err == nil {
				t.Fatalf("a second response arrived: %q", a.Data)
			}
		})
	}
}

// accountsReloadOptions are TestAccountsReload's configurations: before,
// B imports A's stream with prefix p1; after, with p2, account C is new
// (importing the same stream), user mover is in B and user gone is no more.
func accountsReloadOptions(after bool) *server.Options {
	o := &server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		Accounts: []server.AccountOptions{
			{Name: "A", Exports: []server.Export{{Stream: "a.>"}}},
			{Name: "B", Imports: []server.Import{{Stream: &server.ImportSource{Account: "A", Subject: "a.>"}, Prefix: "p1"}}},
		},
		Users: []*server.User{
			{Username: "a", Password: "a", Account: "A"},
			{Username: "b", Password: "b", Account: "B"},
			{Username: "mover", Password: "mover", Account: "A"},
			{Username: "gone", Password: "gone", Account: "A"},
		},
	}
	if after {
		o.Accounts[1].Imports[0].Prefix = "p2"
		o.Accounts = append(o.Accounts, server.AccountOptions{Name: "C",
			Imports: []server.Import{{Stream: &server.ImportSource{Account: "A", Subject: "a.>"}, Prefix: "fromA"}}})
		o.Users = []*server.User{o.Users[0], o.Users[1],
			{Username: "mover", Password: "mover", Account: "B"},
			{Username: "c", Password: "c", Account: "C"}}
	}
	return o
}

// TestAccountsReload: a reload changes an import, adds an account with
// its user and removes one, moves a user to another account and removes
// one. Connections of moved and removed users are closed without an
// error; the others keep their subscriptions.
func TestAccountsReload(t *testing.T) {
	s := startServer(t, accountsReloadOptions(false))
	a, b := connectAs(t, s, "a"), connectAs(t, s, "b")
	mover, gone := connectAs(t, s, "mover"), connectAs(t, s, "gone")
	p1, _ := b.SubscribeSync("p1.>")
	p2, _ := b.SubscribeSync("p2.>")
	local, _ := b.SubscribeSync("local")
	b.Flush()
	a.Publish("a.before", nil)
	a.Flush()
	if m, err := p1.NextMsg(10 * time.Second); err != nil || m.Subject != "p1.a.before" {
		t.Fatalf("before the reload: %v %v", m, err)
	}

	if err := s.Reload(accountsReloadOptions(true)); err != nil {
		t.Fatal(err)
	}
	mover.expectClosedQuietly(t, "the moved user")
	gone.expectClosedQuietly(t, "the removed user")

	c := connectAs(t, s, "c")
	fromA, _ := c.SubscribeSync("fromA.>")
	c.Flush()
	a.Publish("a.after", nil)
	a.Flush()
	if m, err := p2.NextMsg(10 * time.Second); err != nil || m.Subject != "p2.a.after" {
		t.Fatalf("the changed import: %v %v", m, err)
	}
	if m, err := fromA.NextMsg(10 * time.Second); err != nil || m.Subject != "fromA.a.after" {
		t.Fatalf("the new account's import: %v %v", m, err)
	}
	b.Flush() // anything for p1 would be in by now
	if n, _, _ := p1.Pending(); n != 0 {
		t.Fatalf("the old prefix still gets messages (%d)", n)
	}
	moved := connectAs(t, s, "mover") // now in B
	moved.Publish("local", []byte("in B"))
	moved.Flush()
	if m, err := local.NextMsg(10 * time.Second); err != nil || string(m.Data) != "in B" {
		t.Fatalf("the moved user is not in B, or b lost its subscription: %v %v", m, err)
	}

	// C goes again: its user's connection is closed.
	if err := s.Reload(accountsReloadOptions(false)); err != nil {
		t.Fatal(err)
	}
	c.expectClosedQuietly(t, "the user of the removed account")
	if _, err := nats.Connect(s.ClientURL(), nats.UserInfo("c", "c")); err == nil {
		t.Fatal("the user of a removed account connected")
	}
}

// TestLateAccountsAcrossCluster: an account a reload adds on one server
// and then on the other: the interest its subscribers made on the first
// server before the second had the account reaches the second.
func TestLateAccountsAcrossCluster(t *testing.T) {
	opts := func(late bool, routes ...string) *server.Options {
		o := &server.Options{
			Host: "127.0.0.1", Port: server.RandomPort,
			Cluster:  server.ClusterOptions{Name: "late", Host: "127.0.0.1", Port: server.RandomPort},
			Accounts: []server.AccountOptions{{Name: "A"}},
			Users:    []*server.User{{Username: "a", Password: "a", Account: "A"}},
		}
		if late {
			o.Accounts = append(o.Accounts, server.AccountOptions{Name: "X"})
			o.Users = append(o.Users, &server.User{Username: "x", Password: "x", Account: "X"})
		}
		for _, r := range routes {
			u, _ := url.Parse(r)
			o.Cluster.Routes = append(o.Cluster.Routes, u)
		}
		return o
	}
	s1 := startServer(t, opts(false))
	route := "nats-route://" + s1.ClusterAddr().String()
	s2 := startServer(t, opts(false, route))
	waitRoutes(t, 1, s1, s2)

	if err := s1.Reload(opts(true)); err != nil {
		t.Fatal(err)
	}
	x1 := connectAs(t, s1, "x")
	in, _ := x1.SubscribeSync("late.>")
	x1.Flush()
	// s2 has no account X yet: the interest reaches it, and waits there.
	// A's interest, made after, crosses the same route after it: once s2
	// routes A's messages to s1, it has read X's interest too.
	a1, a2 := connectAs(t, s1, "a"), connectAs(t, s2, "a")
	barrier, _ := a1.SubscribeSync("barrier")
	a1.Flush()
	for deadline := time.Now().Add(20 * time.Second); ; {
		a2.Publish("barrier", nil)
		a2.Flush()
		if _, err := barrier.NextMsg(100 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A's interest never crossed the route")
		}
	}
	if err := s2.Reload(opts(true, route)); err != nil {
		t.Fatal(err)
	}
	x2 := connectAs(t, s2, "x")
	deadline := time.Now().Add(20 * time.Second)
	for {
		x2.Publish("late.probe", nil)
		x2.Flush()
		if m, err := in.NextMsg(100 * time.Millisecond); err == nil && m.Subject == "late.probe" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the interest made before the account came never took effect")
		}
	}
}
