package resource

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdleConsumers creates 100,000 idle consumers on one stream of a real
// starling process (a third each: ephemeral push, ephemeral pull, durable
// pull), through raw JetStream API requests pipelined on one connection,
// and checks that they cost no goroutine each, that memory stays bounded,
// and that a sample of them still delivers (push and pull).
//
// Set STARLING_REF_NATS_SERVER to a nats-server binary to run the same
// workload on it afterwards (with idleRefCount consumers) and log both
// side by side; nothing about nats-server is checked.
func TestIdleConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("resource test: skipped under -short")
	}
	bin := starlingBin(t)
	st := idleRun(t, "starling", []string{bin, "server"}, idleConsumerCount)
	if grown := st.goroutinesAfter - st.goroutinesBefore; grown > idleGoroutineSlack {
		t.Errorf("goroutines grew by %d with %d idle consumers (before %d, after %d)",
			grown, idleConsumerCount, st.goroutinesBefore, st.goroutinesAfter)
	}
	if per := st.rssPerConsumer(); per > idleMaxBytesPerConsumer {
		t.Errorf("%d bytes of RSS per idle consumer, want at most %d", per, idleMaxBytesPerConsumer)
	}
	if ref := os.Getenv("STARLING_REF_NATS_SERVER"); ref != "" {
		idleRun(t, "nats-server", []string{ref}, idleRefCount)
	}
}

const (
	idleConsumerCount = 100_000
	// idleInFlight bounds the API requests sent and not yet answered.
	idleInFlight = 512
	// idleGoroutineSlack is how many goroutines the server may add while
	// 100,000 consumers are created and left idle: its fixed pools, not
	// one per consumer.
	idleGoroutineSlack = 64
	// idleMaxBytesPerConsumer bounds the resident memory an idle consumer
	// adds: measured about 2.7 KiB (1.5 KiB live heap plus the garbage
	// collector's headroom), against about 5.6 KiB when each consumer had
	// a goroutine.
	idleMaxBytesPerConsumer = 5 << 10
	// idleSample is how many consumers of each kind are checked to
	// deliver after the others were created.
	idleSample = 10
	// idleBudget bounds the whole run on one server.
	idleBudget = 150 * time.Second
	// idleCPUWindow is how long the idle server's CPU use is sampled.
	idleCPUWindow = 2 * time.Second
	// idleRefCount is how many consumers the nats-server comparison
	// creates: nats-server 2.9 slows down as consumers accumulate and does
	// not create 100,000 within the budget.
	idleRefCount = 20_000
)

// idleStats is what one run measured.
type idleStats struct {
	n                                 int
	create                            time.Duration
	goroutinesBefore, goroutinesAfter int
	rssBefore, rssAfter, hwm          int64   // bytes
	idleCPU                           float64 // CPU seconds per second while idle
}

func (s idleStats) rssPerConsumer() int64 { return (s.rssAfter - s.rssBefore) / int64(s.n) }

func (s idleStats) String() string {
	return fmt.Sprintf("%d consumers created in %v; goroutines %d -> %d; RSS %d MB -> %d MB (peak %d MB), %d bytes per consumer; idle CPU %.0f%%",
		s.n, s.create.Round(time.Millisecond), s.goroutinesBefore, s.goroutinesAfter,
		s.rssBefore>>20, s.rssAfter>>20, s.hwm>>20, s.rssPerConsumer(), s.idleCPU*100)
}

// idleRun starts the server argv (plus listen and JetStream flags, which
// starling and nats-server share), creates n consumers and checks a
// sample delivers.
func idleRun(t *testing.T, name string, argv []string, n int) idleStats {
	t.Helper()
	deadline := time.Now().Add(idleBudget)
	port, mport := freePort(t), freePort(t)
	args := append(argv[1:], "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-m", strconv.Itoa(mport),
		"-js", "-sd", t.TempDir())
	cmd := exec.Command(argv[0], args...)
	var logs logTail
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	defer func() {
		_ = cmd.Process.Kill() // only the process this test started
		<-exited
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", name, logs.tail(4096))
		}
	}()
	pid := cmd.Process.Pid
	mon := "http://127.0.0.1:" + strconv.Itoa(mport)

	cl := idleDial(t, port, deadline)
	defer cl.close()
	cl.request(t, "$JS.API.STREAM.CREATE.S", `{"name":"S","subjects":["s.>"],"storage":"file"}`, deadline)

	var st idleStats
	st.n = n
	st.goroutinesBefore = idleGoroutines(t, name, mon, deadline)
	st.rssBefore = procStatusKB(t, pid, "VmRSS") << 10

	start := time.Now()
	cl.createConsumers(t, n, deadline)
	st.create = time.Since(start)

	// Idle: whatever the creations started has settled (the count is the
	// same twice in a row), or 15 s went by.
	last := -1
	for settle := time.Now().Add(15 * time.Second); time.Now().Before(settle); time.Sleep(200 * time.Millisecond) {
		g := idleGoroutines(t, name, mon, deadline)
		if g == last {
			break
		}
		last = g
	}
	st.goroutinesAfter = last
	st.rssAfter, st.hwm = procStatusKB(t, pid, "VmRSS")<<10, procStatusKB(t, pid, "VmHWM")<<10
	// CPU while idle: nothing but the server's own housekeeping should run.
	cpu0, wall0 := idleCPU(t, pid), time.Now()
	time.Sleep(idleCPUWindow) // a measurement window, not synchronisation
	st.idleCPU = float64(idleCPU(t, pid)-cpu0) / float64(time.Since(wall0))

	t.Logf("%s: %s", name, st)
	if name == "starling" {
		cl.checkSample(t, n, deadline)
	}
	return st
}

// idleKind is consumer i's kind: 0 ephemeral push, 1 ephemeral pull, 2
// durable pull. Each consumer filters on its own subject s.<i>. Durables
// keep their state in memory (mem_storage): a file per durable costs disk
// and an fsync each, which would bound the run's time, not its memory.
func idleKind(i int) int { return i % 3 }

func idleName(i int) string { return "c" + strconv.Itoa(i) }

// idleCreate is the API request creating consumer i.
func idleCreate(i int) (subject, body string) {
	name := idleName(i)
	subject = "$JS.API.CONSUMER.CREATE.S." + name
	switch idleKind(i) {
	case 0:
		body = `{"stream_name":"S","config":{"name":"` + name + `","deliver_subject":"deliver.` + strconv.Itoa(i) +
			`","ack_policy":"explicit","filter_subject":"s.` + strconv.Itoa(i) + `"}}`
	case 1:
		body = `{"stream_name":"S","config":{"name":"` + name + `","ack_policy":"explicit","inactive_threshold":3600000000000,"filter_subject":"s.` +
			strconv.Itoa(i) + `"}}`
	default:
		body = `{"stream_name":"S","config":{"name":"` + name + `","durable_name":"` + name +
			`","ack_policy":"explicit","mem_storage":true,"filter_subject":"s.` + strconv.Itoa(i) + `"}}`
	}
	return subject, body
}

// idleClient is a raw protocol connection: requests are pipelined and
// their replies read by one goroutine.
type idleClient struct {
	conn net.Conn
	w    *bufio.Writer
	wmu  sync.Mutex
	msgs chan idleMsg
	done chan struct{}
}

type idleMsg struct {
	subject string
	hdr     string
	data    []byte
}

func idleDial(t *testing.T, port int, deadline time.Time) *idleClient {
	t.Helper()
	var conn net.Conn
	eventually(t, deadline, "the server to accept connections", func() bool {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		conn = c
		return err == nil
	})
	cl := &idleClient{conn: conn, w: bufio.NewWriterSize(conn, 64<<10), msgs: make(chan idleMsg, 4096), done: make(chan struct{})}
	r := bufio.NewReaderSize(conn, 64<<10)
	_ = conn.SetReadDeadline(deadline)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("INFO: %q %v", line, err)
	}
	go cl.read(r)
	// Replies (_INBOX.t.*) and every push consumer's deliveries share two
	// subscriptions: interest for all of them without a subscription each.
	cl.send(t, deadline, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\n"+
		"SUB _INBOX.t.* 1\r\nSUB deliver.> 2\r\nPING\r\n")
	return cl
}

func (cl *idleClient) close() {
	_ = cl.conn.Close()
	<-cl.done
}

// send writes raw protocol text.
func (cl *idleClient) send(t *testing.T, deadline time.Time, s string) {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	_ = cl.conn.SetWriteDeadline(deadline)
	if _, err := cl.w.WriteString(s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (cl *idleClient) flush(t *testing.T) {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	if err := cl.w.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func (cl *idleClient) pub(t *testing.T, deadline time.Time, subject, reply, body string) {
	cl.send(t, deadline, "PUB "+subject+" "+reply+" "+strconv.Itoa(len(body))+"\r\n"+body+"\r\n")
}

// read parses MSG and HMSG (answering PING) until the connection ends.
func (cl *idleClient) read(r *bufio.Reader) {
	defer close(cl.done)
	defer close(cl.msgs)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "PING":
			cl.wmu.Lock()
			_, _ = cl.w.WriteString("PONG\r\n")
			_ = cl.w.Flush()
			cl.wmu.Unlock()
			continue
		case "MSG", "HMSG":
		default:
			continue
		}
		hlen, total := 0, 0
		if f[0] == "MSG" {
			total, _ = strconv.Atoi(f[len(f)-1])
		} else {
			hlen, _ = strconv.Atoi(f[len(f)-2])
			total, _ = strconv.Atoi(f[len(f)-1])
		}
		buf := make([]byte, total+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		cl.msgs <- idleMsg{subject: f[1], hdr: string(buf[:hlen]), data: buf[hlen:total]}
	}
}

// next returns the next message, failing the test at the deadline.
func (cl *idleClient) next(t *testing.T, deadline time.Time) idleMsg {
	t.Helper()
	select {
	case m, ok := <-cl.msgs:
		if !ok {
			t.Fatal("connection closed")
		}
		return m
	case <-time.After(time.Until(deadline)):
		t.Fatal("no message before the deadline")
		return idleMsg{}
	}
}

// request sends one API request and fails on an error reply.
func (cl *idleClient) request(t *testing.T, subject, body string, deadline time.Time) {
	t.Helper()
	cl.pub(t, deadline, subject, "_INBOX.t.req", body)
	cl.flush(t)
	for {
		m := cl.next(t, deadline)
		if m.subject == "_INBOX.t.req" {
			idleCheckReply(t, m)
			return
		}
	}
}

func idleCheckReply(t *testing.T, m idleMsg) {
	t.Helper()
	var reply struct {
		Error *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.data, &reply); err != nil || reply.Error != nil {
		t.Fatalf("API reply on %s: %s %s", m.subject, m.hdr, m.data)
	}
}

// createConsumers sends the n create requests with at most idleInFlight
// unanswered, and checks every reply.
func (cl *idleClient) createConsumers(t *testing.T, n int, deadline time.Time) {
	t.Helper()
	sent, got := 0, 0
	for got < n {
		for sent < n && sent-got < idleInFlight {
			subj, body := idleCreate(sent)
			cl.pub(t, deadline, subj, "_INBOX.t.c", body)
			sent++
		}
		cl.flush(t)
		for got < sent && (sent == n || sent-got >= idleInFlight/2) {
			m := cl.next(t, deadline)
			if m.subject != "_INBOX.t.c" {
				continue
			}
			idleCheckReply(t, m)
			got++
		}
	}
}

// checkSample publishes to idleSample consumers of each kind and checks
// each gets its message: push ones on their deliver subject, pull ones on
// a pull request. Either way the delivery shows the stored subject s.<i>,
// which only consumer i filters on.
func (cl *idleClient) checkSample(t *testing.T, n int, deadline time.Time) {
	t.Helper()
	want := map[string]bool{}
	step := max(n/(3*idleSample), 1) * 3
	for kind := range 3 {
		for i, k := kind, 0; i < n && k < idleSample; i, k = i+step, k+1 {
			subj := "s." + strconv.Itoa(i)
			cl.pub(t, deadline, subj, "", "hello "+strconv.Itoa(i))
			want[subj] = true
			if kind != 0 {
				cl.pub(t, deadline, "$JS.API.CONSUMER.MSG.NEXT.S."+idleName(i), "_INBOX.t.p"+strconv.Itoa(i),
					`{"batch":1,"expires":30000000000}`)
			}
		}
	}
	cl.flush(t)
	for len(want) > 0 {
		m := cl.next(t, deadline)
		if strings.HasPrefix(m.hdr, "NATS/1.0 ") {
			t.Fatalf("status on %s instead of a message: %q", m.subject, m.hdr)
		}
		delete(want, m.subject)
	}
}

// idleGoroutines reads the server's goroutine count: go_goroutines from
// /metrics, or (nats-server, which has no /metrics) the goroutine dump of
// /stacksz.
func idleGoroutines(t *testing.T, name, mon string, deadline time.Time) int {
	t.Helper()
	if name == "nats-server" {
		body := idleGet(t, mon+"/stacksz", deadline)
		return bytes.Count(body, []byte("\ngoroutine ")) + 1
	}
	body := idleGet(t, mon+"/metrics", deadline)
	m := regexp.MustCompile(`(?m)^go_goroutines (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatal("no go_goroutines in /metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func idleGet(t *testing.T, url string, deadline time.Time) []byte {
	t.Helper()
	cl := &http.Client{Timeout: time.Until(deadline)}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return body
}

// idleCPU is the process's user and system CPU time so far.
func idleCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 12th and 13th, in clock ticks (100 per second on Linux).
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		t.Fatalf("short /proc stat: %q", b)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}
