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
			logs := &syncBuffer{}
			cmd.Stderr = logs
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
			conn := dialUntil(t, port, 30*time.Second)
			defer conn.Close()
			r := bufio.NewReader(conn)
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "INFO ") {
				t.Fatalf("INFO: %q %v", line, err)
			}
			if pid, err := os.ReadFile(pidFile); err != nil || string(pid) != strconv.Itoa(cmd.Process.Pid) {
				t.Fatalf("pid file %q %v", pid, err)
			}
			cmd.Process.Signal(syscall.SIGHUP) // no config file to reload: logged, not fatal
			// Signals sent back to back may be handled in either order:
			// the stop signal goes once the reload was handled.
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(logs.String(), "no configuration file to reload") {
				if time.Now().After(deadline) {
					t.Fatalf("no warning for SIGHUP in logs:\n%s", logs.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
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
			case <-time.After(60 * time.Second):
				t.Fatal("server did not exit")
			}
			// The client was disconnected, and the pid file removed.
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := r.ReadString('\n'); err == nil {
				t.Error("client connection still open after shutdown")
			}
			if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
				t.Errorf("pid file left behind: %v", err)
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
// The reload is sent as soon as the pid file names the process, which the
// server must survive; every wait is for a condition, with a generous
// bound for a loaded machine.
func TestConfigReload(t *testing.T) {
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
	readLog := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	write("first")
	var out, errb bytes.Buffer
	if code := run([]string{"server", "-t", "-c", conf}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "is valid") {
		t.Fatalf("-t: %d %s", code, errb.String())
	}
	p := startProc(t, "-c", conf)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		if err := p.wait(30 * time.Second); err != nil {
			t.Errorf("exit: %v\n%s", err, readLog())
		}
	}()
	p.waitFor(30*time.Second, "the pid file", func() bool {
		b, err := os.ReadFile(pidFile)
		return err == nil && string(b) == strconv.Itoa(p.cmd.Process.Pid)
	})
	conn := dialUntil(t, port, 30*time.Second)
	defer conn.Close()
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	r.ReadString('\n') // INFO
	conn.Write([]byte("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"first\"}\r\nPING\r\n"))
	if line, err := r.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("login: %q %v", line, err)
	}
	write("second")
	if code := run([]string{"server", "--signal", "reload=" + pidFile}, &out, &errb); code != 0 {
		t.Fatalf("--signal reload: %s", errb.String())
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	line, _ := r.ReadString('\n')
	if line != "-ERR 'Authorization Violation'\r\n" {
		t.Fatalf("after reload the old password's connection got %q\n%s", line, readLog())
	}
	c2 := dialUntil(t, port, 30*time.Second)
	defer c2.Close()
	r2 := bufio.NewReader(c2)
	c2.SetReadDeadline(time.Now().Add(30 * time.Second))
	r2.ReadString('\n')
	c2.Write([]byte("CONNECT {\"verbose\":false,\"user\":\"alice\",\"pass\":\"second\"}\r\nPING\r\n"))
	if line, err := r2.ReadString('\n'); err != nil || line != "PONG\r\n" {
		t.Fatalf("new password: %q %v", line, err)
	}
	// The log line may follow the disconnect: wait for it.
	p.waitFor(30*time.Second, "the reload in the log", func() bool { return strings.Contains(readLog(), "configuration reloaded") })
	if strings.Contains(readLog(), "second") {
		t.Errorf("the password is in the log file:\n%s", readLog())
	}
}

// TestCheckConfig: -t passes a valid file and fails one with a typo or an
// option Starling does not implement, naming file, line and column.
func TestCheckConfig(t *testing.T) {
	tests := []struct {
		text string
		code int
		want []string
	}{
		{"port: 4333\nmax_payload: 1MB\n", 0, []string{"is valid"}},
		{"port: 4333\nmax_paylod: 1MB\n", 1, []string{`nats.conf:2:1: unknown field "max_paylod" (did you mean max_payload?)`}},
		{"port: 4333\njetstream {\n  store_dri: /x\n}\n", 1, []string{`nats.conf:3:3: unknown field "store_dri" in jetstream (did you mean store_dir?)`}},
		{"leafnodes { port: 7422 }\nmax_paylod: 1\n", 1, []string{
			`nats.conf:1:1: not implemented by Starling: "leafnodes" (leaf nodes)`,
			`nats.conf:2:1: unknown field "max_paylod"`}},
		// Accounts run, JetStream in accounts too.
		{"accounts {\n  A { exports: [{stream: \"a.>\"}] }\n  B { imports: [{stream: {account: A, subject: \"a.>\"}, prefix: p}] }\n}\n", 0,
			[]string{"is valid"}},
		{"accounts {\n  A { jetstream: enabled }\n}\n", 0, []string{"is valid"}},
		{"accounts {\n  A {}\n  B { imports: [{stream: {account: A, subject: \"a.>\"}}] }\n}\n", 1,
			[]string{`nats.conf:3:17: Error adding stream import "a.>": stream import not authorized`}},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "nats.conf")
		if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := run([]string{"server", "-t", "-c", path}, &out, &errb)
		if code != tt.code {
			t.Errorf("%q: exit %d, want %d\n%s", tt.text, code, tt.code, errb.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tt.text, w, errb.String())
			}
		}
		if tt.code != 0 && strings.Contains(errb.String(), "is valid") {
			t.Errorf("%q: called valid:\n%s", tt.text, errb.String())
		}
	}
}

// TestClusterCheckAgreesWithStart: -t checks a cluster block as a start
// does: a valid one is valid, and what Starling refuses (s2 compression,
// route pooling) is refused by both, naming the key.
func TestClusterCheckAgreesWithStart(t *testing.T) {
	tests := []struct {
		text  string
		flags []string
		want  string // "" = valid
	}{
		{"port: -1\ncluster {\n  name: east\n  port: -1\n  routes: [nats-route://127.0.0.1:1]\n}\n", nil, ""},
		{"port: -1\n", []string{"--routes", "nats://127.0.0.1:1"}, "solicited routes require cluster capabilities"},
		{"port: -1\ncluster {\n  port: -1\n  compression: s2_best\n}\n", nil, `nats.conf:4:3: not implemented by Starling: "compression" in cluster`},
		{"port: -1\ncluster {\n  port: -1\n  pool_size: 3\n}\n", nil, "pool_size 3: not implemented by Starling"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "nats.conf")
		if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"server", "-t", "-c", path}, tt.flags...)
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		if tt.want == "" {
			if code != 0 {
				t.Errorf("%q %v: exit %d\n%s", tt.text, args, code, errb.String())
			}
			continue
		}
		if code != 1 || !strings.Contains(errb.String(), tt.want) || strings.Contains(errb.String(), "is valid") {
			t.Errorf("%q %v: exit %d\n%s", tt.text, args, code, errb.String())
		}
		// A real start refuses the same way, before it listens.
		args[1] = "-c"
		args = append(args[:1], args[2:]...)
		errb.Reset()
		if code := run(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("start %q %v: exit %d\n%s", tt.text, args, code, errb.String())
		}
	}
}
