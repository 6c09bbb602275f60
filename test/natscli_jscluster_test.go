package test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNatsCLIReplicatedStream drives the official nats CLI against three
// Starling servers running clustered JetStream: a stream of three
// replicas created, described with its cluster, stepped down, listed and
// removed, a replicated KV bucket, and a stream of one replica scaled up
// to three and back.
func TestNatsCLIReplicatedStream(t *testing.T) {
	target := jsClusterTargets()[2] // starling
	c := startJSCluster(t, target)
	cli := newNatsCLI(t, c.nodes[0].connect(t).ConnectedUrl())
	retry(t, "JetStream ready", func(ctx context.Context) error {
		_, err := c.js[0].AccountInfo(ctx)
		return err
	})
	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"stream", "add", "ORD", "--subjects", "ord.>", "--replicas", "3", "--defaults"}, []string{"Cluster Information", "Leader:", "Replica:"}},
		{[]string{"pub", "ord.x", "hello", "--count", "5", "-J"}, []string{"Stored in Stream: ORD Sequence: 5"}},
		{[]string{"stream", "info", "ORD"}, []string{"Messages: 5", "Cluster Group: S-R3F-"}},
		{[]string{"stream", "cluster", "step-down", "ORD"}, []string{"New leader elected"}},
		{[]string{"consumer", "add", "ORD", "C", "--pull", "--defaults"}, []string{"Cluster Information", "Leader:"}},
		{[]string{"consumer", "next", "ORD", "C", "--count", "2"}, []string{"Acknowledged message"}},
		{[]string{"stream", "ls"}, []string{"ORD", "5"}},
		{[]string{"kv", "add", "CFG", "--replicas", "3"}, []string{"CFG"}},
		{[]string{"kv", "put", "CFG", "a", "1"}, []string{"1"}},
		{[]string{"kv", "get", "CFG", "a"}, []string{"revision: 1"}},
		{[]string{"stream", "add", "ONE", "--subjects", "one.>", "--replicas", "1", "--defaults"}, []string{"Replicas: 1"}},
		{[]string{"pub", "one.x", "hello", "--count", "3", "-J"}, []string{"Stored in Stream: ONE Sequence: 3"}},
		{[]string{"stream", "edit", "ONE", "--replicas", "3", "-f"}, []string{"Replicas: 3"}},
		{[]string{"stream", "info", "ONE"}, []string{"Messages: 3", "Replica:", "current"}},
		{[]string{"stream", "edit", "ONE", "--replicas", "1", "-f"}, []string{"Replicas: 1"}},
		{[]string{"stream", "rm", "-f", "ORD"}, nil},
	}
	for _, st := range steps {
		var out string
		deadline := time.Now().Add(30 * time.Second)
		for {
			var err error
			out, err = cli.try(st.args...)
			ok := err == nil
			for _, w := range st.want {
				ok = ok && strings.Contains(out, w)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats %s: %v\n%s", strings.Join(st.args, " "), err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if out := cli.run("stream", "ls", "-n"); strings.Contains(out, "ORD") {
		t.Fatalf("ORD still listed:\n%s", out)
	}
}
