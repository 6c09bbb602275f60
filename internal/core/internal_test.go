package core

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestInternalClientRequestReply: an in-process service answers a request
// from a TCP client, with headers, and its subscription counts as a
// responder.
func TestInternalClientRequestReply(t *testing.T) {
	s := startTestServer(t)
	defer s.Shutdown(context.Background())
	svc := s.NewInternalClient("echo")
	defer svc.Close()
	got := make(chan string, 1)
	if _, err := svc.Subscribe("svc.echo", "", func(m *Msg) {
		got <- string(m.Header) + "|" + string(m.Data)
		// Reply from another goroutine, as real services do.
		reply, data := string(m.Reply), append([]byte("re:"), m.Data...)
		go svc.Publish(reply, "", []byte("NATS/1.0\r\nX: 1\r\n\r\n"), data)
	}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r.ReadString('\n') // INFO
	conn.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\nSUB inbox 1\r\n" +
		"HPUB svc.echo inbox 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"))
	select {
	case m := <-got:
		if m != "NATS/1.0\r\n\r\n|hi" {
			t.Fatalf("service got %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("service got nothing")
	}
	line, err := r.ReadString('\n')
	if err != nil || line != "HMSG inbox 1 18 23\r\n" {
		t.Fatalf("reply line %q %v", line, err)
	}
	body := make([]byte, 25)
	if _, err := r.Read(body); err != nil || !strings.HasPrefix(string(body), "NATS/1.0\r\nX: 1\r\n\r\nre:hi") {
		t.Fatalf("reply body %q", body)
	}
}

func TestInternalClientClose(t *testing.T) {
	s := startTestServer(t)
	defer s.Shutdown(context.Background())
	ic := s.NewInternalClient("x")
	if _, err := ic.Subscribe("a.>", "", func(*Msg) {}); err != nil {
		t.Fatal(err)
	}
	if s.NumSubscriptions() != 1 {
		t.Fatal("subscription not registered")
	}
	ic.Close()
	if s.NumSubscriptions() != 0 {
		t.Fatal("Close left subscriptions")
	}
	if _, err := ic.Publish("a.b", "", nil, nil); err != ErrInternalClosed {
		t.Fatalf("publish after close: %v", err)
	}
}
