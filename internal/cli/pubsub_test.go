package cli

import (
	"strings"
	"testing"
	"time"
)

// waitFor polls a command's stderr for a line that says it is ready.
func waitFor(t *testing.T, r *running, text string) {
	t.Helper()
	eventually(t, 5*time.Second, text, func() bool { return strings.Contains(r.stderr.String(), text) })
}

func TestPubThenSubWithHeadersAndCount(t *testing.T) {
	url := startServer(t)
	sub := startCmd(t, "sub", "-s", url, "t.*", "--count", "3")
	waitFor(t, sub, "Subscribing on t.*")

	code, stdout, stderr := runCmd(t, "pub", "-s", url, "t.x", "msg {{Count}}", "--count", "3",
		"-H", "a:1", "-H", "a:2", "-H", "n:{{Count}}", "--reply", "r.1")
	if code != 0 {
		t.Fatalf("pub exit %d: %s", code, stderr)
	}
	if stdout != "" || strings.Count(stderr, `Published 5 bytes to "t.x"`) != 3 {
		t.Errorf("pub stdout %q, stderr %q", stdout, stderr)
	}
	if code := sub.wait(t); code != 0 {
		t.Fatalf("sub exit %d: %s", code, sub.stderr)
	}
	var want strings.Builder
	for _, n := range []string{"1", "2", "3"} {
		want.WriteString("[#" + n + "] Received on \"t.x\" with reply \"r.1\"\na: 1\na: 2\nn: " + n + "\n\nmsg " + n + "\n\n")
	}
	if got := sub.stdout.String(); got != want.String() {
		t.Errorf("sub printed:\n%s\nwant:\n%s", got, want.String())
	}
}

func TestSubRawQueueAndHeadersOnly(t *testing.T) {
	url := startServer(t)
	raw := startCmd(t, "sub", "-s", url, "q.>", "--queue", "workers", "--raw", "--count", "2")
	hdr := startCmd(t, "sub", "-s", url, "q.>", "--headers-only", "--count", "2")
	waitFor(t, raw, "Subscribing on q.> in queue group workers")
	waitFor(t, hdr, "Subscribing on q.>")

	if code, _, stderr := runCmd(t, "pub", "-s", url, "q.a", "body{{Count}}", "--count", "2", "-H", "k:v", "--quiet"); code != 0 || stderr != "" {
		t.Fatalf("pub exit %d, stderr %q", code, stderr)
	}
	if raw.wait(t) != 0 || hdr.wait(t) != 0 {
		t.Fatalf("sub failed: %s / %s", raw.stderr, hdr.stderr)
	}
	if got := raw.stdout.String(); got != "body1\nbody2\n" {
		t.Errorf("raw printed %q", got)
	}
	want := "[#1] Received on \"q.a\"\nk: v\n\n[#2] Received on \"q.a\"\nk: v\n\n"
	if got := hdr.stdout.String(); got != want {
		t.Errorf("headers-only printed %q, want %q", got, want)
	}
}

func TestPubBodyFromStdin(t *testing.T) {
	url := startServer(t)
	sub := startCmd(t, "sub", "-s", url, "in", "--raw", "--count", "1")
	waitFor(t, sub, "Subscribing on in")

	body := "line one\nline two"
	e, _, stderr := testEnv(&body)
	if code := runEnv(t, e, "pub", "-s", url, "in"); code != 0 {
		t.Fatalf("pub exit %d: %s", code, stderr)
	}
	if sub.wait(t) != 0 {
		t.Fatalf("sub failed: %s", sub.stderr)
	}
	if got := sub.stdout.String(); got != body+"\n" {
		t.Errorf("sub got %q", got)
	}
}

func TestSubStopsCleanlyOnCancel(t *testing.T) {
	url := startServer(t)
	sub := startCmd(t, "sub", "-s", url, "forever")
	waitFor(t, sub, "Subscribing on forever")
	sub.cancel()
	if code := sub.wait(t); code != 0 {
		t.Errorf("sub exit %d after cancel, want 0; stderr %q", code, sub.stderr)
	}
}
