package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a concurrent reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cmdTimeout bounds every command a test runs: generous, since a loaded
// machine can take seconds for a reconnect, and tests wait for what they
// expect rather than for this.
const cmdTimeout = 60 * time.Second

// running is a command started in the background by startCmd.
type running struct {
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan int // receives the exit code
}

// testEnv is an env with captured output and stdin (piped when not nil).
func testEnv(stdin *string) (*env, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	e := &env{stdout: out, stderr: errOut, getenv: func(string) string { return "" }}
	if stdin != nil {
		e.stdin, e.stdinPiped = strings.NewReader(*stdin), true
	}
	return e, out, errOut
}

// startCmd runs a subcommand in the background; cleanup cancels it and
// waits for it, so no command outlives its test.
func startCmd(t *testing.T, name string, args ...string) *running {
	t.Helper()
	e, _, _ := testEnv(nil)
	return startCmdEnv(t, e, name, args...)
}

// startCmdEnv is startCmd with a prepared env (made by testEnv).
func startCmdEnv(t *testing.T, e *env, name string, args ...string) *running {
	t.Helper()
	out, errOut := e.stdout.(*lockedBuffer), e.stderr.(*lockedBuffer)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	r := &running{stdout: out, stderr: errOut, cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- run(ctx, e, name, args) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(cmdTimeout):
			t.Errorf("%s did not stop after cancel", name)
		}
	})
	return r
}

// wait returns the exit code, failing the test if the command runs on.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // keep it for cleanup
		return code
	case <-time.After(cmdTimeout):
		t.Fatalf("command still running after %v; stderr: %s", cmdTimeout, r.stderr)
		return -1
	}
}

// runCmd runs a subcommand to completion and returns its exit code and output.
func runCmd(t *testing.T, name string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	e, out, errOut := testEnv(nil)
	return runEnv(t, e, name, args...), out.String(), errOut.String()
}

func runEnv(t *testing.T, e *env, name string, args ...string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return run(ctx, e, name, args)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond) // poll interval, bounded by the deadline
	}
}
