package test

import (
	"context"
	"os/exec"
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
	bin := buildInteropC(t, "interop")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := startJS(t, "")
	out, err := exec.CommandContext(ctx, bin, s.ClientURL()).CombinedOutput()
	if err != nil {
		t.Fatalf("interop.c: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
