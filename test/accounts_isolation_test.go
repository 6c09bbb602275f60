package test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

// TestAccountsIsolation: two accounts using the same subjects, queue
// group names, headers and request subjects never see each other's
// messages; a request with no responder in its own account gets no
// responders even though the other account has one.
func TestAccountsIsolation(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.Accounts = []server.AccountOptions{{Name: "A"}, {Name: "B"}}
		o.Users = []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "b", Password: "b", Account: "B"}}
	})
	a := connect(t, s, nats.UserInfo("a", "a"))
	b := connect(t, s, nats.UserInfo("b", "b"))
	a2 := connect(t, s, nats.UserInfo("a", "a"))

	// Queue groups of the same name: each account's message goes to one
	// member of its own group.
	type delivery struct{ member, tenant string }
	counts := map[string]int{}
	got := make(chan delivery, 100)
	for _, c := range []struct {
		nc   *nats.Conn
		name string
	}{{a, "a1"}, {a2, "a2"}, {b, "b1"}} {
		name := c.name
		if _, err := c.nc.QueueSubscribe("work", "workers", func(m *nats.Msg) {
			got <- delivery{member: name, tenant: m.Header.Get("Tenant")}
		}); err != nil {
			t.Fatal(err)
		}
		if err := c.nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	const n = 20
	for i := range n {
		for _, p := range []struct {
			nc     *nats.Conn
			tenant string
		}{{a, "A"}, {b, "B"}} {
			m := nats.NewMsg("work")
			m.Data = []byte(fmt.Sprint(i))
			m.Header.Set("Tenant", p.tenant)
			if err := p.nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.After(10 * time.Second)
	for range 2 * n {
		select {
		case g := <-got:
			if (g.member[0] == 'a') != (g.tenant == "A") {
				t.Fatalf("%s received account %s's message", g.member, g.tenant)
			}
			counts[g.member[:1]]++
		case <-deadline:
			t.Fatalf("deliveries: %v, want %d per account", counts, n)
		}
	}
	if counts["a"] != n || counts["b"] != n {
		t.Fatalf("deliveries: %v, want %d per account", counts, n)
	}

	// Requests: B answers "svc"; A has no responder of its own.
	if _, err := b.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("b")) }); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Request("svc", nil, 5*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("A's request reached B's responder: %v", err)
	}
	if r, err := b.Request("svc", nil, 5*time.Second); err != nil || string(r.Data) != "b" {
		t.Fatalf("B's own request: %v %v", r, err)
	}
}

// TestAccountsFirstByReload: a server started without accounts gets its
// first ones, and with them the system account and its services, by a
// reload.
func TestAccountsFirstByReload(t *testing.T) {
	s := startServer(t)
	// The system account keeps its default name: a reload cannot
	// rename it, as in nats-server.
	next := &server.Options{Host: "127.0.0.1", Port: server.RandomPort,
		Accounts: []server.AccountOptions{{Name: "A"}, {Name: "$SYS"}},
		Users:    []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "sys", Password: "sys", Account: "$SYS"}}}
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	sys := connect(t, s, nats.UserInfo("sys", "sys"))
	r, err := sys.Request("$SYS.REQ.SERVER.PING.IDZ", nil, 5*time.Second)
	if err != nil {
		t.Fatalf("system account after the reload: %v", err)
	}
	if !strings.Contains(string(r.Data), s.ID()) {
		t.Fatalf("IDZ: %s", r.Data)
	}
	a := connect(t, s, nats.UserInfo("a", "a"))
	if _, err := a.Request("$SYS.REQ.SERVER.PING.IDZ", nil, time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("an ordinary account reached the system services: %v", err)
	}
}
