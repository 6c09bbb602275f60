package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// traceNatsCLI finds natscli (the nats command): on PATH or in
// $HOME/go/bin. Without it the test skips, unless
// STARLING_REQUIRE_NATSCLI=1 (as in CI).
func traceNatsCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, "go", "bin", "nats")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("STARLING_REQUIRE_NATSCLI") == "1" {
		t.Fatal("natscli (nats) not found; go install github.com/nats-io/natscli/nats@v0.5.0")
	}
	t.Skip("natscli (nats) not found")
	return ""
}

// runNatsTrace runs `nats trace` against url with a clean configuration
// (no saved contexts) and returns its output.
func runNatsTrace(t *testing.T, bin, url string, args ...string) string {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, bin, append([]string{"--server", url, "--timeout", "5s", "trace"}, args...)...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "NATS_CONTEXT=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nats trace %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestTraceNatsCLI: `nats trace` (natscli v0.5.0) accepts Starling and
// shows every hop: a subscriber, a queue group and a stream, trace-only
// by default and delivered with --deliver.
func TestTraceNatsCLI(t *testing.T) {
	bin := traceNatsCLI(t)
	s := startJS(t, "")
	_, js := jsConnect(t, s)
	if _, err := js.CreateStream(ctx(t), jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}); err != nil {
		t.Fatal(err)
	}
	subc := connect(t, s, nats.Name("plainsub"))
	plain, _ := subc.SubscribeSync("orders.*")
	qc := connect(t, s, nats.Name("queuesub"))
	queue, _ := qc.QueueSubscribeSync("orders.new", "workers")
	subc.Flush()
	qc.Flush()

	out := runNatsTrace(t, bin, s.ClientURL(), "orders.new", "hello")
	for _, want := range []string{
		`version:"2.11.0"`,
		`--C Client "plainsub"`, `subject:"orders.*"`,
		`--C Client "queuesub"`, `subject:"orders.new" queue:"workers"`,
		`--J JetStream action:"stored" stream:"ORDERS" subject:"orders.new"`,
		"Client: 2", "JetStream: 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("nats trace output lacks %q:\n%s", want, out)
		}
	}
	if n := streamMsgs(t, js, "ORDERS"); n != 0 {
		t.Errorf("trace-only stored %d messages", n)
	}
	expectNoMsg(t, subc, plain, "orders.marker") // the marker is stored too

	out = runNatsTrace(t, bin, s.ClientURL(), "orders.new", "hello", "--deliver")
	if !strings.Contains(out, "with delivery to the final destination") || !strings.Contains(out, `action:"stored"`) {
		t.Errorf("nats trace --deliver output:\n%s", out)
	}
	if n := streamMsgs(t, js, "ORDERS"); n != 2 {
		t.Errorf("stream holds %d messages after --deliver, want the marker and the traced one", n)
	}
	if m, err := plain.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hello" {
		t.Errorf("subscriber: %v %v", m, err)
	}
	if m, err := queue.NextMsg(5 * time.Second); err != nil || string(m.Data) != "hello" {
		t.Errorf("queue subscriber: %v %v", m, err)
	}
	expectNoMsg(t, qc, queue, "orders.new") // and only that one

	out = runNatsTrace(t, bin, s.ClientURL(), "nobody.listens")
	if !strings.Contains(out, "No active interest") {
		t.Errorf("no interest output:\n%s", out)
	}
}
