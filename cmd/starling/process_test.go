package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a starling server process run by a test.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error // from Wait, once done is closed
}

// syncBuffer collects a process's stderr; the test reads it while the
// process writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc runs `starling server args...`; the process is killed when
// the test ends if it is still running.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(starlingBinary(t), append([]string{"server"}, args...)...), logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // only the process this test started
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its error from Wait.
func (p *proc) wait(d time.Duration) error {
	p.t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.t.Fatalf("process %d did not exit within %v; logs:\n%s", p.cmd.Process.Pid, d, p.logs.String())
		return nil
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond every millisecond (a signal is meant to arrive as
// soon as possible) until it holds, the process exits, or d passes.
func (p *proc) waitFor(d time.Duration, what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if p.exited() {
			p.t.Fatalf("process exited (%v) while waiting for %s; logs:\n%s", p.err, what, p.logs.String())
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out after %v waiting for %s; logs:\n%s", d, what, p.logs.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// ping connects to the process's port and checks it answers PING; when it
// does not, the failure says how the process ended.
func (p *proc) ping(port int) {
	p.t.Helper()
	if err := pingPort(p.t, port); err != nil {
		if p.exited() || waitDone(p.done, 5*time.Second) {
			p.t.Fatalf("process %d ended (%v); logs:\n%s", p.cmd.Process.Pid, p.err, p.logs.String())
		}
		p.t.Fatalf("%v; logs:\n%s", err, p.logs.String())
	}
}

func waitDone(done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func pingPort(t *testing.T, port int) error {
	t.Helper()
	conn := dialUntil(t, port, 10*time.Second)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INFO ") {
		return fmt.Errorf("INFO: %q %v", line, err)
	}
	conn.Write([]byte("PING\r\n"))
	if line, err := r.ReadString('\n'); err != nil || line != "PONG\r\n" {
		return fmt.Errorf("PING: %q %v", line, err)
	}
	return nil
}

// TestSignalSoonAfterStart signals servers the moment their pid file
// appears, many times over: no signal may kill the process. HUP (no file
// to reload) and USR1 leave it serving; USR2 starts lame duck, which INT
// then ends; every run exits 0.
func TestSignalSoonAfterStart(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 6
	}
	sigs := []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2}
	deadline := time.Now().Add(3 * time.Minute)
	for i := range rounds {
		if time.Now().After(deadline) {
			t.Logf("stopped after %d rounds: time budget spent", i)
			break
		}
		sig := sigs[i%len(sigs)]
		port := freePort(t)
		pidFile := filepath.Join(t.TempDir(), "s.pid")
		p := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-P", pidFile)
		p.waitFor(10*time.Second, "the pid file", func() bool {
			b, err := os.ReadFile(pidFile)
			return err == nil && len(b) > 0
		})
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		// Handled, not fatal: logged, and then the server still serves.
		// (The stop signal waits for the log line: two signals sent back to
		// back may be handled in either order.)
		p.waitFor(30*time.Second, sig.String()+" logged as handled", func() bool {
			logs := p.logs.String()
			return strings.Contains(logs, `signal=`+sig.String()) || strings.Contains(logs, `signal="`+sig.String()+`"`)
		})
		if sig == syscall.SIGUSR2 {
			p.waitFor(20*time.Second, "lame duck", func() bool { return strings.Contains(p.logs.String(), "entering lame duck mode") })
			p.cmd.Process.Signal(syscall.SIGINT)
		} else {
			p.ping(port)
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
		if err := p.wait(30 * time.Second); err != nil {
			t.Fatalf("round %d: %v after %v; logs:\n%s", i, err, sig, p.logs.String())
		}
	}
}

// TestStoreDirLocked: a second server on the same store directory refuses
// to start, naming the first one's pid, and exits 1; once the first has
// stopped the second starts.
func TestStoreDirLocked(t *testing.T) {
	dir := t.TempDir()
	port1 := freePort(t)
	first := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port1), "-js", "-sd", dir)
	first.ping(port1)
	port2 := freePort(t)
	second := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port2), "-js", "-sd", dir)
	err := second.wait(30 * time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second server: %v\n%s", err, second.logs.String())
	}
	want := fmt.Sprintf("is locked by process %d", first.cmd.Process.Pid)
	if !strings.Contains(second.logs.String(), want) {
		t.Fatalf("second server's error does not name the first (%q):\n%s", want, second.logs.String())
	}
	first.ping(port1) // the first is unharmed
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	third := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port2), "-js", "-sd", dir)
	third.ping(port2)
	third.cmd.Process.Signal(syscall.SIGTERM)
	if err := third.wait(30 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, third.logs.String())
	}
}

// TestPortInUseOpensNoStream: when the client port is taken, the server
// fails before it touches the store: no stream is opened (no "JetStream
// started", no stream recovered) and the store directory is not even
// created.
func TestPortInUseOpensNoStream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "store")
	p := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	err = p.wait(30 * time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\n%s", err, p.logs.String())
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "listen for clients") || strings.Contains(logs, "JetStream started") {
		t.Fatalf("logs:\n%s", logs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("store directory touched: %v", err)
	}
}

// TestSharedPIDFile: two servers given the same pid file; the second
// overwrites it, and the first, stopping, leaves the second's file alone.
func TestSharedPIDFile(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "s.pid")
	readPID := func() string { b, _ := os.ReadFile(pidFile); return string(b) }
	port1, port2 := freePort(t), freePort(t)
	first := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port1), "-P", pidFile)
	first.waitFor(10*time.Second, "the first pid file", func() bool { return readPID() == strconv.Itoa(first.cmd.Process.Pid) })
	second := startProc(t, "-a", "127.0.0.1", "-p", strconv.Itoa(port2), "-P", pidFile)
	second.waitFor(10*time.Second, "the second pid file", func() bool { return readPID() == strconv.Itoa(second.cmd.Process.Pid) })
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := readPID(); got != strconv.Itoa(second.cmd.Process.Pid) {
		t.Fatalf("pid file after the first stopped: %q", got)
	}
	second.cmd.Process.Signal(syscall.SIGTERM)
	if err := second.wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("pid file left behind: %v", err)
	}
}
