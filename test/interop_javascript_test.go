package test

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestInteropJavaScript runs interop/js/interop.mjs — the official NATS
// JavaScript clients (@nats-io/transport-node, jetstream, kv) publishing
// with acks, pulling from a durable consumer and using KV — against a
// Starling server. It needs node and the packages (npm ci in interop/js);
// without them it skips, unless STARLING_REQUIRE_INTEROP=1 (as in CI).
func TestInteropJavaScript(t *testing.T) {
	node, dir := interopNode(t)
	s := startJS(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "interop.mjs", s.ClientURL())
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("interop.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
