package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestReqReplyEcho(t *testing.T) {
	url := startServer(t)
	rep := startCmd(t, "reply", "-s", url, "svc", "--echo", "--count", "1")
	waitFor(t, rep, `Listening on "svc" in group "NATS-RPLY-22"`)

	code, stdout, stderr := runCmd(t, "req", "-s", url, "svc", "ping", "-H", "k:v", "-H", "k:w")
	if code != 0 {
		t.Fatalf("req exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "[#1] Received reply with rtt ") || !strings.HasSuffix(stdout, "\nk: v\nk: w\n\nping\n\n") {
		t.Errorf("req printed %q", stdout)
	}
	if !strings.Contains(stderr, `Sending request on "svc"`) {
		t.Errorf("req stderr %q", stderr)
	}
	if code := rep.wait(t); code != 0 {
		t.Fatalf("reply exit %d: %s", code, rep.stderr)
	}
	got := rep.stdout.String()
	if !strings.HasPrefix(got, `[#1] Received on "svc" with reply "_INBOX.`) || !strings.HasSuffix(got, "\nk: v\nk: w\n\nping\n\n") {
		t.Errorf("reply printed %q", got)
	}
}

func TestReplyBodyTemplateAndRepeatedRequests(t *testing.T) {
	url := startServer(t)
	rep := startCmd(t, "reply", "-s", url, "svc", "answer {{Count}}", "--count", "2", "-H", "seq:{{Count}}")
	waitFor(t, rep, `Listening on "svc"`)

	code, stdout, stderr := runCmd(t, "req", "-s", url, "svc", "q", "--count", "2", "--raw")
	if code != 0 || stderr != "" {
		t.Fatalf("req exit %d: %q", code, stderr)
	}
	if stdout != "answer 1\nanswer 2\n" {
		t.Errorf("req printed %q", stdout)
	}
	if rep.wait(t) != 0 {
		t.Fatalf("reply failed: %s", rep.stderr)
	}
}

func TestReqScatterGather(t *testing.T) {
	url := startServer(t)
	a := startCmd(t, "reply", "-s", url, "all", "from-a", "--queue", "")
	b := startCmd(t, "reply", "-s", url, "all", "from-b", "--queue=")
	waitFor(t, a, `Listening on "all"`)
	waitFor(t, b, `Listening on "all"`)

	tests := []struct {
		name string
		args []string
	}{
		{"exactly two", []string{"--replies", "2"}},
		{"until timeout", []string{"--replies", "0", "--timeout", "300ms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "req", append([]string{"-s", url, "all", "x", "--raw"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("req exit %d: %s", code, stderr)
			}
			lines := strings.Fields(stdout)
			slices.Sort(lines)
			if !slices.Equal(lines, []string{"from-a", "from-b"}) {
				t.Errorf("replies %q", stdout)
			}
		})
	}
	code, _, stderr := runCmd(t, "req", "-s", url, "all", "x", "--raw", "--replies", "3", "--timeout", "200ms")
	if code != 1 || stderr != "starling req: received 2 of 3 replies within 200ms (--timeout)\n" {
		t.Errorf("short gather: exit %d, stderr %q", code, stderr)
	}
}

func TestReqNoResponders(t *testing.T) {
	url := startServer(t)
	code, stdout, stderr := runCmd(t, "req", "-s", url, "nobody.home", "hi", "--raw")
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if stderr != "starling req: no responders: nothing is subscribed to \"nobody.home\"\n" {
		t.Errorf("stderr %q", stderr)
	}
}

func TestReqTimeout(t *testing.T) {
	url := startServer(t)
	// A subscriber that never answers: interest exists, so no 503.
	silent := startCmd(t, "sub", "-s", url, "mute")
	waitFor(t, silent, "Subscribing on mute")
	code, _, stderr := runCmd(t, "req", "-s", url, "mute", "hi", "--raw", "--timeout", "200ms")
	if code != 1 || stderr != "starling req: no reply within 200ms (--timeout)\n" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
