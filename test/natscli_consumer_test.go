package test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// consumerCLI finds natscli (CI installs it), skipping the test without.
func consumerCLI(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nats"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		if p := filepath.Join(home, "go", "bin", "nats"); fileExists(p) {
			return p
		}
	}
	t.Skip("natscli (nats) not installed")
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// natsRun runs natscli against s with contexts out of the way, bounded
// in time, and returns its combined output.
func natsRun(t *testing.T, bin string, s *server.Server, args ...string) (string, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, bin, append([]string{"--no-context", "-s", s.ClientURL(), "--timeout", "5s"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestNatsCLIConsumers drives natscli's consumer commands: add and edit
// (which send pause_until as the zero time), info, next, pause and
// resume.
func TestNatsCLIConsumers(t *testing.T) {
	bin := consumerCLI(t)
	s := startJS(t, "")
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := natsRun(t, bin, s, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must("Subjects: s.>", "stream", "add", "S", "--subjects", "s.>", "--defaults")
	must("Name: C", "consumer", "add", "S", "C", "--pull", "--defaults")
	must("Published", "pub", "s.a", "hello", "--count", "3")
	must("Paused S > C until", "consumer", "pause", "S", "C", "1h", "--force")
	must("Paused Until", "consumer", "info", "S", "C")
	if out, err := natsRun(t, bin, s, "consumer", "next", "S", "C", "--timeout", "1s"); err == nil {
		t.Fatalf("next on a paused consumer got a message:\n%s", out)
	}
	// An edit keeps the pause.
	must("Paused Until", "consumer", "edit", "S", "C", "--description", "edited", "--force")
	must("was resumed", "consumer", "resume", "S", "C", "--force")
	must("hello", "consumer", "next", "S", "C", "--count", "1")
	out := must("Description: edited", "consumer", "info", "S", "C")
	if strings.Contains(out, "Paused Until") {
		t.Fatalf("still paused after resume:\n%s", out)
	}
	// Created paused for a duration.
	must("Paused Until", "consumer", "add", "S", "P", "--pull", "--defaults", "--pause", "1h")
}

// TestNatsCLIStreamView: stream view (an ordered consumer sent with the
// zero pause_until) pages messages; it needs a terminal, which script(1)
// provides.
func TestNatsCLIStreamView(t *testing.T) {
	bin := consumerCLI(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed")
	}
	s := startJS(t, "")
	if out, err := natsRun(t, bin, s, "stream", "add", "S", "--subjects", "s.>", "--defaults"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := natsRun(t, bin, s, "pub", "s.a", "hello {{Count}}", "--count", "3"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	line := bin + " --no-context -s " + s.ClientURL() + " stream view S 2"
	cmd := exec.CommandContext(c, script, "-qec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "NO_COLOR=1", "TERM=dumb")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The pager waits for an answer: end the whole group once the page is out.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	var seen []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		l := sc.Text()
		seen = append(seen, l)
		if strings.Contains(l, "hello 2") {
			return
		}
		if strings.Contains(l, "error") {
			break
		}
	}
	t.Fatalf("stream view did not page the messages:\n%s", strings.Join(seen, "\n"))
}
