package slowreader

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// A scripted server: Read counts messages (split across reads and in what
// was already buffered), answers PING, signals the first PONG and fails
// on a line it does not know.
func TestRead(t *testing.T) {
	srv, cli := net.Pipe()
	defer srv.Close()
	var msgs atomic.Int64
	pong := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- Read(cli, []byte("INFO {}\r\nMSG a 1 3\r\nabc\r\n"), 1<<20, &msgs, pong) }()

	write := func(s string) {
		srv.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := srv.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write("MSG a 1 5\r\nhel")
	write("lo\r\nPONG\r\n")
	select {
	case <-pong:
	case <-time.After(10 * time.Second):
		t.Fatal("first PONG not signalled")
	}
	write("PING\r\n")
	buf := make([]byte, 6)
	srv.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := srv.Read(buf); err != nil || string(buf) != "PONG\r\n" {
		t.Fatalf("answer to PING = %q, %v", buf, err)
	}
	write("-ERR 'x'\r\nPONG\r\nBOGUS\r\n")
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("an unknown line was accepted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not end on an unknown line")
	}
	if n := msgs.Load(); n != 2 {
		t.Fatalf("counted %d messages, want 2", n)
	}
}
