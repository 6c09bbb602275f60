package resource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/internal/slowreader"
)

// bpServer is a starling process started for a back-pressure test.
type bpServer struct {
	pid      int
	addr     string // host:port for clients
	monitor  string // http://host:port
	stderr   *logTail
	finished chan struct{}
}

// bpStart builds starling and runs it with config (ports are added),
// killing it when the test ends.
func bpStart(t *testing.T, config string) *bpServer {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads memory from /proc")
	}
	dir := t.TempDir()
	bin := starlingBin(t)
	port, mport := freePort(t), freePort(t)
	conf := filepath.Join(dir, "server.conf")
	config = fmt.Sprintf("host: 127.0.0.1\nport: %d\nhttp: \"127.0.0.1:%d\"\n%s\n", port, mport, config)
	if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "-c", conf)
	s := &bpServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), monitor: fmt.Sprintf("http://127.0.0.1:%d", mport), stderr: &logTail{}, finished: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.pid = cmd.Process.Pid
	go func() {
		_ = cmd.Wait()
		close(s.finished)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // only the process this test started
		<-s.finished
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-s.finished:
			t.Fatalf("starling exited; logs:\n%s", s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("starling not listening after 30s; logs:\n%s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func (s *bpServer) slowConsumers(t *testing.T) int64 {
	t.Helper()
	hc := http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(s.monitor + "/varz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		SlowConsumers int64 `json:"slow_consumers"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.SlowConsumers
}

// bpDial connects a raw client and sends CONNECT.
func bpDial(t *testing.T, s *bpServer, readBuf int) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if readBuf > 0 {
		c.(*net.TCPConn).SetReadBuffer(readBuf)
	}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n")); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPingFloodMemoryBounded: two clients pipeline PINGs and never read
// the PONGs. Each PONG counts against max_pending (1 MB): both clients are
// cut off as slow consumers, and the server's peak memory stays small
// (it reached 2 GB when PONGs bypassed the limit; nats-server: 19 MB).
func TestPingFloodMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("resource test")
	}
	s := bpStart(t, "max_pending: 1MB\nwrite_deadline: \"2m\"")
	block := bytes.Repeat([]byte("PING\r\n"), 20000)
	var wg sync.WaitGroup
	for range 2 {
		c := bpDial(t, s, 4096)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// At most 240 MB of PINGs each; the write fails once the
			// server cuts the client.
			for range 2000 {
				c.SetWriteDeadline(time.Now().Add(30 * time.Second))
				if _, err := c.Write(block); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	eventually(t, time.Now().Add(time.Minute), "both flooding clients to be cut as slow consumers", func() bool { return s.slowConsumers(t) == 2 })
	hwm := procStatusKB(t, s.pid, "VmHWM")
	t.Logf("peak RSS %d MiB", hwm/1024)
	if hwm > 200*1024 {
		t.Errorf("peak RSS %d MiB, want under 200 MiB", hwm/1024)
	}
}

// TestFastPublisherSteadySubscriber: one nats.go publisher publishes as
// fast as it can to a raw subscriber that reads steadily at 8 MB/s and a
// nats.go subscriber; with max_pending 1 MB the publisher is slowed to
// the reader's pace, and both subscribers get every message.
func TestFastPublisherSteadySubscriber(t *testing.T) {
	if testing.Short() {
		t.Skip("resource test")
	}
	s := bpStart(t, "max_pending: 1MB")
	steady := bpDial(t, s, 0)
	steady.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := steady.Write([]byte("SUB fast 1\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	readErr := make(chan error, 1)
	subscribed := make(chan struct{})
	go func() { readErr <- slowreader.Read(steady, nil, 8<<20, &got, subscribed) }()
	select {
	case <-subscribed:
	case err := <-readErr:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("no PONG for the steady subscriber's SUB")
	}

	sub, err := nats.Connect("nats://"+s.addr, nats.Timeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var got2 atomic.Int64
	ns, err := sub.Subscribe("fast", func(*nats.Msg) { got2.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	ns.SetPendingLimits(-1, -1)
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	pub, err := nats.Connect("nats://"+s.addr, nats.Timeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const n = 50_000 // 1 KiB each: 50 MB, about 6 s at the reader's pace
	payload := make([]byte, 1024)
	start := time.Now()
	for i := range n {
		if err := pub.Publish("fast", payload); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if err := pub.FlushTimeout(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	pubTime := time.Since(start)
	eventually(t, time.Now().Add(2*time.Minute), "both subscribers to get every message", func() bool {
		select {
		case err := <-readErr:
			t.Fatalf("steady subscriber ended after %d messages: %v", got.Load(), err)
		default:
		}
		return got.Load() == n && got2.Load() == n
	})
	t.Logf("%d x 1 KiB published in %v (%.0f msgs/s), all delivered; peak RSS %d MiB",
		n, pubTime.Round(time.Millisecond), n/pubTime.Seconds(), procStatusKB(t, s.pid, "VmHWM")/1024)
	if sc := s.slowConsumers(t); sc != 0 {
		t.Errorf("slow_consumers = %d, want 0", sc)
	}
}
