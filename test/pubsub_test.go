package test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestPubSubBasic(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	sub, err := nc.SubscribeSync("foo")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("foo", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	m, err := sub.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "hello" || m.Subject != "foo" {
		t.Fatalf("got %q on %q", m.Data, m.Subject)
	}
}

// TestPubSubExactOrdered sends 100k messages from each of several
// publishers and checks that a subscriber gets every one exactly once, in
// each publisher's order.
func TestPubSubExactOrdered(t *testing.T) {
	const pubs, perPub = 4, 100_000
	s := startServer(t)
	sc := connect(t, s)
	var (
		mu       sync.Mutex
		next     [pubs]uint32
		received atomic.Int64
		failure  error
	)
	done := make(chan struct{})
	sub, err := sc.Subscribe("ordered", func(m *nats.Msg) {
		p, seq := binary.BigEndian.Uint32(m.Data), binary.BigEndian.Uint32(m.Data[4:])
		mu.Lock()
		if failure == nil && (p >= pubs || seq != next[p]) {
			failure = fmt.Errorf("publisher %d: got seq %d, want %d", p, seq, next[p%pubs])
		}
		if p < pubs {
			next[p] = seq + 1
		}
		mu.Unlock()
		if received.Add(1) == pubs*perPub {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := sc.Flush(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range pubs {
		nc := connect(t, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 16)
			for i := range perPub {
				binary.BigEndian.PutUint32(buf, uint32(p))
				binary.BigEndian.PutUint32(buf[4:], uint32(i))
				if err := nc.Publish("ordered", buf); err != nil {
					t.Error(err)
					return
				}
			}
			// 100k messages queued: on a loaded machine the PONG can take
			// longer than Flush's 10 s.
			if err := nc.FlushTimeout(time.Minute); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("received %d of %d", received.Load(), pubs*perPub)
	}
	mu.Lock()
	defer mu.Unlock()
	if failure != nil {
		t.Fatal(failure)
	}
	// Nothing extra arrives.
	if err := sc.FlushTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := received.Load(); n != pubs*perPub {
		t.Fatalf("received %d, want %d", n, pubs*perPub)
	}
}

func TestWildcards(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	subs := map[string]*nats.Subscription{}
	for _, subj := range []string{"a.b.c", "a.*.c", "a.>", "*.b.*", ">", "a.b"} {
		sub, err := nc.SubscribeSync(subj)
		if err != nil {
			t.Fatal(err)
		}
		subs[subj] = sub
	}
	nc.Flush()
	for _, subj := range []string{"a.b.c", "a.x.c", "a.b", "z.b.y", "q"} {
		if err := nc.Publish(subj, []byte(subj)); err != nil {
			t.Fatal(err)
		}
	}
	nc.Flush()
	want := map[string][]string{
		"a.b.c": {"a.b.c"},
		"a.*.c": {"a.b.c", "a.x.c"},
		"a.>":   {"a.b.c", "a.x.c", "a.b"},
		"*.b.*": {"a.b.c", "z.b.y"},
		">":     {"a.b.c", "a.x.c", "a.b", "z.b.y", "q"},
		"a.b":   {"a.b"},
	}
	for subj, sub := range subs {
		var got []string
		for {
			m, err := sub.NextMsg(50 * time.Millisecond)
			if err != nil {
				break
			}
			got = append(got, m.Subject)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[subj]) {
			t.Errorf("%s got %v, want %v", subj, got, want[subj])
		}
	}
}

func TestQueueGroupsExactlyOnceAndSpread(t *testing.T) {
	const members, msgs = 5, 5000
	s := startServer(t)
	var counts [members]atomic.Int64
	var total, plain atomic.Int64
	var conns []*nats.Conn
	var subs []*nats.Subscription
	for i := range members {
		nc := connect(t, s)
		sub, err := nc.QueueSubscribe("work", "workers", func(*nats.Msg) {
			counts[i].Add(1)
			total.Add(1)
		})
		if err != nil {
			t.Fatal(err)
		}
		nc.Flush()
		conns, subs = append(conns, nc), append(subs, sub)
	}
	// A plain subscriber on the same subject gets everything.
	ob := connect(t, s)
	ob.Subscribe("work", func(*nats.Msg) { plain.Add(1) })
	ob.Flush()
	// A second group gets its own copy.
	other := connect(t, s)
	var otherCount atomic.Int64
	other.QueueSubscribe("work", "auditors", func(*nats.Msg) { otherCount.Add(1) })
	other.Flush()

	pub := connect(t, s)
	for i := 0; i < msgs; i++ {
		pub.Publish("work", []byte("x"))
	}
	pub.Flush()
	eventually(t, 10*time.Second, func() bool {
		return total.Load() == msgs && plain.Load() == msgs && otherCount.Load() == msgs
	}, "all deliveries")
	// Exactly once: every message the server routed (all of them, once
	// the publisher's flush returned) reached each member before the reply
	// to that member's flush, so a duplicate would now be counted as
	// delivered or pending.
	received := 0
	for i, nc := range conns {
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		pending, _, _ := subs[i].Pending()
		delivered, _ := subs[i].Delivered()
		received += pending + int(delivered)
	}
	if received != msgs {
		t.Fatalf("queue group received %d, want exactly %d", received, msgs)
	}
	for i := range members {
		// Fair spread: each member gets a share within ±40% of even.
		if c := counts[i].Load(); c < msgs/members*6/10 || c > msgs/members*14/10 {
			t.Errorf("member %d got %d of %d", i, c, msgs)
		}
	}
}

func TestRequestReply(t *testing.T) {
	s := startServer(t)
	svc := connect(t, s)
	svc.Subscribe("help", func(m *nats.Msg) { m.Respond(append([]byte("re: "), m.Data...)) })
	svc.Flush()

	t.Run("new style", func(t *testing.T) {
		nc := connect(t, s)
		for i := 0; i < 100; i++ {
			m, err := nc.Request("help", []byte(fmt.Sprint(i)), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != fmt.Sprintf("re: %d", i) {
				t.Fatalf("got %q", m.Data)
			}
		}
	})
	t.Run("old style", func(t *testing.T) {
		nc := connect(t, s, nats.UseOldRequestStyle())
		for i := 0; i < 100; i++ {
			m, err := nc.Request("help", []byte("x"), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != "re: x" {
				t.Fatalf("got %q", m.Data)
			}
		}
	})
}

func TestNoResponders(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	// ErrNoResponders (not ErrTimeout) proves the server answered at once:
	// no clock needed.
	_, err := nc.Request("nobody.home", []byte("hi"), 30*time.Second)
	if err != nats.ErrNoResponders {
		t.Fatalf("err = %v, want ErrNoResponders", err)
	}
	old := connect(t, s, nats.UseOldRequestStyle())
	if _, err := old.Request("nobody.home", []byte("hi"), 5*time.Second); err != nats.ErrNoResponders {
		t.Fatalf("old style err = %v, want ErrNoResponders", err)
	}
}

func TestHeadersRoundTrip(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	sub, _ := nc.SubscribeSync("h")
	nc.Flush()
	m := nats.NewMsg("h")
	m.Header.Add("X-Multi", "one")
	m.Header.Add("X-Multi", "two")
	m.Header.Set("Nats-Msg-Id", "abc")
	m.Data = []byte("body")
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	got, err := sub.NextMsg(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Header.Values("X-Multi"); fmt.Sprint(v) != "[one two]" {
		t.Errorf("X-Multi = %v", v)
	}
	if got.Header.Get("Nats-Msg-Id") != "abc" || string(got.Data) != "body" {
		t.Errorf("got %v %q", got.Header, got.Data)
	}
}

func TestAutoUnsubscribe(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	var n atomic.Int64
	sub, _ := nc.Subscribe("auto", func(*nats.Msg) { n.Add(1) })
	sub.AutoUnsubscribe(10)
	nc.Flush()
	for i := 0; i < 25; i++ {
		nc.Publish("auto", nil)
	}
	nc.Flush()
	eventually(t, 5*time.Second, func() bool { return n.Load() == 10 }, "10 messages")
	nc.Flush()
	if n.Load() != 10 {
		t.Fatalf("got %d messages, want 10", n.Load())
	}
	eventually(t, 5*time.Second, func() bool { return s.NumSubscriptions() == 0 }, "subscription removed")
}

func TestDrain(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s)
	var got atomic.Int64
	nc.Subscribe("drain", func(*nats.Msg) {
		time.Sleep(time.Millisecond)
		got.Add(1)
	})
	nc.Flush()
	pub := connect(t, s)
	for i := 0; i < 200; i++ {
		pub.Publish("drain", nil)
	}
	pub.Flush()
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not finish")
	}
	if got.Load() != 200 {
		t.Fatalf("drain handled %d of 200", got.Load())
	}
}

func TestMaxPayloadViolation(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.MaxPayload = 1024 })
	nc := connect(t, s)
	if nc.MaxPayload() != 1024 {
		t.Fatalf("client sees max payload %d", nc.MaxPayload())
	}
	// nats.go refuses locally; the server's check is tested over raw TCP.
	if err := nc.Publish("big", make([]byte, 2000)); err != nats.ErrMaxPayload {
		t.Fatalf("err = %v, want ErrMaxPayload", err)
	}
}

func TestEchoOff(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s, nats.NoEcho())
	sub, _ := nc.SubscribeSync("echo")
	other := connect(t, s)
	osub, _ := other.SubscribeSync("echo")
	nc.Flush()
	other.Flush()
	nc.Publish("echo", []byte("x"))
	nc.Flush()
	if _, err := osub.NextMsg(2 * time.Second); err != nil {
		t.Fatal("other subscriber missed the message")
	}
	if m, err := sub.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("echo off, but got own message %q", m.Data)
	}
}

func TestVerboseAndPedantic(t *testing.T) {
	s := startServer(t)
	nc := connect(t, s, func(o *nats.Options) error {
		o.Verbose, o.Pedantic = true, true
		return nil
	})
	// Verbose: every operation is acknowledged with +OK, which the client
	// consumes; traffic works as usual.
	sub, err := nc.SubscribeSync("v.*")
	if err != nil {
		t.Fatal(err)
	}
	nc.Publish("v.1", []byte("ok"))
	if _, err := sub.NextMsg(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Pedantic: a wildcard publish gets -ERR 'Invalid Publish Subject'.
	// nats.go treats an -ERR it does not know as fatal and closes, exactly
	// as it does against nats-server (the raw transcripts show the server
	// keeps the connection).
	nc.Publish("v.*", []byte("bad"))
	nc.Flush()
	eventually(t, 2*time.Second, nc.IsClosed, "client to close on the error")
	if e := nc.LastError(); e == nil || !strings.Contains(strings.ToLower(e.Error()), "invalid publish subject") {
		t.Errorf("last error %v", e)
	}
}

func TestManyConnections(t *testing.T) {
	const n = 500
	s := startServer(t)
	conns := make([]*nats.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := nats.Connect(s.ClientURL(), nats.Timeout(10*time.Second))
			if err != nil {
				errs <- err
				return
			}
			conns[i] = nc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	if s.NumClients() != n {
		t.Fatalf("server counts %d clients", s.NumClients())
	}
	var got atomic.Int64
	for _, nc := range conns {
		nc.Subscribe("all", func(*nats.Msg) { got.Add(1) })
		nc.Flush()
	}
	conns[0].Publish("all", []byte("hi"))
	eventually(t, 10*time.Second, func() bool { return got.Load() == n }, "fan-out to 500")
}
