package core

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

func queued(o *outbound) []byte {
	var b []byte
	for _, c := range o.bufs {
		b = append(b, c...)
	}
	return b
}

func TestOutboundAppendAcrossChunks(t *testing.T) {
	var o outbound
	o.init(1 << 30)
	var want []byte
	for i := 0; i < 5000; i++ {
		p := bytes.Repeat([]byte{byte(i)}, i%97+1)
		o.appendLocked(p)
		want = append(want, p...)
	}
	big := bytes.Repeat([]byte("x"), 3*chunkSize+17)
	o.appendLocked(big)
	want = append(want, big...)
	if got := queued(&o); !bytes.Equal(got, want) {
		t.Fatal("queued bytes differ from what was appended")
	}
	if o.pending != len(want) {
		t.Fatalf("pending %d, want %d", o.pending, len(want))
	}
	for _, c := range o.bufs {
		if cap(c) != chunkSize {
			t.Fatalf("chunk of cap %d; appends must never grow a chunk", cap(c))
		}
	}
}

// TestOutboundTakeKeepsQueuesApart: after a wake-up with nothing queued,
// the queue and the writer's spare must still be different slices, or a
// producer would append into the slice the writer is writing.
func TestOutboundTakeKeepsQueuesApart(t *testing.T) {
	var o outbound
	o.init(1 << 30)
	var w writer
	o.appendLocked([]byte("one"))
	bufs, n := o.take(w.free)
	if n != 3 || len(bufs) != 1 {
		t.Fatalf("take = %d bytes in %d chunks", n, len(bufs))
	}
	o.written(n)
	w.free = bufs[:0] // as write() leaves it
	if b, n := o.take(w.free); b != nil || n != 0 {
		t.Fatalf("empty take returned %d bytes", n)
	}
	o.appendLocked([]byte("two"))
	bufs2, _ := o.take(w.free)
	o.appendLocked([]byte("three"))
	if &bufs2[:1][0] == &o.bufs[:1][0] {
		t.Fatal("writer's slice and the producers' queue share storage")
	}
}

func TestOutboundReleaseAccounting(t *testing.T) {
	var o outbound
	o.init(1 << 30)
	o.appendLocked(make([]byte, 100))
	_, n := o.take(nil) // in flight
	o.appendLocked(make([]byte, 50))
	o.release()
	if o.pending != n {
		t.Fatalf("after release pending %d, want the %d in flight", o.pending, n)
	}
	o.written(n)
	if o.pending != 0 || !o.closed {
		t.Fatalf("pending %d closed %v", o.pending, o.closed)
	}
}

func TestOutboundStall(t *testing.T) {
	var o outbound
	o.init(1000)
	o.appendLocked(make([]byte, 700))
	if o.overStall(0) != nil {
		t.Fatal("stalled below 3/4")
	}
	o.appendLocked(make([]byte, 100))
	ch := o.overStall(0)
	if ch == nil {
		t.Fatal("no stall above 3/4")
	}
	o.written(400)
	select {
	case <-ch:
	default:
		t.Fatal("stall not released after draining")
	}
}

func TestFlushSetDedup(t *testing.T) {
	var f flushSet
	clients := make([]*transport, 40)
	for i := range clients {
		clients[i] = &transport{}
		clients[i].out.init(1)
	}
	for round := 0; round < 3; round++ {
		for _, c := range clients {
			f.add(c)
			f.add(c)
		}
		if len(f.list) != len(clients) {
			t.Fatalf("round %d: %d entries for %d clients", round, len(f.list), len(clients))
		}
		f.signalAll()
		if len(f.list) != 0 {
			t.Fatal("signalAll left entries")
		}
	}
}

// tcpPair returns the two ends of a loopback TCP connection, closed when
// the test ends.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server = <-accepted
	t.Cleanup(func() { server.Close() })
	return server, client
}

// TestFlushInlinePartialWrite fills a socket whose peer does not read, so
// the inline writev writes part of the queue; the writer must then send the
// rest, in order, once the peer reads.
func TestFlushInlinePartialWrite(t *testing.T) {
	conn, peer := tcpPair(t)
	peer.(*net.TCPConn).SetReadBuffer(4096)
	conn.(*net.TCPConn).SetWriteBuffer(4096)

	var o outbound
	o.init(1 << 30)
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	o.raw = raw
	var want []byte
	partial := false
	for i := 0; i < 200 && !partial; i++ {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, 40*1024)
		o.mu.Lock()
		o.appendLocked(p)
		o.mu.Unlock()
		want = append(want, p...)
		partial = !o.flushInline()
	}
	if !partial {
		t.Fatal("socket never filled")
	}
	// Hand the rest to a writer, as signalAll would, and read everything.
	done := make(chan error, 1)
	go func() {
		var w writer
		for {
			o.mu.Lock()
			bufs, n := o.take(w.free)
			o.writing = n > 0
			o.mu.Unlock()
			if n == 0 {
				done <- nil
				return
			}
			err := w.write(&o, conn, bufs, 10*time.Second)
			o.mu.Lock()
			o.writing = false
			o.written(n)
			o.mu.Unlock()
			if err != nil {
				done <- err
				return
			}
		}
	}()
	got := make([]byte, len(want))
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes arrived out of order or corrupted")
	}
	if o.pending != 0 {
		t.Fatalf("pending %d after everything was written", o.pending)
	}
}

// TestWriterManyChunksInOrder: a queue of more chunks than one writev
// takes arrives whole and in order, and
// every byte is reported as progress.
func TestWriterManyChunksInOrder(t *testing.T) {
	conn, peer := tcpPair(t)
	var o outbound
	o.init(1 << 30)
	if raw, err := conn.(*net.TCPConn).SyscallConn(); err == nil {
		o.raw = raw
	}
	var want []byte
	var bufs [][]byte
	for i := range 2500 { // more than maxIovecs
		b := getChunk()
		b = append(b, bytes.Repeat([]byte{byte(i)}, 1+i%300)...)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	done := make(chan error, 1)
	go func() {
		var w writer
		done <- w.write(&o, conn, bufs, 30*time.Second)
	}()
	got := make([]byte, len(want))
	peer.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes arrived out of order or corrupted")
	}
	if n := o.sent.Load(); n != int64(len(want)) {
		t.Fatalf("progress reported %d bytes, want %d", n, len(want))
	}
	if d := o.delivered(); d < 0 || d > int64(len(want)) {
		t.Fatalf("delivered %d of %d bytes", d, len(want))
	}
}

// TestOverStallRule: who waits, and when a stuck receiver stops holding
// producers.
func TestOverStallRule(t *testing.T) {
	cases := []struct {
		name    string
		pending int
		size    int
		stuck   bool
		closed  bool
		wait    bool
	}{
		{"empty queue, even for a huge message", 0, 5000, false, false, false},
		{"room left under the mark", 500, 250, false, false, false},
		{"the message would pass the mark", 500, 251, false, false, true},
		{"already past the mark", 800, 1, false, false, true},
		{"stuck receiver", 800, 1, true, false, false},
		{"closed receiver", 800, 1, false, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var o outbound
			o.init(1000) // mark at 750
			if tc.pending > 0 {
				o.appendLocked(make([]byte, tc.pending))
			}
			o.stuck.Store(tc.stuck)
			o.closed = tc.closed
			if got := o.overStall(tc.size) != nil; got != tc.wait {
				t.Fatalf("wait = %v, want %v", got, tc.wait)
			}
		})
	}

	var o outbound
	o.init(1000)
	o.appendLocked(make([]byte, 800))
	ch := o.overStall(1)
	o.markStuck(ch)
	select {
	case <-ch:
	default:
		t.Fatal("marking the receiver stuck did not release its waiters")
	}
	if o.overStall(1) != nil {
		t.Fatal("producers still wait for a stuck receiver")
	}
	o.noteSent(10)
	if o.overStall(1) == nil {
		t.Fatal("a stuck receiver that moved again is not waited for")
	}
}
