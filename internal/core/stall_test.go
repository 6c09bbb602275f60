package core

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// flakyListener fails Accept with fail, n times, before the real accepts.
type flakyListener struct {
	net.Listener
	mu   sync.Mutex
	n    int
	fail error
	seen int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.n > 0 {
		l.n--
		l.seen++
		l.mu.Unlock()
		return nil, l.fail
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

// TestAcceptRetriesAfterErrors: running out of descriptors (EMFILE,
// ENFILE) or any other accept failure is logged and retried after a
// pause; the listener keeps serving.
func TestAcceptRetriesAfterErrors(t *testing.T) {
	for _, fail := range []error{
		&net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE},
		&net.OpError{Op: "accept", Net: "tcp", Err: syscall.ENFILE},
		errors.New("something unexpected"),
	} {
		t.Run(fail.Error(), func(t *testing.T) {
			s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown(context.Background())
			if err := s.Listen(); err != nil {
				t.Fatal(err)
			}
			fl := &flakyListener{Listener: s.listener, n: 4, fail: fail}
			s.listener = fl
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			conn, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// 10+20+40+80 ms of pauses, then the connection is served.
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "INFO ") {
				t.Fatalf("after accept errors: %q, %v", line, err)
			}
			fl.mu.Lock()
			defer fl.mu.Unlock()
			if fl.seen != 4 {
				t.Fatalf("%d failed accepts, want 4", fl.seen)
			}
		})
	}
}

// TestAcceptPauseEndsOnShutdown: a server backing off after accept
// errors shuts down at once, not after the pause.
func TestAcceptPauseEndsOnShutdown(t *testing.T) {
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: s.listener, n: 1 << 30, fail: &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}}
	s.listener = fl
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestInternalPublishNeverStalls: an in-process publisher (the JetStream
// API, acks) never waits for a client that does not read: its publishes
// return, the client passes max_pending and is cut off.
func TestInternalPublishNeverStalls(t *testing.T) {
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort, MaxPayload: 64 * 1024, MaxPending: 256 * 1024, WriteDeadline: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r.ReadString('\n') // INFO
	conn.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB stuck 1\r\nPING\r\n"))
	if line, err := r.ReadString('\n'); line != "PONG\r\n" {
		t.Fatalf("%q %v", line, err)
	}
	// From here on the client reads nothing.
	ic := s.NewInternalClient("test")
	defer ic.Close()
	payload := make([]byte, 32*1024)
	done := make(chan int, 1)
	go func() {
		// At most 64 MB: far past the socket buffers and max_pending.
		for i := range 2048 {
			if ok, _ := ic.Publish("stuck", "", nil, payload); !ok {
				done <- i
				return
			}
		}
		done <- -1
	}()
	select {
	case i := <-done:
		if i < 0 {
			t.Fatal("the stuck client was never cut off")
		}
	case <-time.After(time.Minute):
		t.Fatal("an internal publisher waited for a client that does not read")
	}
	if got := s.stats.slowConsumers.Load(); got != 1 {
		t.Fatalf("slow consumers %d, want 1", got)
	}
}
