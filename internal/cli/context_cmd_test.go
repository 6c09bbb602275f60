package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/starling-mq/starling/server"
)

// ctxRun runs a command with XDG_CONFIG_HOME at dir (plus vars) and
// returns its exit code and output.
func ctxRun(t *testing.T, dir string, vars map[string]string, name string, args ...string) (int, string, string) {
	t.Helper()
	all := map[string]string{"XDG_CONFIG_HOME": dir, "HOME": dir}
	for k, v := range vars {
		all[k] = v
	}
	e, out, errOut := envWith(all)
	code := runEnv(t, e, name, args...)
	return code, out.String(), errOut.String()
}

func mustRun(t *testing.T, dir string, vars map[string]string, name string, args ...string) string {
	t.Helper()
	code, out, errOut := ctxRun(t, dir, vars, name, args...)
	if code != 0 {
		t.Fatalf("%s %v: exit %d: %s", name, args, code, errOut)
	}
	return out
}

func TestContextCommands(t *testing.T) {
	dir := t.TempDir()
	url, ca, cert, key, _, _ := tlsServer(t, true)

	out := mustRun(t, dir, nil, "context", "add", "secure", "-s", url, "--tlsca", ca, "--tlscert", cert, "--tlskey", key,
		"--description", "mutual TLS", "--select")
	for _, want := range []string{"Context secure (selected)", "Description:", "mutual TLS", "CA:", ca + " (OK)", "Certificate:", "Path:"} {
		if !strings.Contains(out, want) {
			t.Errorf("add printed %q, want %q", out, want)
		}
	}
	// The selected context applies to every command: no flags needed.
	e, _, _ := envWith(map[string]string{"XDG_CONFIG_HOME": dir})
	sub := startCmdEnv(t, e, "sub", "ctx.subject", "--count", "1", "--raw")
	waitFor(t, sub, "Subscribing on ctx.subject")
	mustRun(t, dir, nil, "pub", "ctx.subject", "via context")
	if sub.wait(t) != 0 || sub.stdout.String() != "via context\n" {
		t.Fatalf("sub: %q %q", sub.stdout, sub.stderr)
	}

	plain := startServer(t)
	mustRun(t, dir, nil, "context", "add", "plain", "-s", plain, "--description", "no TLS")
	// --context picks another; NATS_CONTEXT too; a flag beats both.
	mustRun(t, dir, nil, "pub", "x", "y", "--context", "plain")
	mustRun(t, dir, map[string]string{"NATS_CONTEXT": "plain"}, "pub", "x", "y")
	mustRun(t, dir, nil, "pub", "x", "y", "--no-context", "-s", plain)
	mustRun(t, dir, nil, "pub", "x", "y", "-s", plain, "--context", "plain")
	// NATS_URL overrides the selected context's URL, but the context's TLS
	// settings still apply: the plain server cannot do TLS.
	code, _, stderr := ctxRun(t, dir, map[string]string{"NATS_URL": plain}, "pub", "x", "y")
	if code != 1 || !strings.Contains(stderr, "does not offer it") || !strings.Contains(stderr, "[context secure]") {
		t.Errorf("NATS_URL over a TLS context: exit %d, %q", code, stderr)
	}

	out = mustRun(t, dir, nil, "context", "ls")
	if out != "NAME     DESCRIPTION\nplain    no TLS\nsecure*  mutual TLS\n" {
		t.Errorf("ls:\n%s", out)
	}
	if out = mustRun(t, dir, nil, "context", "ls", "--names"); out != "plain\nsecure\n" {
		t.Errorf("ls --names: %q", out)
	}

	// Changing a context keeps what is not given; credentials replace the
	// recorded ones whole.
	mustRun(t, dir, nil, "context", "add", "plain", "--user", "bob", "--password", "pw")
	mustRun(t, dir, nil, "context", "add", "plain", "--token", "tok")
	var saved map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "nats", "context", "plain.json"))
	if err != nil || json.Unmarshal(data, &saved) != nil {
		t.Fatalf("read plain.json: %v", err)
	}
	if saved["url"] != plain || saved["description"] != "no TLS" || saved["token"] != "tok" || saved["user"] != "" || saved["password"] != "" {
		t.Errorf("plain.json = %v", saved)
	}
	out = mustRun(t, dir, nil, "context", "show", "plain")
	if !strings.Contains(out, "Token:") || strings.Contains(out, "tok\n") || !strings.Contains(out, "********") {
		t.Errorf("show does not mask the token:\n%s", out)
	}
	if out = mustRun(t, dir, nil, "context", "show", "plain", "--json"); !strings.Contains(out, `"token": "tok"`) {
		t.Errorf("show --json:\n%s", out)
	}
	out = mustRun(t, dir, nil, "context", "show", "--connect")
	if !strings.Contains(out, "Context secure (selected)") || !strings.Contains(out, "Connected to "+url) {
		t.Errorf("show --connect:\n%s", out)
	}

	// Refusals.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "bad", "--creds", "c.creds", "--nkey", "n.nk"}, "more than one way to authenticate"},
		{[]string{"add", "bad", "--tlsca", filepath.Join(dir, "missing.pem")}, "file missing"},
		{[]string{"add", "../escape"}, "must not contain"},
		{[]string{"add", "plain", "--context", "secure"}, "copies only into a new context"},
		{[]string{"select", "nothing"}, "context not found: nothing"},
		{[]string{"rm", "plain"}, "add --force"},
		{[]string{"show", "nothing"}, "context not found"},
		{[]string{"show", "plain", "--timeout", "1s"}, "--timeout is for --connect"},
		{[]string{"show", "plain", "--json", "--connect"}, "cannot be combined"},
	} {
		code, _, stderr := ctxRun(t, dir, nil, "context", tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("context %v: exit %d, %q; want %q", tc.args, code, stderr, tc.want)
		}
	}
	// A copy starts from the source.
	mustRun(t, dir, nil, "context", "add", "copy", "--context", "secure", "--description", "a copy")
	if out = mustRun(t, dir, nil, "context", "show", "copy"); !strings.Contains(out, url) || !strings.Contains(out, "a copy") {
		t.Errorf("copy:\n%s", out)
	}

	mustRun(t, dir, nil, "context", "select", "plain")
	if out = mustRun(t, dir, nil, "context", "ls"); !strings.Contains(out, "plain*") {
		t.Errorf("after select:\n%s", out)
	}
	if out = mustRun(t, dir, nil, "context", "rm", "plain", "--force"); out != "Deleted context plain\n" {
		t.Errorf("rm: %q", out)
	}
	// Removing the selected context unselects it, so commands go back to
	// the defaults instead of failing on a missing context.
	if _, err := os.Stat(filepath.Join(dir, "nats", "context.txt")); !os.IsNotExist(err) {
		t.Errorf("context.txt still there: %v", err)
	}
	if out = mustRun(t, dir, nil, "context", "unselect"); out != "No context was selected\n" {
		t.Errorf("unselect: %q", out)
	}
	// A bad file named by the context says which context it came from.
	mustRun(t, dir, nil, "context", "add", "broken", "--creds", filepath.Join(dir, "nope.creds"))
	code, _, stderr = ctxRun(t, dir, nil, "pub", "x", "y", "--context", "broken")
	if code != 1 || !strings.Contains(stderr, "nope.creds: no such file") || !strings.HasSuffix(stderr, "[context broken]\n") {
		t.Errorf("context with a missing creds file: %d %q", code, stderr)
	}
	// A selected context that is gone is an error that says what to do.
	if err := os.WriteFile(filepath.Join(dir, "nats", "context.txt"), []byte("gone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = ctxRun(t, dir, nil, "pub", "x", "y")
	if code != 1 || !strings.Contains(stderr, "context not found: gone") || !strings.Contains(stderr, "--no-context") {
		t.Errorf("missing selected context: %d %q", code, stderr)
	}
}

func TestContextEnvOverrideWarning(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, nil, "context", "add", "c", "-s", "nats://h:1")
	code, _, stderr := ctxRun(t, dir, map[string]string{"NATS_URL": "nats://other:1"}, "context", "show", "c")
	if code != 0 || !strings.Contains(stderr, "NATS_URL set in the environment") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// natsCLI finds the nats CLI for the interoperability test.
func natsCLI(t *testing.T) string {
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
	t.Skip("the nats CLI is not installed")
	return ""
}

// Contexts made by either tool work in the other.
func TestContextSharedWithNatsCLI(t *testing.T) {
	bin := natsCLI(t)
	dir := t.TempDir()
	url := startServerOpts(t, &server.Options{Host: "127.0.0.1", Port: server.RandomPort, Username: "alice", Password: "s3cret"})
	natsEnv := append(os.Environ(), "XDG_CONFIG_HOME="+dir, "HOME="+dir)
	nats := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = natsEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nats %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	// Made by the nats CLI, used by starling.
	nats("context", "add", "fromnats", "--server", url, "--user", "alice", "--password", "s3cret", "--description", "by nats", "--select")
	if out := mustRun(t, dir, nil, "context", "ls"); !strings.Contains(out, "fromnats*  by nats") {
		t.Errorf("starling context ls:\n%s", out)
	}
	mustRun(t, dir, nil, "pub", "x", "y")

	// Made and selected by starling, used by the nats CLI.
	mustRun(t, dir, nil, "context", "add", "fromstarling", "-s", url, "--user", "alice", "--password", "s3cret", "--select")
	if out := nats("context", "info", "--json"); !strings.Contains(out, `"name": "fromstarling"`) || !strings.Contains(out, `"user": "alice"`) {
		t.Errorf("nats context info:\n%s", out)
	}
	nats("pub", "x", "y")
	nats("context", "select", "fromnats")
	if sel := mustRun(t, dir, nil, "context", "show"); !strings.Contains(sel, "Context fromnats (selected)") {
		t.Errorf("after nats context select:\n%s", sel)
	}
}
