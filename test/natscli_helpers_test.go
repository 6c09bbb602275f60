package test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// natsCLI runs the official `nats` CLI (natscli) against one server, with
// a HOME of its own so no user context leaks in. Without the binary the
// test skips, unless STARLING_REQUIRE_NATSCLI=1 (as in CI, which installs
// it with `go install github.com/nats-io/natscli/nats@v0.5.0`).
type natsCLI struct {
	t    *testing.T
	bin  string
	url  string
	home string
}

func newNatsCLI(t *testing.T, url string) *natsCLI {
	t.Helper()
	return &natsCLI{t: t, bin: natsCLIPath(t), url: url, home: t.TempDir()}
}

// natsCLIPath finds natscli: on PATH or in $HOME/go/bin.
func natsCLIPath(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("nats"); err == nil {
		return bin
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidate := filepath.Join(home, "go", "bin", "nats")
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	if os.Getenv("STARLING_REQUIRE_NATSCLI") == "1" {
		t.Fatal("the nats CLI is missing: go install github.com/nats-io/natscli/nats@v0.5.0")
	}
	t.Skip("the nats CLI is missing (go install github.com/nats-io/natscli/nats@v0.5.0)")
	return ""
}

// cliTimeout bounds one CLI invocation; generous for a loaded machine.
const cliTimeout = 90 * time.Second

// cliArgs puts the connection flags in front of args; a 20 s timeout for
// API responses unless args set their own (discovery commands such as
// `service ls` wait that long for answers).
func (c *natsCLI) cliArgs(args []string) []string {
	full := []string{"--server", c.url, "--no-context"}
	if !slices.Contains(args, "--timeout") {
		full = append(full, "--timeout", "20s")
	}
	return append(full, args...)
}

func (c *natsCLI) command(ctx context.Context, args ...string) *exec.Cmd {
	full := c.cliArgs(args)
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env = append(os.Environ(), "HOME="+c.home, "XDG_CONFIG_HOME="+filepath.Join(c.home, ".config"), "NO_COLOR=1")
	cmd.Stdin = nil
	return cmd
}

// try runs the CLI and returns its combined output and error.
func (c *natsCLI) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	out, err := c.command(ctx, args...).CombinedOutput()
	return string(out), err
}

// run runs the CLI and fails the test if it does not succeed.
func (c *natsCLI) run(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runJSON runs the CLI with --json output and decodes it into v.
func (c *natsCLI) runJSON(v any, args ...string) {
	c.t.Helper()
	out := c.run(args...)
	// Warnings (deprecations) may precede the document.
	if i := strings.IndexAny(out, "{["); i > 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("nats %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// runTTY runs the CLI under a pseudo-terminal (script(1)), for commands
// that page or prompt only when they have one, such as `stream view`.
func (c *natsCLI) runTTY(args ...string) string {
	c.t.Helper()
	script, err := exec.LookPath("script")
	if err != nil {
		c.t.Skip("script(1) is missing; it gives the CLI a terminal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	full := c.cliArgs(args)
	line := shellQuote(c.bin)
	for _, a := range full {
		line += " " + shellQuote(a)
	}
	cmd := exec.CommandContext(ctx, script, "-qec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "HOME="+c.home, "XDG_CONFIG_HOME="+filepath.Join(c.home, ".config"), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		c.t.Fatalf("nats %s (terminal): %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// background starts a long-running CLI command (events, sub, service
// serve) and collects its output; stop ends it.
type cliProcess struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	mu     sync.Mutex
	out    strings.Builder
	done   chan struct{}
}

func (c *natsCLI) background(args ...string) *cliProcess {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*cliTimeout)
	cmd := c.command(ctx, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &cliProcess{cmd: cmd, cancel: cancel, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		cancel()
		c.t.Fatalf("nats %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		cmd.Wait()
		pw.Close()
	}()
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text())
			p.out.WriteByte('\n')
			p.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	c.t.Cleanup(p.stop)
	return p
}

func (p *cliProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *cliProcess) stop() {
	p.cancel()
	<-p.done
}
