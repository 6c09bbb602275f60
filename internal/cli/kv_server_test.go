package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestKVLifecycle(t *testing.T) {
	url := startJetStream(t)
	if out, _ := cliStep(t, url, 0, "kv", "ls"); out != "No buckets defined\n" {
		t.Fatalf("ls no buckets: %q", out)
	}
	out, _ := cliStep(t, url, 0, "kv", "add", "cfg", "--history", "3", "--max-value-size", "1KiB", "--storage", "memory")
	for _, want := range []string{"Key-Value bucket cfg\n\nConfiguration:\n", "  History:         3\n", "  Storage:         memory\n", "  Max value size:  1.00 KiB\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("add lacks %q:\n%s", want, out)
		}
	}
	if _, errOut := cliStep(t, url, 1, "kv", "add", "cfg", "--history", "5"); !strings.HasPrefix(errOut, "starling kv: create bucket cfg: ") {
		t.Fatalf("add again with other settings: %q", errOut)
	}
	if out, _ = cliStep(t, url, 0, "kv", "put", "cfg", "color", "blue"); out != "color revision 1\n" {
		t.Fatalf("put: %q", out)
	}
	cliStep(t, url, 0, "kv", "put", "cfg", "color", "green")
	cliStep(t, url, 0, "kv", "put", "cfg", "size", "L")
	if out, _ = cliStep(t, url, 0, "kv", "get", "cfg", "color"); out != "green\n" {
		t.Fatalf("get: %q", out)
	}
	if out, _ = cliStep(t, url, 0, "kv", "get", "cfg", "color", "--revision", "1"); out != "blue\n" {
		t.Fatalf("get --revision 1: %q", out)
	}
	if out, _ = cliStep(t, url, 0, "kv", "get", "cfg", "size", "--raw"); out != "L" {
		t.Fatalf("get --raw: %q", out)
	}
	if _, errOut := cliStep(t, url, 1, "kv", "get", "cfg", "color", "--revision", "3"); errOut != "starling kv: key color has no revision 3 in bucket cfg\n" {
		t.Fatalf("get another key's revision: %q", errOut)
	}
	if out, _ = cliStep(t, url, 0, "kv", "ls", "cfg"); out != "color\nsize\n" {
		t.Fatalf("ls keys: %q", out)
	}
	out, _ = cliStep(t, url, 0, "kv", "ls")
	if !strings.HasPrefix(out, "BUCKET  VALUES  BYTES") || !strings.Contains(out, "\ncfg     3       ") || !strings.HasSuffix(out, "3        unlimited\n") {
		t.Fatalf("ls buckets:\n%s", out)
	}
	if out, _ = cliStep(t, url, 0, "kv", "del", "cfg", "color"); out != "Deleted color from bucket cfg\n" {
		t.Fatalf("del: %q", out)
	}
	out, _ = cliStep(t, url, 0, "kv", "history", "cfg", "color")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "1         PUT") || !strings.HasSuffix(lines[1], "blue") ||
		!strings.HasPrefix(lines[3], "4         DEL") {
		t.Fatalf("history:\n%s", out)
	}
	if _, errOut := cliStep(t, url, 1, "kv", "get", "cfg", "color"); errOut != "starling kv: key color not found in bucket cfg\n" {
		t.Fatalf("get deleted: %q", errOut)
	}
	if out, _ = cliStep(t, url, 0, "kv", "purge", "cfg", "size", "--force"); out != "Purged size from bucket cfg\n" {
		t.Fatalf("purge: %q", out)
	}
	if out, errOut := cliStep(t, url, 0, "kv", "ls", "cfg"); out != "" || errOut != "bucket cfg has no keys\n" {
		t.Fatalf("ls after del and purge: %q %q", out, errOut)
	}
	if _, errOut := cliStep(t, url, 1, "kv", "history", "cfg", "nokey"); errOut != "starling kv: key nokey not found in bucket cfg\n" {
		t.Fatalf("history of a missing key: %q", errOut)
	}
	if _, errOut := cliStep(t, url, 1, "kv", "put", "cfg", "bad key", "v"); !strings.Contains(errOut, `invalid key "bad key"`) {
		t.Fatalf("invalid key: %q", errOut)
	}
	if _, errOut := cliStep(t, url, 1, "kv", "put", "cfg", "big", strings.Repeat("x", 2000)); strings.Count(errOut, "\n") != 1 {
		t.Fatalf("value above --max-value-size: %q", errOut)
	}
	if out, _ = cliStep(t, url, 0, "kv", "rm", "cfg", "--force"); out != "Deleted bucket cfg\n" {
		t.Fatalf("rm: %q", out)
	}
	for _, args := range [][]string{{"get", "cfg", "color"}, {"ls", "cfg"}, {"put", "cfg", "k", "v"}, {"watch", "cfg"}, {"rm", "cfg", "-f"}} {
		if _, errOut := cliStep(t, url, 1, "kv", args...); errOut != "starling kv: bucket cfg not found\n" {
			t.Errorf("%q after rm: %q", args, errOut)
		}
	}
}

func TestKVPutStdin(t *testing.T) {
	url := startJetStream(t)
	cliStep(t, url, 0, "kv", "add", "docs")
	body := "line one\nline two\n"
	e, out, errOut := testEnv(&body)
	if code := runEnv(t, e, "kv", "put", "docs", "readme", "-s", url); code != 0 || out.String() != "readme revision 1\n" {
		t.Fatalf("put from stdin: exit %d %q %q", code, out, errOut)
	}
	if got, _ := cliStep(t, url, 0, "kv", "get", "docs", "readme", "--raw"); got != body {
		t.Fatalf("get: %q", got)
	}
	// More than the server's largest message is refused before sending.
	big := strings.Repeat("x", 2<<20)
	e, _, errOut = testEnv(&big)
	if code := runEnv(t, e, "kv", "put", "docs", "big", "-s", url); code != 1 ||
		errOut.String() != "starling kv: value from stdin: larger than 1.00 MiB (1,048,576 bytes)\n" {
		t.Fatalf("put too big: exit %d %q", code, errOut)
	}
}

// TestKVWatchFollows watches a bucket in the background: the current
// values come first, then later puts and deletes as they happen.
func TestKVWatchFollows(t *testing.T) {
	url := startJetStream(t)
	cliStep(t, url, 0, "kv", "add", "live", "--history", "5")
	cliStep(t, url, 0, "kv", "put", "live", "a", "1")
	cliStep(t, url, 0, "kv", "put", "live", "a", "2")
	cliStep(t, url, 0, "kv", "put", "live", "b", "x")
	r := startCmd(t, "kv", "watch", "live", "-s", url)
	eventually(t, 5*time.Second, "current values", func() bool { return r.stdout.String() == "[2] PUT a 2\n[3] PUT b x\n" })
	cliStep(t, url, 0, "kv", "put", "live", "c", "new")
	cliStep(t, url, 0, "kv", "del", "live", "a")
	eventually(t, 5*time.Second, "updates", func() bool {
		return strings.HasSuffix(r.stdout.String(), "[3] PUT b x\n[4] PUT c new\n[5] DEL a\n")
	})
	r.cancel()
	if code := r.wait(t); code != 0 {
		t.Fatalf("watch ended with %d: %s", code, r.stderr)
	}
	// A key filter and --count end it on their own.
	if out, _ := cliStep(t, url, 0, "kv", "watch", "live", "c", "--count", "1"); out != "[4] PUT c new\n" {
		t.Fatalf("watch c --count 1: %q", out)
	}
}

// TestKVTimeout answers nothing on the JetStream API: every action gives
// up after --timeout with a one-line error.
func TestKVTimeout(t *testing.T) {
	url := startServer(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("$JS.API.>") // interest, but never a reply
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "B"}, {"put", "B", "k", "v"}, {"get", "B", "k"}, {"ls"}, {"ls", "B"},
		{"watch", "B"}, {"history", "B", "k"}, {"rm", "B", "-f"}} {
		start := time.Now()
		code, _, errOut := runCmd(t, "kv", append(args, "-s", url, "--timeout", "200ms")...)
		if code != 1 || !strings.HasSuffix(errOut, "no reply from JetStream within 200ms (--timeout)\n") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d: %q", args, code, errOut)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q took %v", args, d)
		}
	}
}
