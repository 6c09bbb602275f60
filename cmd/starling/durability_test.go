package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestKillDuringPublish is the durability promise end to end: clients
// publish with acks to a file stream while the server process is killed
// with SIGKILL; after a restart every acknowledged message must be there,
// byte for byte. Repeated over several rounds on the same store, so
// recovery also runs over logs torn by earlier kills.
//
// STARLING_KILL_ROUNDS raises the number of rounds (default 4).
func TestKillDuringPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	rounds := 4
	if v, err := strconv.Atoi(os.Getenv("STARLING_KILL_ROUNDS")); err == nil && v > 0 {
		rounds = min(v, 1000)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	acked := map[uint64]string{} // every acknowledged seq and its payload

	for round := range rounds {
		port := freeTCPPort(t)
		cmd := startServerProc(t, bin, dir, port)
		url := fmt.Sprintf("nats://127.0.0.1:%d", port)
		nc, js := dialJS(t, url)

		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		if round == 0 {
			_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "K", Subjects: []string{"k.>"}, Storage: jetstream.FileStorage})
			if err != nil {
				t.Fatalf("create stream: %v", err)
			}
		}
		// Everything acknowledged in earlier rounds survived the kill.
		verifyAcked(t, ctx, js, acked, round)

		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for p := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 100_000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					payload := fmt.Sprintf("r%d-p%d-%d", round, p, i)
					pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
					ack, err := js.Publish(pctx, fmt.Sprintf("k.%d", p), []byte(payload))
					pcancel()
					if err != nil {
						return // the server is gone
					}
					mu.Lock()
					acked[ack.Sequence] = payload
					mu.Unlock()
				}
			}()
		}
		// Kill at a point that varies by round, mid-stream.
		time.Sleep(time.Duration(150+round*37%200) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		close(stop)
		wg.Wait()
		nc.Close()
		cancel()
		if len(acked) == 0 {
			t.Fatalf("round %d: nothing was acknowledged before the kill", round)
		}
	}

	// Final check on a clean start.
	port := freeTCPPort(t)
	cmd := startServerProc(t, bin, dir, port)
	_, js := dialJS(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	verifyAcked(t, ctx, js, acked, rounds)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	t.Logf("%d rounds, %d acknowledged messages all recovered", rounds, len(acked))
}

func verifyAcked(t *testing.T, ctx context.Context, js jetstream.JetStream, acked map[uint64]string, round int) {
	t.Helper()
	if len(acked) == 0 {
		return
	}
	st, err := js.Stream(ctx, "K")
	if err != nil {
		t.Fatalf("round %d: stream after restart: %v", round, err)
	}
	for seq, want := range acked {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("round %d: acknowledged message %d lost: %v", round, seq, err)
		}
		if string(m.Data) != want {
			t.Fatalf("round %d: message %d is %q, acknowledged as %q", round, seq, m.Data, want)
		}
	}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServerProc runs the binary with JetStream on dir and waits until it
// accepts connections.
func startServerProc(t *testing.T, bin, dir string, port int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "server", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dialJS(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second), nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// TestKillConsumerState: acks confirmed with AckSync survive SIGKILL (none
// of those messages comes back), and every unacknowledged message is
// delivered again after the restart.
func TestKillConsumerState(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freeTCPPort(t)
	cmd := startServerProc(t, bin, dir, port)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	nc, js := dialJS(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "W", Subjects: []string{"w"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if _, err := js.Publish(ctx, "w", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	// Take 30, confirm acks for the first 20, leave 10 unacknowledged.
	batch, err := cons.Fetch(30, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if n <= 20 {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 30 {
		t.Fatalf("fetched %d", n)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	nc.Close()

	port = freeTCPPort(t)
	cmd = startServerProc(t, bin, dir, port)
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	_, js = dialJS(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	cons, err = js.Consumer(ctx, "W", "d")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for len(seen) < 30 {
		b, err := cons.Fetch(30, jetstream.FetchMaxWait(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range b.Messages() {
			got++
			v, _ := strconv.Atoi(string(m.Data()))
			if v <= 20 {
				t.Fatalf("message %d was acknowledged (AckSync) before the kill but came back", v)
			}
			seen[v] = true
			_ = m.Ack()
		}
		if got == 0 {
			break
		}
	}
	for v := 21; v <= 50; v++ {
		if !seen[v] {
			t.Fatalf("message %d never delivered after the restart (got %d messages)", v, len(seen))
		}
	}
}
