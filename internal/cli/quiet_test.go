package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestQuietMeansTheSameEverywhere: every command that connects takes -q
// with one meaning, no status lines on stderr, results kept.
func TestQuietMeansTheSameEverywhere(t *testing.T) {
	for _, name := range Names() {
		if name == "passwd" || name == "nkey" || name == "context" {
			continue // they print only results
		}
		_, stdout, _ := runCmd(t, name, append(groupAction[name], "--help")...)
		if !strings.Contains(stdout, "-q, --quiet") || !strings.Contains(stdout, "print only results and errors, no status lines") {
			t.Errorf("%s --help has no common -q:\n%s", name, stdout)
		}
	}
	// reply's -q is quiet too, not the queue group (the nats CLI's reply
	// uses -q for --queue; one meaning everywhere matters more here).
	e, _, _ := testEnv(nil)
	o, err := parseReply(e, []string{"svc", "-q"})
	if err != nil || o.queue != defaultReplyQueue || !e.quiet {
		t.Errorf("reply -q: queue %q, quiet %v, %v", o.queue, e.quiet, err)
	}

	url := startJetStream(t)
	quiet := func(name string, args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, name, append(args, "-s", url, "-q")...)
		if code != 0 || errOut != "" {
			t.Errorf("%s %q -q: exit %d, stderr %q", name, args, code, errOut)
		}
		return out
	}
	quiet("pub", "q.subject", "body", "--count", "3")
	if out := quiet("bench", "q.bench", "--msgs", "100", "--sub", "1"); strings.Contains(out, "Starting") || !strings.Contains(out, "stats:") {
		t.Errorf("bench -q printed:\n%s", out)
	}
	cliStep(t, url, 0, "stream", "add", "QS", "--subjects", "qs.>")
	if _, errOut := cliStep(t, url, 0, "stream", "view", "QS"); !strings.Contains(errOut, "no messages") {
		t.Errorf("view without -q: %q", errOut)
	}
	quiet("stream", "view", "QS")
	cliStep(t, url, 0, "kv", "add", "QB")
	quiet("kv", "ls", "QB")
	body := "x"
	pe, _, perr := testEnv(&body)
	if code := runEnv(t, pe, "object", "put", "QO", "o", "-", "-s", url); code != 0 {
		t.Fatalf("object put: %s", perr)
	}
	quiet("object", "get", "QO", "o", filepath.Join(t.TempDir(), "o"))
	responder := startCmd(t, "reply", "q.svc", "pong", "-s", url)
	waitFor(t, responder, "Listening on")
	if out := quiet("req", "q.svc", "ping"); !strings.HasSuffix(out, "\npong\n\n") {
		t.Errorf("req -q printed %q", out)
	}
}
