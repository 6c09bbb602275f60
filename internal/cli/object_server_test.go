package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestObjectLifecycle(t *testing.T) {
	url := startJetStream(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "data.bin")
	data := strings.Repeat("starling ", 50_000) // ~450 KB: several chunks
	if err := os.WriteFile(src, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _ := cliStep(t, url, 0, "object", "ls"); out != "No buckets defined\n" {
		t.Fatalf("ls without buckets: %q", out)
	}
	if _, errOut := cliStep(t, url, 1, "object", "put", "files", src, "--no-create"); errOut != "starling object: bucket files not found\n" {
		t.Fatalf("put --no-create: %q", errOut)
	}
	out, _ := cliStep(t, url, 0, "object", "put", "files", src)
	if !strings.HasPrefix(out, "Stored data.bin in bucket files: 439.45 KiB in 4 chunks, SHA-256=") {
		t.Fatalf("put: %q", out)
	}
	cliStep(t, url, 0, "object", "put", "files", "copy", src, "--description", "second")
	body := "from stdin\n"
	e, sout, serr := testEnv(&body)
	if code := runEnv(t, e, "object", "put", "files", "note.txt", "-", "--no-create", "-s", url); code != 0 {
		t.Fatalf("put stdin: %q", serr)
	}
	if !strings.HasPrefix(sout.String(), "Stored note.txt in bucket files: 11 B in 1 chunk") {
		t.Fatalf("put stdin: %q", sout)
	}
	dst := filepath.Join(dir, "out.bin")
	if _, errOut := cliStep(t, url, 0, "object", "get", "files", "data.bin", dst); errOut != "Wrote data.bin (439.45 KiB) to "+dst+"\n" {
		t.Fatalf("get to file: %q", errOut)
	}
	if got, err := os.ReadFile(dst); err != nil || string(got) != data {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	if out, _ = cliStep(t, url, 0, "object", "get", "files", "note.txt"); out != body {
		t.Fatalf("get to stdout: %q", out)
	}
	// With no bucket, ls lists the buckets, as the nats CLI does.
	if out, _ = cliStep(t, url, 0, "object", "ls"); !strings.HasPrefix(out, "BUCKET  SIZE") || !strings.Contains(out, "\nfiles   ") ||
		!strings.Contains(out, " KiB  unlimited  file\n") {
		t.Fatalf("ls buckets:\n%s", out)
	}
	out, _ = cliStep(t, url, 0, "object", "ls", "files")
	lines := strings.Split(out, "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "copy      439.45 KiB  ") ||
		!strings.HasPrefix(lines[2], "data.bin  439.45 KiB") || !strings.HasPrefix(lines[3], "note.txt  11 B") {
		t.Fatalf("ls:\n%s", out)
	}
	out, _ = cliStep(t, url, 0, "object", "info", "files", "copy")
	for _, w := range []string{"Object copy in bucket files", "Description:  second", "(450,000 bytes)", "Chunks:       4", "SHA-256="} {
		if !strings.Contains(out, w) {
			t.Fatalf("info lacks %q:\n%s", w, out)
		}
	}
	out, _ = cliStep(t, url, 0, "object", "info", "files", "note.txt", "--json")
	var oi jetstream.ObjectInfo
	if err := json.Unmarshal([]byte(out), &oi); err != nil || oi.Name != "note.txt" || oi.Size != 11 || oi.Bucket != "files" {
		t.Fatalf("info --json (%v):\n%s", err, out)
	}
	if out, _ = cliStep(t, url, 0, "object", "rm", "files", "data.bin"); out != "Deleted data.bin from bucket files\n" {
		t.Fatalf("rm: %q", out)
	}
	for _, args := range [][]string{{"get", "files", "data.bin"}, {"info", "files", "data.bin"}, {"rm", "files", "data.bin"}} {
		if _, errOut := cliStep(t, url, 1, "object", args...); errOut != "starling object: object data.bin not found in bucket files\n" {
			t.Errorf("%q after rm: %q", args, errOut)
		}
	}
	// A failed get leaves no file behind.
	missing := filepath.Join(dir, "missing.bin")
	cliStep(t, url, 1, "object", "get", "files", "data.bin", missing)
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("failed get left %s: %v", missing, err)
	}
	for _, args := range [][]string{{"ls", "nope"}, {"get", "nope", "x"}, {"info", "nope", "x"}} {
		if _, errOut := cliStep(t, url, 1, "object", args...); errOut != "starling object: bucket nope not found\n" {
			t.Errorf("%q: %q", args, errOut)
		}
	}
	if _, errOut := cliStep(t, url, 1, "object", "put", "files", filepath.Join(dir, "none")); !strings.Contains(errOut, "no such file") {
		t.Errorf("put of a missing file: %q", errOut)
	}
}

func TestObjectEmptyBucket(t *testing.T) {
	url := startJetStream(t)
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cliStep(t, url, 0, "object", "put", "b", empty)
	cliStep(t, url, 0, "object", "rm", "b", "empty")
	if out, _ := cliStep(t, url, 0, "object", "ls", "b"); out != "No objects in bucket b\n" {
		t.Fatalf("ls empty: %q", out)
	}
}

// TestObjectTimeout answers nothing on the JetStream API: every action
// gives up after --timeout with a one-line error.
func TestObjectTimeout(t *testing.T) {
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
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"put", "B", src}, {"get", "B", "f"}, {"ls", "B"}, {"rm", "B", "f"}, {"info", "B", "f"}} {
		start := time.Now()
		code, _, errOut := runCmd(t, "object", append(args, "-s", url, "--timeout", "200ms")...)
		if code != 1 || !strings.HasSuffix(errOut, "no reply from JetStream within 200ms (--timeout)\n") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%q: exit %d: %q", args, code, errOut)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q took %v", args, d)
		}
	}
}
