package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The official JavaScript and C clients against a three-server cluster,
// of nats-server (the reference) and of Starling, through the same steps:
// interop/js/cluster.mjs and interop/c/cluster.c. Each program is given
// the three client URLs, connects its failover client to the first only,
// and prints "stop HOST:PORT" when it wants the server it is connected to
// stopped; the test stops that node and answers "stopped" on its stdin.

// interopClusterWait bounds one scenario run: a cluster's meta group and
// two streams elect, one server stops and the others take over.
const interopClusterWait = 4 * time.Minute

// TestInteropClusterJavaScript runs interop/js/cluster.mjs against each
// kind of cluster. It needs node and the packages (npm ci in interop/js);
// without them it skips, unless STARLING_REQUIRE_INTEROP=1.
func TestInteropClusterJavaScript(t *testing.T) {
	node, dir := interopNode(t)
	for _, target := range jsClusterTargets() {
		t.Run(target.name, func(t *testing.T) {
			c := startJSCluster(t, target)
			runClusterScenario(t, c, dir, node, "cluster.mjs")
		})
	}
}

// TestInteropClusterC builds interop/c/cluster.c against the official C
// client (libnats-dev) and runs it against each kind of cluster. Without
// a C compiler or the library it skips, unless STARLING_REQUIRE_INTEROP=1.
func TestInteropClusterC(t *testing.T) {
	bin := buildInteropC(t, "cluster")
	for _, target := range jsClusterTargets() {
		t.Run(target.name, func(t *testing.T) {
			c := startJSCluster(t, target)
			runClusterScenario(t, c, "", bin)
		})
	}
}

// runClusterScenario runs the program (args after it: the nodes' client
// URLs) in dir, logs its output, stops the node it names and fails with
// its stderr when it exits non-zero.
func runClusterScenario(t *testing.T, c *jsCluster, dir, prog string, args ...string) {
	t.Helper()
	for _, n := range c.nodes {
		args = append(args, n.clientURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), interopClusterWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		t.Log(line)
		if addr, ok := strings.CutPrefix(line, "stop "); ok {
			i := c.nodeAt(t, addr)
			c.stop(t, i)
			fmt.Fprintln(stdin, "stopped")
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(prog), err, strings.Join(lines, "\n"), stderr.String())
	}
	if len(lines) == 0 || !strings.HasSuffix(lines[len(lines)-1], "cluster ok") {
		t.Fatalf("%s ended without \"cluster ok\"", filepath.Base(prog))
	}
}

// nodeAt is the index of the node whose client address is addr
// (host:port, as a client reports the server it is connected to).
func (c *jsCluster) nodeAt(t testing.TB, addr string) int {
	t.Helper()
	for i, n := range c.nodes {
		if u, err := url.Parse(n.clientURL); err == nil && u.Host == addr {
			return i
		}
	}
	t.Fatalf("no node listens for clients at %q", addr)
	return -1
}
