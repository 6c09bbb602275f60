package core

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func startTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestShutdownLeavesNoGoroutines starts a server with busy connections,
// shuts it down and checks every goroutine it started has ended.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s := startTestServer(t)
	addr := s.Addr().String()
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		fmt.Fprintf(c, "CONNECT {\"verbose\":false}\r\nSUB load 1\r\nPUB load 5\r\nhello\r\nPING\r\n")
	}
	// Every connection has been served once.
	for _, c := range conns {
		r := bufio.NewReader(c)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == "PONG\r\n" {
				break
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, runtime.NumGoroutine(), buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Start(); err != ErrServerClosed {
		t.Fatalf("Start after Shutdown = %v", err)
	}
}

// TestShutdownFlushesPending: what was queued for a client before shutdown
// reaches it before the connection closes.
func TestShutdownFlushesPending(t *testing.T) {
	s := startTestServer(t)
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sb strings.Builder
	sb.WriteString("CONNECT {\"verbose\":false}\r\nSUB f 1\r\n")
	for i := 0; i < 2000; i++ {
		sb.WriteString("PUB f 100\r\n" + strings.Repeat("x", 100) + "\r\n")
	}
	sb.WriteString("PING\r\n")
	go c.Write([]byte(sb.String()))
	// Wait until the server has parsed everything (the PONG is queued after
	// all the MSGs), without reading: the data sits in the outbound queue
	// and socket buffers.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().InMsgs < 2000 {
		if time.Now().After(deadline) {
			t.Fatal("server did not read the input")
		}
		time.Sleep(5 * time.Millisecond)
	}
	go s.Shutdown(context.Background())
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	msgs := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		if strings.HasPrefix(line, "MSG ") {
			msgs++
		}
		if line == "PONG\r\n" {
			break
		}
	}
	if msgs != 2000 {
		t.Fatalf("client read %d of 2000 queued messages before close", msgs)
	}
}
