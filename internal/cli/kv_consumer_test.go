package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKVCommands(t *testing.T) {
	url := startJetStream(t)
	cliStep(t, url, 0, "kv", "add", "cfg", "--history", "3")
	out, _ := cliStep(t, url, 0, "kv", "put", "cfg", "color", "blue")
	if !strings.Contains(out, "color revision 1") {
		t.Fatalf("put: %s", out)
	}
	cliStep(t, url, 0, "kv", "put", "cfg", "color", "green")
	cliStep(t, url, 0, "kv", "put", "cfg", "size", "L")
	if out, _ := cliStep(t, url, 0, "kv", "get", "cfg", "color"); out != "green\n" {
		t.Fatalf("get: %q", out)
	}
	if out, _ := cliStep(t, url, 0, "kv", "get", "cfg", "color", "--revision", "1"); out != "blue\n" {
		t.Fatalf("get revision: %q", out)
	}
	if out, _ := cliStep(t, url, 0, "kv", "ls", "cfg"); out != "color\nsize\n" {
		t.Fatalf("ls keys: %q", out)
	}
	if out, _ := cliStep(t, url, 0, "kv", "ls"); !strings.Contains(out, "cfg") || !strings.Contains(out, "BUCKET") {
		t.Fatalf("ls buckets: %q", out)
	}
	out, _ = cliStep(t, url, 0, "kv", "history", "cfg", "color")
	if strings.Count(out, "PUT") != 2 || !strings.Contains(out, "blue") {
		t.Fatalf("history: %q", out)
	}
	out, _ = cliStep(t, url, 0, "kv", "watch", "cfg", "--count", "2")
	if !strings.Contains(out, "PUT color green") || !strings.Contains(out, "PUT size L") {
		t.Fatalf("watch: %q", out)
	}
	cliStep(t, url, 0, "kv", "del", "cfg", "size")
	if _, errOut := cliStep(t, url, 1, "kv", "get", "cfg", "size"); !strings.Contains(errOut, "key size not found") {
		t.Fatalf("get deleted: %s", errOut)
	}
	if _, errOut := cliStep(t, url, 1, "kv", "rm", "cfg"); !strings.Contains(errOut, "--force") {
		t.Fatalf("rm without force: %s", errOut)
	}
	cliStep(t, url, 0, "kv", "rm", "cfg", "--force")
	if _, errOut := cliStep(t, url, 1, "kv", "get", "cfg", "color"); !strings.Contains(errOut, "bucket cfg not found") {
		t.Fatalf("get after rm: %s", errOut)
	}
}

func TestObjectCommands(t *testing.T) {
	url := startJetStream(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "data.bin")
	data := strings.Repeat("starling ", 50_000) // ~450 KB: several chunks
	if err := os.WriteFile(src, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := cliStep(t, url, 0, "object", "put", "files", src)
	if !strings.Contains(out, "Stored data.bin") {
		t.Fatalf("put: %s", out)
	}
	dst := filepath.Join(dir, "copy.bin")
	cliStep(t, url, 0, "object", "get", "files", "data.bin", "-o", dst)
	if got, err := os.ReadFile(dst); err != nil || string(got) != data {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
	if out, _ := cliStep(t, url, 0, "object", "ls", "files"); !strings.Contains(out, "data.bin") {
		t.Fatalf("ls: %s", out)
	}
	cliStep(t, url, 0, "object", "rm", "files", "data.bin")
	if _, errOut := cliStep(t, url, 1, "object", "get", "files", "data.bin"); !strings.Contains(errOut, "object data.bin not found") {
		t.Fatalf("get after rm: %s", errOut)
	}
}
