package core

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// benchServer measures the server alone: raw TCP clients write prepared
// protocol bytes and count what comes back, so client libraries do not
// dominate the profile. With STARLING_BENCH_ADDR=host:port the same clients
// run against another server (nats-server, say) for comparison.
func benchServer(b *testing.B, subs int, size int) {
	s, err := New(Options{Host: "127.0.0.1", Port: RandomPort})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	addr := s.Addr().String()
	if a := os.Getenv("STARLING_BENCH_ADDR"); a != "" {
		addr = a
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	payload := bytes.Repeat([]byte("x"), size)
	msgLine := "MSG bench 1 " + strconv.Itoa(size) + "\r\n"
	perMsg := int64(len(msgLine) + size + 2)

	readers := make([]chan int64, subs)
	for i := range subs {
		c := dial()
		defer c.Close()
		fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB bench 1\r\nPING\r\n")
		r := bufio.NewReaderSize(c, 64*1024)
		for { // skip INFO, wait for PONG
			line, err := r.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if line == "PONG\r\n" {
				break
			}
		}
		done := make(chan int64, 1)
		readers[i] = done
		want := perMsg * int64(b.N)
		go func() {
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			n, _ := io.CopyN(io.Discard, r, want)
			done <- n
		}()
	}
	pub := dial()
	defer pub.Close()
	fmt.Fprintf(pub, "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")
	var batch bytes.Buffer
	one := "PUB bench " + strconv.Itoa(size) + "\r\n" + string(payload) + "\r\n"
	for batch.Len() < 64*1024 {
		batch.WriteString(one)
	}
	perBatch := batch.Len() / len(one)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		k := min(perBatch, b.N-sent)
		if _, err := pub.Write(batch.Bytes()[:k*len(one)]); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
	for _, done := range readers {
		if n := <-done; n != perMsg*int64(b.N) {
			b.Fatalf("subscriber read %d bytes, want %d", n, perMsg*int64(b.N))
		}
	}
}

func BenchmarkServerPubOnly16(b *testing.B)  { benchServer(b, 0, 16) }
func BenchmarkServerPubSub16(b *testing.B)   { benchServer(b, 1, 16) }
func BenchmarkServerFanout5x16(b *testing.B) { benchServer(b, 5, 16) }
func BenchmarkServerPubSub1K(b *testing.B)   { benchServer(b, 1, 1024) }
