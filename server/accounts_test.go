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
	s, err := server.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
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
	s, err := server.New(&server.Options{
		Host: "127.0.0.1", Port: server.RandomPort,
		Mappings: []server.Mapping{
			{Subject: "legacy.*", Destinations: []server.MapDest{{Subject: "current.{{wildcard(1)}}", Weight: 100}}},
			{Subject: "split", Destinations: []server.MapDest{{Subject: "left", Weight: 20}, {Subject: "right", Weight: 80}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
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
