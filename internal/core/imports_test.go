package core

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/options"
)

// collector records what an in-process subscription receives.
type collector struct {
	mu   sync.Mutex
	got  []string // "subject reply data"
	seen chan struct{}
}

func newCollector() *collector { return &collector{seen: make(chan struct{}, 1024)} }

func (k *collector) handle(m *Msg) {
	k.mu.Lock()
	k.got = append(k.got, string(m.Subject)+" "+string(m.Reply)+" "+string(m.Data))
	k.mu.Unlock()
	k.seen <- struct{}{}
}

func (k *collector) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		k.mu.Lock()
		if len(k.got) >= n {
			out := append([]string(nil), k.got...)
			k.mu.Unlock()
			return out
		}
		k.mu.Unlock()
		select {
		case <-k.seen:
		case <-deadline:
			t.Fatalf("got %v, want %d messages", k.got, n)
		}
	}
}

// TestAccountsIsolated: a subject in one account does not reach another.
func TestAccountsIsolated(t *testing.T) {
	s := startTestServer(t)
	a, b := s.RegisterAccount("A"), s.RegisterAccount("B")
	inA, inB := newCollector(), newCollector()
	s.NewInternalClientIn(a, "a").Subscribe("x", "", inA.handle)
	s.NewInternalClientIn(b, "b").Subscribe("x", "", inB.handle)
	if ok, _ := s.NewInternalClientIn(a, "pub").Publish("x", "", nil, []byte("1")); !ok {
		t.Fatal("not delivered in A")
	}
	inA.wait(t, 1)
	if ok, _ := s.NewInternalClientIn(s.RegisterAccount("C"), "pub").Publish("x", "", nil, []byte("2")); ok {
		t.Fatal("delivered in an account with no subscriber")
	}
	if got := inB.got; len(got) != 0 {
		t.Fatalf("B got %v", got)
	}
}

// TestStreamImport: messages published in the exporter reach the
// importer, renamed by a prefix or a mapping.
func TestStreamImport(t *testing.T) {
	s := startTestServer(t)
	exp, imp1, imp2 := s.RegisterAccount("EXP"), s.RegisterAccount("IMP1"), s.RegisterAccount("IMP2")
	if err := s.AddStreamImport(imp1, exp, "orders.>", "ext", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.AddStreamImport(imp2, exp, "orders.*", "", "shop.{{wildcard(1)}}"); err != nil {
		t.Fatal(err)
	}
	k1, k2 := newCollector(), newCollector()
	s.NewInternalClientIn(imp1, "k1").Subscribe("ext.orders.>", "", k1.handle)
	s.NewInternalClientIn(imp2, "k2").Subscribe("shop.*", "", k2.handle)
	pub := s.NewInternalClientIn(exp, "pub")
	pub.Publish("orders.new", "", nil, []byte("a"))
	if got := k1.wait(t, 1); got[0] != "ext.orders.new  a" {
		t.Fatalf("prefix import: %q", got)
	}
	if got := k2.wait(t, 1); got[0] != "shop.new  a" {
		t.Fatalf("mapped import: %q", got)
	}
}

// TestServiceImport: a request in the importer reaches the exporter's
// responder on the exported subject with a reply subject of the
// exporter's, and the response comes back on the requester's reply; a
// singleton import passes one response back.
func TestServiceImport(t *testing.T) {
	s := startTestServer(t)
	exp, imp := s.RegisterAccount("SVC"), s.RegisterAccount("APP")
	if err := s.AddServiceImport(imp, exp, "svc.echo", "echo", ResponseSingleton, 0); err != nil {
		t.Fatal(err)
	}
	responder := s.NewInternalClientIn(exp, "responder")
	requests := newCollector()
	responder.Subscribe("svc.echo", "", func(m *Msg) {
		requests.handle(m)
		reply := string(m.Reply)
		data := append([]byte("re:"), m.Data...)
		go func() {
			responder.Publish(reply, "", nil, data)
			responder.Publish(reply, "", nil, []byte("second")) // dropped: singleton
		}()
	})
	replies := newCollector()
	app := s.NewInternalClientIn(imp, "app")
	app.Subscribe("_INBOX.1", "", replies.handle)
	if ok, _ := app.Publish("echo", "_INBOX.1", nil, []byte("hi")); !ok {
		t.Fatal("request not delivered")
	}
	req := requests.wait(t, 1)[0]
	if req[:len("svc.echo _R_.")] != "svc.echo _R_." {
		t.Fatalf("request in the exporter: %q", req)
	}
	if got := replies.wait(t, 1); got[0] != "_INBOX.1  re:hi" {
		t.Fatalf("response: %q", got)
	}
	// The second response was dropped; a new request still works.
	app.Publish("echo", "_INBOX.1", nil, []byte("again"))
	if got := replies.wait(t, 2); got[1] != "_INBOX.1  re:again" {
		t.Fatalf("responses %q", got)
	}
	// No responder: the requester learns nobody took it.
	if err := s.AddServiceImport(imp, exp, "svc.none", "none", ResponseSingleton, 0); err != nil {
		t.Fatal(err)
	}
	if ok, _ := app.Publish("none", "_INBOX.1", nil, nil); ok {
		t.Fatal("a request with no responder counted as delivered")
	}
}

// TestServiceImportAcrossRoutes: the requester on one server, the
// responder on another; every server has the same import, as every server
// of a cluster has the same configuration. The request is imported once,
// on the requester's server, and the response finds its way back.
func TestServiceImportAcrossRoutes(t *testing.T) {
	// The accounts exist from the start, as configured accounts do (a
	// peer's interest in an account made later waits for it: routelate.go).
	withAccounts := func(o *Options) { o.Accounts = []options.AccountOptions{{Name: "APP"}, {Name: "SVC"}} }
	a := clusterServer(t, nil, withAccounts)
	b := clusterServer(t, []string{routeURLOf(a)}, withAccounts)
	for _, s := range []*Server{a, b} {
		if err := s.AddServiceImport(s.RegisterAccount("APP"), s.RegisterAccount("SVC"), "svc.echo", "echo", ResponseSingleton, 0); err != nil {
			t.Fatal(err)
		}
	}
	waitMesh(t, a, b)
	responder := b.NewInternalClientIn(b.LookupAccount("SVC"), "responder")
	requests := newCollector()
	responder.Subscribe("svc.echo", "", func(m *Msg) {
		requests.handle(m)
		reply, data := string(m.Reply), append([]byte("re:"), m.Data...)
		go responder.Publish(reply, "", nil, data)
	})
	waitUntil(t, "a to see the responder", func() bool {
		return routeInterestIn(a.LookupAccount("SVC"), "svc.echo")
	})
	replies := newCollector()
	app := a.NewInternalClientIn(a.LookupAccount("APP"), "app")
	app.Subscribe("_INBOX.2", "", replies.handle)
	waitUntil(t, "b to see a's response subscription", func() bool {
		for _, r := range b.RoutesWithSubs() {
			for _, sub := range r.Subs {
				if strings.HasPrefix(sub, "_R_.") {
					return true
				}
			}
		}
		return false
	})
	app.Publish("echo", "_INBOX.2", nil, []byte("hi"))
	if got := replies.wait(t, 1); got[0] != "_INBOX.2  re:hi" {
		t.Fatalf("response: %q", got)
	}
	if got := requests.wait(t, 1); len(got) != 1 {
		t.Fatalf("the responder got %d requests", len(got))
	}
}

// TestStreamImportAcrossRoutes: the publisher on one server, the
// importer's subscriber on another: each message arrives once.
func TestStreamImportAcrossRoutes(t *testing.T) {
	withAccounts := func(o *Options) { o.Accounts = []options.AccountOptions{{Name: "IMP"}, {Name: "EXP"}} }
	a := clusterServer(t, nil, withAccounts)
	b := clusterServer(t, []string{routeURLOf(a)}, withAccounts)
	for _, s := range []*Server{a, b} {
		if err := s.AddStreamImport(s.RegisterAccount("IMP"), s.RegisterAccount("EXP"), "orders.>", "ext", ""); err != nil {
			t.Fatal(err)
		}
	}
	waitMesh(t, a, b)
	got := newCollector()
	b.NewInternalClientIn(b.LookupAccount("IMP"), "sub").Subscribe("ext.>", "", got.handle)
	waitUntil(t, "a to see b's subscriber", func() bool {
		return routeInterestIn(a.LookupAccount("IMP"), "ext.orders.x")
	})
	pub := a.NewInternalClientIn(a.LookupAccount("EXP"), "pub")
	for _, d := range []string{"1", "2", "3"} {
		pub.Publish("orders.x", "", nil, []byte(d))
	}
	msgs := got.wait(t, 3)
	// A duplicate would have come before the last, on the same route.
	if len(msgs) != 3 || msgs[2] != "ext.orders.x  3" {
		t.Fatalf("got %q", msgs)
	}
}

// TestMappingsReload: a reload puts new subject mappings in force.
func TestMappingsReload(t *testing.T) {
	s := startTestServer(t)
	next := *s.getOpts()
	next.Mappings = []options.Mapping{{Subject: "old", Destinations: []options.MapDest{{Subject: "new", Weight: 100}}}}
	if err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	nc := natsConn(t, s)
	sub, _ := nc.SubscribeSync("new")
	nc.Flush()
	nc.Publish("old", []byte("x"))
	if m, err := sub.NextMsg(5 * time.Second); err != nil || m.Subject != "new" {
		t.Fatalf("after reload: %v %v", m, err)
	}
}

// TestImportsReload: a reload that changes one import leaves the others
// as they were: a request in flight through an unchanged service import
// still gets its response, while the changed stream import takes its new
// prefix at once.
func TestImportsReload(t *testing.T) {
	conf := func(prefix string) Options {
		return Options{Host: "127.0.0.1", Port: RandomPort, Accounts: []options.AccountOptions{
			{Name: "SVC", Exports: []options.Export{{Service: "svc"}, {Stream: "ev.>"}}},
			{Name: "APP", Imports: []options.Import{
				{Service: &options.ImportSource{Account: "SVC", Subject: "svc"}},
				{Stream: &options.ImportSource{Account: "SVC", Subject: "ev.>"}, Prefix: prefix},
			}},
		}}
	}
	s, err := New(conf("p1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	svc, app := s.LookupAccount("SVC"), s.LookupAccount("APP")
	responder := s.NewInternalClientIn(svc, "responder")
	requests := newCollector()
	responder.Subscribe("svc", "", requests.handle) // answered after the reload
	replies, events := newCollector(), newCollector()
	appc := s.NewInternalClientIn(app, "app")
	appc.Subscribe("_INBOX.1", "", replies.handle)
	appc.Subscribe("p2.>", "", events.handle)
	appc.Publish("svc", "_INBOX.1", nil, []byte("q"))
	req := strings.Fields(requests.wait(t, 1)[0]) // subject, reply, data

	if err := s.Reload(conf("p2")); err != nil {
		t.Fatal(err)
	}
	responder.Publish(req[1], "", nil, []byte("answer"))
	if got := replies.wait(t, 1); got[0] != "_INBOX.1  answer" {
		t.Fatalf("response after reload: %q", got)
	}
	s.NewInternalClientIn(svc, "pub").Publish("ev.x", "", nil, []byte("e"))
	if got := events.wait(t, 1); got[0] != "p2.ev.x  e" {
		t.Fatalf("stream import after reload: %q", got)
	}
}

// TestPendingRepliesBounded: a service import never tracks more than
// maxPendingResponses requests; expired ones go first, and a full map is
// cut by an eighth at once, so adding stays cheap.
func TestPendingRepliesBounded(t *testing.T) {
	p := &pendingReplies{m: map[string]pendingReply{}}
	past, future := time.Now().Add(-time.Second), time.Now().Add(time.Hour)
	for i := 0; i < maxPendingResponses; i++ {
		exp := future
		if i%2 == 0 {
			exp = past
		}
		p.add(strconv.Itoa(i), pendingReply{reply: "r", expires: exp})
	}
	p.add("new", pendingReply{reply: "r", expires: future})
	if n := len(p.m); n != maxPendingResponses/2+1 { // under 7/8: only the expired went
		t.Fatalf("%d tracked after a full map took one more, want the live half and the new one", n)
	}
	for i := 0; i < maxPendingResponses; i++ {
		p.add("more"+strconv.Itoa(i), pendingReply{reply: "r", expires: future})
	}
	if n := len(p.m); n > maxPendingResponses {
		t.Fatalf("%d tracked, bound %d", n, maxPendingResponses)
	}
	if _, ok := p.take("0"); ok {
		t.Fatal("an expired reply was returned")
	}
}
