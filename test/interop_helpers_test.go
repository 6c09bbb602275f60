package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The interop tests run the official JavaScript and C clients. Without
// their tools they skip, unless STARLING_REQUIRE_INTEROP=1 (as in CI).

func interopMissing(t *testing.T, fatal, skip string) {
	t.Helper()
	if os.Getenv("STARLING_REQUIRE_INTEROP") == "1" {
		t.Fatal(fatal)
	}
	t.Skip(skip)
}

// interopNode returns node and interop/js, with the npm packages in place.
func interopNode(t *testing.T) (node, dir string) {
	t.Helper()
	dir, _ = filepath.Abs("../interop/js")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "@nats-io", "transport-node"))
	if err != nil || modErr != nil {
		interopMissing(t, "node or the npm packages are missing (node: "+errText(err)+", packages: "+errText(modErr)+"); run npm ci in interop/js",
			"node or interop/js/node_modules missing; run npm ci in interop/js")
	}
	return node, dir
}

// buildInteropC compiles interop/c/<name>.c against libnats and returns
// the program.
func buildInteropC(t *testing.T, name string) string {
	t.Helper()
	src, _ := filepath.Abs("../interop/c/" + name + ".c")
	cc, err := exec.LookPath("cc")
	_, hdrErr := os.Stat("/usr/include/nats/nats.h")
	if err != nil || hdrErr != nil {
		interopMissing(t, "a C compiler or libnats-dev is missing (cc: "+errText(err)+", nats.h: "+errText(hdrErr)+")",
			"cc or libnats-dev missing (apt-get install libnats-dev)")
	}
	bin := filepath.Join(t.TempDir(), name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cc, "-Wall", "-o", bin, src, "-lnats").CombinedOutput(); err != nil {
		t.Fatalf("build %s.c: %v\n%s", name, err, out)
	}
	return bin
}

func errText(err error) string {
	if err == nil {
		return "found"
	}
	return err.Error()
}
