package main

import (
	"bufio"
	"bytes"
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

// The binary under test is built once per package run, in TestMain.
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// starlingBinary returns the path of the starling binary, building it on
// first use.
func starlingBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "starling-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "starling")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// buildBinary is starlingBinary, for the older tests.
func buildBinary(t *testing.T) string { return starlingBinary(t) }

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"--version"}, 0, "starling: v", ""},
		{[]string{"version"}, 0, "starling: v", ""},
		{[]string{"--help"}, 0, "Usage:", ""},
		{nil, 1, "", "Usage:"},
		{[]string{"frobnicate"}, 1, "", `unknown command "frobnicate"`},
		{[]string{"server", "--bogus"}, 1, "", "flag provided but not defined: -bogus"},
		{[]string{"server", "-p", "x"}, 1, "", `invalid value "x" for flag -p`},
		{[]string{"server", "-c", "/nonexistent/nats.conf"}, 1, "", "/nonexistent/nats.conf"},
		{[]string{"server", "-t"}, 1, "", "must specify [-c, --config]"},
		{[]string{"--bogus"}, 1, "", "flag provided but not defined"},
		{[]string{"server", "--help"}, 0, "Usage: starling server", ""},
		{[]string{"server", "--max_payload", "2MB", "--max_pending", "1MB"}, 1, "", "max_pending"},
		{[]string{"pub"}, 1, "", "starling pub"},
		{[]string{"server", "--signal", "reload"}, 1, "", "needs a process"},
		{[]string{"server", "--signal", "explode=1"}, 1, "", `unknown signal "explode"`},
		{[]string{"server", "--signal", "reload=/nonexistent/pid"}, 1, "", "invalid pid or pid file"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
			t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s", tt.args, code, out.String(), errb.String())
		}
	}
}

// TestServerSignals runs the real binary: it serves clients, ignores (with a
// warning) the signals it does not support yet, and shuts down cleanly on
// SIGTERM and SIGINT with exit code 0, closing client connections.
func TestServerSignals(t *testing.T) {
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			port := freePort(t)
			pidFile := filepath.Join(t.TempDir(), "starling.pid")
			cmd := exec.Command(bin, "server", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-P", pidFile)
			var logs bytes.Buffer
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			exited := false
			defer func() {
				if !exited {
					cmd.Process.Kill() // only the process this test started
					<-done
				}
			}()
			conn := dialUntil(t, port, 10*time.Second)
			defer conn.Close()
			r := bufio.NewReader(conn)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INFO ") {
				t.Fatalf("INFO: %q %v", line, err)
			}
			if pid, err := os.ReadFile(pidFile); err != nil || string(pid) != strconv.Itoa(cmd.Process.Pid) {
				t.Fatalf("pid file %q %v", pid, err)
			}
			cmd.Process.Signal(syscall.SIGHUP) // no config file to reload: logged, not fatal
			conn.Write([]byte("PING\r\n"))
			if line, err := r.ReadString('\n'); err != nil || line != "PONG\r\n" {
				t.Fatalf("after SIGHUP: %q %v", line, err)
			}
			if sig == syscall.SIGINT {
				// Through the CLI, as an operator would: quit = SIGINT.
				var out, errb bytes.Buffer
				if code := run([]string{"server", "--signal", "quit=" + pidFile}, &out, &errb); code != 0 {
					t.Fatalf("--signal quit: %d %s", code, errb.String())
				}
			} else {
				cmd.Process.Signal(sig)
			}
			select {
			case err := <-done:
				exited = true
				if err != nil {
					t.Fatalf("exit: %v\n%s", err, logs.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatal("server did not exit")
			}
			// The client was disconnected, and the pid file removed.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := r.ReadString('\n'); err == nil {
				t.Error("client connection still open after shutdown")
			}
			if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
				t.Errorf("pid file left behind: %v", err)
			}
			if !strings.Contains(logs.String(), "no configuration file to reload") {
				t.Errorf("no warning for SIGHUP in logs:\n%s", logs.String())
			}
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func dialUntil(t *testing.T, port int, d time.Duration) net.Conn {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not listen on %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConfigReload runs the binary with a configuration file, changes a
// user's password in it and reloads with --signal reload=<pid file>: the
// connected client with the old password is dropped, the new one works.
func TestConfigReload(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "nats.conf")
	pidFile := filepath.Join(dir, "starling.pid")
	logFile := filepath.Join(dir, "starling.log")
	write := func(pass string) {
		text := "listen: 127.0.0.1:" + strconv.Itoa(port) + "\npid_file: \"" + pidFile + "\"\nlog_file: \"" + logFile + "\"\n" +
			"authorization { users: [ {user: alice, password: " + pass + "} ] }\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	var out, errb bytes.Buffer
	if code := run([]string{"server", "-t", "-c", conf}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "is valid") {
		t.Fatalf("-t: %d %s", code, errb.String())
	}
	cmd := exec.Command(bin, "server", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() // only the process this test started
			<-done
		}
	}()
	conn := dialUntil(t, port, 10*time.Second)
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r.ReadString('\n') // INFO
	conn.Write([]byte("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"first\"}\r\nPING\r\n"))
	if line, err := r.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("login: %q %v", line, err)
	}
	write("second")
	if code := run([]string{"server", "--signal", "reload=" + pidFile}, &out, &errb); code != 0 {
		t.Fatalf("--signal reload: %s", errb.String())
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := r.ReadString('\n')
	if line != "-ERR 'Authorization Violation'\r\n" {
		t.Fatalf("after reload the old password's connection got %q", line)
	}
	c2 := dialUntil(t, port, 5*time.Second)
	defer c2.Close()
	r2 := bufio.NewReader(c2)
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	r2.ReadString('\n')
	c2.Write([]byte("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"second\"}\r\nPING\r\n"))
	if line, err := r2.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("new password: %q %v", line, err)
	}
	logs, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logs), "configuration reloaded") || strings.Contains(string(logs), "second") {
		t.Errorf("log file:\n%s", logs)
	}
}
