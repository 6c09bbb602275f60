package test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

// TestSlowConsumerDropped: a subscriber that never reads is cut off at
// max_pending (the default 64 MiB) while a healthy subscriber on the same
// subject keeps receiving everything, and the publisher is not stalled
// waiting for the stuck one.
func TestSlowConsumerDropped(t *testing.T) {
	s := startServer(t, func(o *serverOptions) {
		o.HTTPPort = server.RandomPort
		// max_pending is what is tested: the write deadline (10s by
		// default) must not cut the stuck client first on a slow machine,
		// where publishing the 100 MB takes that long.
		o.WriteDeadline = 5 * time.Minute
	})
	stuck := dialRaw(t, s)
	stuck.send(connectQuiet + "SUB firehose 1\r\n")
	stuck.quiet()
	// From here on the raw client reads nothing.

	healthy := connect(t, s)
	var got atomic.Int64
	sub, _ := healthy.Subscribe("firehose", func(*nats.Msg) { got.Add(1) })
	sub.SetPendingLimits(-1, -1)
	healthy.Flush()

	pub := connect(t, s)
	payload := make([]byte, 1024)
	const n = 100_000 // 100 MB: far past what the stuck socket and max_pending hold
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := pub.Publish("firehose", payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.FlushTimeout(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() bool { return got.Load() == n }, "healthy subscriber to get everything")
	elapsed := time.Since(start)
	t.Logf("published and delivered %d msgs in %v", n, elapsed)

	var varz struct {
		SlowConsumers int64 `json:"slow_consumers"`
	}
	getJSON(t, s.MonitorURL()+"/varz", &varz)
	if varz.SlowConsumers != 1 {
		t.Errorf("slow_consumers = %d, want 1", varz.SlowConsumers)
	}
	var connz struct {
		Conns []struct {
			Reason string `json:"reason"`
		} `json:"connections"`
	}
	getJSON(t, s.MonitorURL()+"/connz?state=closed", &connz)
	if len(connz.Conns) != 1 || connz.Conns[0].Reason != "Slow Consumer (Pending Bytes)" {
		t.Errorf("closed connections: %+v", connz.Conns)
	}
	// The stuck socket was closed: draining it ends in EOF.
	stuck.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, stuck.r); err != nil && !isReset(err) {
		t.Errorf("stuck client: %v", err)
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	s1 := startServer(t)
	url := s1.ClientURL()
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("after.restart")
	nc.Flush()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var p int
	fmt.Sscanf(url[strings.LastIndex(url, ":")+1:], "%d", &p)
	startServer(t, func(o *serverOptions) { o.Port = p })
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("client did not reconnect")
	}
	// The subscription was replayed on the new server.
	if err := nc.Publish("after.restart", []byte("back")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "back" {
		t.Fatalf("after restart: %v %v", m, err)
	}
}

func TestAuthUserPassword(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.Username, o.Password = "alice", "s3cret" })
	nc := connect(t, s, nats.UserInfo("alice", "s3cret"))
	if !nc.IsConnected() {
		t.Fatal("not connected")
	}
	for _, opt := range []nats.Option{nats.UserInfo("alice", "wrong"), nats.UserInfo("bob", "s3cret"), func(*nats.Options) error { return nil }} {
		_, err := nats.Connect(s.ClientURL(), opt, nats.MaxReconnects(0))
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("bad credentials: err = %v, want authorization violation", err)
		}
	}
	rc := dialRaw(t, s)
	if rc.info["auth_required"] != true {
		t.Errorf("INFO auth_required = %v", rc.info["auth_required"])
	}
	rc.send("PING\r\n")
	rc.expectClosed("-ERR 'Authorization Violation'\r\n")
}

func TestAuthToken(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.Authorization = "tok-123" })
	connect(t, s, nats.Token("tok-123"))
	if _, err := nats.Connect(s.ClientURL(), nats.Token("nope"), nats.MaxReconnects(0)); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("bad token: err = %v", err)
	}
}

func TestAuthTimeout(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.Authorization = "t"; o.AuthTimeout = 100 * time.Millisecond })
	rc := dialRaw(t, s)
	rc.expectClosed("-ERR 'Authentication Timeout'\r\n")
}

func TestMaxConnections(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.MaxConnections = 2 })
	connect(t, s)
	connect(t, s)
	_, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(0))
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "maximum connections exceeded") {
		t.Fatalf("third connection: %v", err)
	}
}

func TestMaxSubscriptions(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.MaxSubscriptions = 2 })
	errs := make(chan error, 4)
	nc := connect(t, s, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	for i := 0; i < 3; i++ {
		nc.SubscribeSync(fmt.Sprintf("s.%d", i))
	}
	nc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrMaxSubscriptionsExceeded) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no error for the third subscription")
	}
	if !nc.IsConnected() || s.NumSubscriptions() != 2 {
		t.Fatalf("connected=%v subs=%d", nc.IsConnected(), s.NumSubscriptions())
	}
}

func TestStaleConnection(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.PingInterval = 50 * time.Millisecond; o.PingMax = 2 })
	rc := dialRaw(t, s)
	// Never answer: PING, PING, then the stale error.
	rc.expectClosed("PING\r\nPING\r\n-ERR 'Stale Connection'\r\n")
}

func TestPingKeepsAnsweringClientAlive(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.PingInterval = 50 * time.Millisecond; o.PingMax = 2 })
	nc := connect(t, s)
	// Several ping intervals pass: counted by the PINGs a raw client
	// receives (and answers), not by the clock, so a slow machine only
	// makes it slower.
	rc := dialRaw(t, s)
	rc.send(connectQuiet)
	for range 6 { // three times ping_max
		rc.expect("PING\r\n")
		rc.send("PONG\r\n")
	}
	// Answering kept the raw client alive too (a server PING may come
	// before the PONG: answer it).
	rc.send("PING\r\n")
	for i, line := 0, rc.readLine(); line != "PONG\r\n"; i, line = i+1, rc.readLine() {
		if line != "PING\r\n" || i > 10 {
			t.Fatalf("got %q", line)
		}
		rc.send("PONG\r\n")
	}
	if !nc.IsConnected() {
		t.Fatal("a client that answers PINGs was dropped")
	}
	if rtt, err := nc.RTT(); err != nil || rtt <= 0 {
		t.Fatalf("rtt %v %v", rtt, err)
	}
}

func TestMaxControlLineOption(t *testing.T) {
	s := startServer(t, func(o *serverOptions) { o.MaxControlLine = 64 })
	rc := dialRaw(t, s)
	rc.send("SUB " + strings.Repeat("x", 65) + " 1\r\n")
	rc.expectClosed("-ERR 'maximum control line exceeded'\r\n")
}

func TestWriteDeadlineSlowConsumer(t *testing.T) {
	// A short write deadline with a huge max_pending: the writer times out
	// on a client that does not read.
	s := startServer(t, func(o *serverOptions) {
		o.WriteDeadline = 100 * time.Millisecond
		o.HTTPPort = server.RandomPort
	})
	addr := strings.TrimPrefix(s.ClientURL(), "nats://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	conn.Write([]byte(connectQuiet + "SUB x 1\r\n"))
	pub := connect(t, s)
	payload := make([]byte, 64*1024)
	eventually(t, 30*time.Second, func() bool {
		for i := 0; i < 100; i++ {
			pub.Publish("x", payload)
		}
		pub.Flush()
		var v struct {
			SlowConsumers int64 `json:"slow_consumers"`
		}
		getJSON(t, s.MonitorURL()+"/varz", &v)
		return v.SlowConsumers == 1
	}, "write-deadline slow consumer")
}
