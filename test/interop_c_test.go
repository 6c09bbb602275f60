package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestInteropC builds interop/c/interop.c against the official C client
// (nats.c, Debian's libnats-dev) and runs it against a Starling server:
// core messaging, headers, request/reply, no responders, a stream with
// acknowledged publishes, a durable pull consumer and Key-Value. Without
// a C compiler or the library it skips, unless STARLING_REQUIRE_INTEROP=1
// (as in CI).
func TestInteropC(t *testing.T) {
	src, _ := filepath.Abs("../interop/c/interop.c")
	cc, err := exec.LookPath("cc")
	_, hdrErr := os.Stat("/usr/include/nats/nats.h")
	if err != nil || hdrErr != nil {
		if os.Getenv("STARLING_REQUIRE_INTEROP") == "1" {
			t.Fatalf("a C compiler or libnats-dev is missing (cc: %v, nats.h: %v)", err, hdrErr)
		}
		t.Skip("cc or libnats-dev missing (apt-get install libnats-dev)")
	}
	bin := filepath.Join(t.TempDir(), "interop")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cc, "-Wall", "-o", bin, src, "-lnats").CombinedOutput(); err != nil {
		t.Fatalf("build interop.c: %v\n%s", err, out)
	}
	s := startJS(t, "")
	out, err := exec.CommandContext(ctx, bin, s.ClientURL()).CombinedOutput()
	if err != nil {
		t.Fatalf("interop.c: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
