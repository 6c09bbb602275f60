package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
