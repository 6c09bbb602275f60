package resource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Descriptors: a starling process under `ulimit -n 1024` holds 10,000
// file streams, serves a publish and a read on a sample of them, restarts
// with all of them, and never holds as many descriptors as its limit: store
// files are opened on demand through one bounded cache (max_open_files,
// by default a quarter of the limit).

const (
	fdsLimit   = 1024
	fdsStreams = 10_000
	fdsSample  = 100 // streams published to and read, spread over all
)

func TestFdsTenThousandStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("resource test")
	}
	deadline := time.Now().Add(170 * time.Second) // the whole test, generously
	bin := starlingBin(t)
	dir := filepath.Join(fdsStoreRoot(t), "store")

	p := fdsStart(t, bin, dir)
	nc := p.connect(t)
	fdsWaitStreams(t, nc, p, 0)
	peak := &fdsPeak{}
	fdsCreateStreams(t, nc, p, peak, deadline)
	fdsServeSample(t, nc, 1, deadline)
	peak.sample(t, p)
	nc.Close()
	p.stop(t, false)

	// The restart opens every stream again (the old server, with one file
	// per stream held open, could not even open its listener here).
	p = fdsStart(t, bin, dir)
	peak.sample(t, p)
	nc = p.connect(t)
	fdsWaitStreams(t, nc, p, fdsStreams)
	peak.sample(t, p)
	n := fdsStreamCount(t, nc)
	if n != fdsStreams {
		t.Fatalf("after restart: %d streams, want %d; logs:\n%s", n, fdsStreams, p.tail())
	}
	fdsServeSample(t, nc, 2, deadline)
	peak.sample(t, p)
	// New clients are still accepted.
	nc2 := p.connect(t)
	if _, err := nc2.Request("$JS.API.INFO", nil, 10*time.Second); err != nil {
		t.Fatalf("api after restart: %v", err)
	}
	nc2.Close()
	nc.Close()
	t.Logf("descriptors: peak %d of limit %d (max_open_files default %d)", peak.max.Load(), fdsLimit, fdsLimit/4)
	if m := peak.max.Load(); m >= fdsLimit*3/4 {
		t.Errorf("peak %d descriptors: the cache of %d does not bound them", m, fdsLimit/4)
	}
	p.stop(t, false)
}

// TestFdsOutOfDescriptors: with the whole process at its descriptor limit
// (idle client connections hold every descriptor left), publishes to file
// streams are still stored or refused with an API error (the store cache
// recycles its own handles), the server does not crash, the listener
// backs off instead of dying, and once descriptors are free new clients
// connect and every stream serves.
func TestFdsOutOfDescriptors(t *testing.T) {
	if testing.Short() {
		t.Skip("resource test")
	}
	bin := starlingBin(t)
	root := fdsStoreRoot(t)
	conf := filepath.Join(root, "starling.conf")
	body := fmt.Sprintf("jetstream { store_dir: %q, max_open_files: 64 }\n", filepath.Join(root, "store"))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p := fdsStartArgs(t, bin, "-c", conf)
	nc := p.connect(t)
	fdsWaitStreams(t, nc, p, 0)
	const streams = 300
	publish := func(i int, data string) error {
		msg, err := nc.Request(fmt.Sprintf("fds.%d", i), []byte(data), 10*time.Second)
		if err != nil {
			return err
		}
		if bytes.Contains(msg.Data, []byte(`"error"`)) {
			return fmt.Errorf("%s", msg.Data)
		}
		return nil
	}
	for i := range streams {
		if err := fdsCreate(nc, i); err != nil {
			t.Fatal(err)
		}
		if err := publish(i, "before"); err != nil {
			t.Fatal(err)
		}
	}

	// Hold idle connections until the server can take no more.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	peak := &fdsPeak{}
	for range fdsLimit + 100 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break // our own limit, or the backlog is full: enough
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(20 * time.Second)
	for peak.sample(t, p); peak.max.Load() < fdsLimit-4; peak.sample(t, p) {
		if time.Now().After(deadline) {
			t.Skipf("the server reached only %d descriptors of %d with %d connections", peak.max.Load(), fdsLimit, len(conns))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var stored, refused int
	for i := range streams {
		switch err := publish(i, "during"); {
		case err == nil:
			stored++
		case strings.Contains(err.Error(), "10077"):
			refused++ // the store's error for the one message
		default:
			t.Fatalf("publish to S%d out of descriptors: %v; logs:\n%s", i, err, p.tail())
		}
	}
	t.Logf("out of descriptors (%d open): %d publishes stored, %d refused", peak.max.Load(), stored, refused)

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	nc2 := p.connect(t) // the listener recovered
	for i := range streams {
		msg, err := nc2.Request(fmt.Sprintf("fds.%d", i), []byte("after"), 10*time.Second)
		if err != nil || bytes.Contains(msg.Data, []byte(`"error"`)) {
			t.Fatalf("publish to S%d after: %v %s", i, err, msg.Data)
		}
	}
	select {
	case <-p.done:
		t.Fatalf("server exited; logs:\n%s", p.tail())
	default:
	}
	nc2.Close()
	nc.Close()
	p.stop(t, true)
}

// fdsCreateStreams creates the streams over the JetStream API, several
// requests in flight, sampling the process's descriptors as it goes.
func fdsCreateStreams(t *testing.T, nc *nats.Conn, p *fdsProc, peak *fdsPeak, deadline time.Time) {
	t.Helper()
	const workers = 8
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= fdsStreams || failed.Load() != nil || time.Now().After(deadline) {
					return
				}
				if err := fdsCreate(nc, i); err != nil {
					failed.Store(fmt.Errorf("stream %d: %w", i, err))
					return
				}
			}
		}()
	}
	// Sample the descriptors while creating, from this goroutine.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			peak.sample(t, p)
		}
	}
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("create: %v; logs:\n%s", err, p.tail())
	}
	if n := next.Load(); n < fdsStreams {
		t.Fatalf("only %d streams created before the deadline", n)
	}
}

func fdsCreate(nc *nats.Conn, i int) error {
	cfg := fmt.Sprintf(`{"name":"S%d","subjects":["fds.%d"],"storage":"file","num_replicas":1}`, i, i)
	msg, err := nc.Request(fmt.Sprintf("$JS.API.STREAM.CREATE.S%d", i), []byte(cfg), 30*time.Second)
	if err != nil {
		return err
	}
	var resp struct {
		Error *struct {
			Code        int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return err
	}
	if resp.Error != nil {
		return fmt.Errorf("%d %s", resp.Error.Code, resp.Error.Description)
	}
	return nil
}

// fdsServeSample publishes one message to each sampled stream and reads
// every message it holds back.
func fdsServeSample(t *testing.T, nc *nats.Conn, round int, deadline time.Time) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for k := range fdsSample {
		i := k * (fdsStreams / fdsSample)
		data := fmt.Appendf(nil, "round %d stream %d", round, i)
		ack, err := js.Publish(ctx, fmt.Sprintf("fds.%d", i), data)
		if err != nil {
			t.Fatalf("publish to S%d: %v", i, err)
		}
		if ack.Sequence != uint64(round) {
			t.Fatalf("S%d: sequence %d, want %d", i, ack.Sequence, round)
		}
		for seq := uint64(1); seq <= uint64(round); seq++ {
			req := fmt.Sprintf(`{"seq":%d}`, seq)
			msg, err := nc.RequestWithContext(ctx, fmt.Sprintf("$JS.API.STREAM.MSG.GET.S%d", i), []byte(req))
			if err != nil {
				t.Fatalf("get S%d/%d: %v", i, seq, err)
			}
			var resp struct {
				Message *struct {
					Data []byte `json:"data"`
				} `json:"message"`
			}
			if err := json.Unmarshal(msg.Data, &resp); err != nil || resp.Message == nil {
				t.Fatalf("get S%d/%d: %s (%v)", i, seq, msg.Data, err)
			}
			if want := fmt.Appendf(nil, "round %d stream %d", seq, i); !bytes.Equal(resp.Message.Data, want) {
				t.Fatalf("get S%d/%d: %q, want %q", i, seq, resp.Message.Data, want)
			}
		}
	}
}

// fdsWaitStreams waits until JetStream answers (the client port opens
// before the streams are recovered) with want streams.
func fdsWaitStreams(t *testing.T, nc *nats.Conn, p *fdsProc, want int) {
	t.Helper()
	limit := time.Now().Add(90 * time.Second)
	got := -1
	for time.Now().Before(limit) {
		msg, err := nc.Request("$JS.API.INFO", nil, 2*time.Second)
		if err == nil {
			var info struct {
				Streams int `json:"streams"`
			}
			if json.Unmarshal(msg.Data, &info) == nil {
				if got = info.Streams; got == want {
					return
				}
			}
		}
		select {
		case <-p.done:
			t.Fatalf("server exited; logs:\n%s", p.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("JetStream has %d streams after 90s, want %d; logs:\n%s", got, want, p.tail())
}

// fdsStreamCount pages through the stream names.
func fdsStreamCount(t *testing.T, nc *nats.Conn) int {
	t.Helper()
	total := 0
	for offset := 0; offset <= fdsStreams; {
		msg, err := nc.Request("$JS.API.STREAM.NAMES", fmt.Appendf(nil, `{"offset":%d}`, offset), 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			Total   int      `json:"total"`
			Streams []string `json:"streams"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			t.Fatal(err)
		}
		total = resp.Total
		offset += len(resp.Streams)
		if len(resp.Streams) == 0 || offset >= total {
			break
		}
	}
	return total
}

// fdsPeak is the most descriptors seen open in the process.
type fdsPeak struct{ max atomic.Int64 }

func (pk *fdsPeak) sample(t *testing.T, p *fdsProc) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid))
	if err != nil {
		return // exited, or no /proc: the limit is still enforced by the kernel
	}
	n := int64(len(ents))
	for {
		m := pk.max.Load()
		if n <= m || pk.max.CompareAndSwap(m, n) {
			return
		}
	}
}

// fdsProc is a starling process under the descriptor limit.
type fdsProc struct {
	cmd  *exec.Cmd
	port int
	logs *logTail
	done chan struct{}
}

func (p *fdsProc) tail() string { return p.logs.String() }

func fdsStart(t *testing.T, bin, dir string) *fdsProc {
	t.Helper()
	return fdsStartArgs(t, bin, "-js", "-sd", dir)
}

// fdsStartArgs runs `starling server` with args under the descriptor
// limit, on a free loopback port.
func fdsStartArgs(t *testing.T, bin string, args ...string) *fdsProc {
	t.Helper()
	port := freePort(t)
	script := fmt.Sprintf(`ulimit -n %d && exec "$0" server -a 127.0.0.1 -p %d "$@"`, fdsLimit, port)
	p := &fdsProc{cmd: exec.Command("sh", append([]string{"-c", script, bin}, args...)...), port: port, logs: &logTail{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill() // only the process this test started
			<-p.done
		}
	})
	// Recovering 10,000 streams takes a while on a loaded machine.
	limit := time.Now().Add(90 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("server exited: %v; logs:\n%s", p.cmd.ProcessState, p.tail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(limit) {
			t.Fatalf("server not listening after 90s; logs:\n%s", p.tail())
		}
	}
}

func (p *fdsProc) connect(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", p.port), nats.Timeout(10*time.Second))
	if err != nil {
		t.Fatalf("connect: %v; logs:\n%s", err, p.tail())
	}
	t.Cleanup(nc.Close)
	return nc
}

// stop ends the process with SIGINT and waits for a clean exit; unless
// outOK, the log must not show the process out of descriptors.
func (p *fdsProc) stop(t *testing.T, outOK bool) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not stop within 60s; logs:\n%s", p.tail())
	}
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		t.Fatalf("server exited with %v; logs:\n%s", st, p.tail())
	}
	if !outOK && strings.Contains(p.tail(), "too many open files") {
		t.Errorf("the server ran out of descriptors; logs:\n%s", p.tail())
	}
}

// fdsStoreRoot is a directory for the store, in memory (/dev/shm) when the
// machine has it: creating a stream costs about ten fsyncs, which on a
// slow shared disk would take the test past its time bound, and what is
// measured here (descriptors) does not depend on the disk.
func fdsStoreRoot(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "starling-fds-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}
