package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestJetStreamClusterRestore: a backup taken from a stream of three
// replicas in a cluster is restored in the cluster, through the meta
// leader, as three replicas again, with its messages and consumers as
// they were; restored with one replica it is a stream of one server.
// A memory stream and a name in use are refused.
func TestJetStreamClusterRestore(t *testing.T) {
	c := startJSCluster(t, jsClusterTargets()[2]) // starling
	nc, js := c.conns[0], c.js[0]
	retry(t, "JetStream ready", func(ctx context.Context) error {
		_, err := js.AccountInfo(ctx)
		return err
	})
	fillBackupStream(t, js, "BK", jetstream.FileStorage, false)
	retry(t, "BK grown to three replicas", func(ctx context.Context) error {
		s, err := js.Stream(ctx, "BK")
		if err != nil {
			return err
		}
		cfg := s.CachedInfo().Config
		cfg.Replicas = 3
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			return err
		}
		return currentReplicas(ctx, js, "BK", 2)
	})
	before := dumpStream(t, nc, js, "BK")
	b, err := takeBackup(t, nc, "BK", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restoreBackup(t, nc, "BK", b, 4096); err == nil || apiErrCode(err) != 10130 {
		t.Fatalf("restore over an existing stream: %v, want 10130", err)
	}
	for _, replicas := range []int{3, 1} {
		t.Run(fmt.Sprintf("R%d", replicas), func(t *testing.T) {
			if err := js.DeleteStream(ctx(t), "BK"); err != nil {
				t.Fatal(err)
			}
			var cfg map[string]any
			if err := json.Unmarshal(b.Config, &cfg); err != nil {
				t.Fatal(err)
			}
			cfg["num_replicas"] = replicas
			nb := *b
			nb.Config, _ = json.Marshal(cfg)
			info, err := restoreBackup(t, nc, "BK", &nb, 4096)
			if err != nil {
				t.Fatal(err)
			}
			if info.Config.Replicas != replicas || info.State.Msgs != before.State.Msgs {
				t.Fatalf("restored: replicas %d, %d messages; want %d, %d", info.Config.Replicas, info.State.Msgs, replicas, before.State.Msgs)
			}
			retry(t, "replicas current", func(ctx context.Context) error {
				return currentReplicas(ctx, js, "BK", replicas-1)
			})
			compareDumps(t, before, dumpStream(t, nc, js, "BK"))
		})
	}
	t.Run("natscli", func(t *testing.T) {
		cli := newNatsCLI(t, nc.ConnectedUrl())
		dir := t.TempDir() + "/bk"
		cli.run("stream", "backup", "BK", dir, "--no-progress")
		cli.run("stream", "rm", "-f", "BK")
		out := cli.run("stream", "restore", dir, "--no-progress", "--replicas", "3")
		if !strings.Contains(out, "Replicas: 3") {
			t.Fatalf("natscli restore:\n%s", out)
		}
		retry(t, "replicas current", func(ctx context.Context) error { return currentReplicas(ctx, js, "BK", 2) })
		compareDumps(t, before, dumpStream(t, nc, js, "BK"))
	})
	mem := *b
	var cfg map[string]any
	_ = json.Unmarshal(b.Config, &cfg)
	cfg["name"], cfg["storage"], cfg["subjects"] = "MEM", "memory", []string{"mem.>"}
	mem.Config, _ = json.Marshal(cfg)
	if _, err := restoreBackup(t, nc, "MEM", &mem, 4096); err == nil {
		t.Fatal("a memory stream restored in a cluster")
	}
}

// currentReplicas checks that a stream has a leader (and says since when,
// for a replicated stream, as nats-server does) and want other replicas,
// every one current.
func currentReplicas(ctx context.Context, js jetstream.JetStream, name string, want int) error {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return err
	}
	cl := s.CachedInfo().Cluster
	if cl == nil || cl.Leader == "" || len(cl.Replicas) != want || (want > 0 && cl.LeaderSince == nil) {
		return fmt.Errorf("cluster %+v", cl)
	}
	for _, r := range cl.Replicas {
		if !r.Current {
			return fmt.Errorf("replica %+v not current", *r)
		}
	}
	return nil
}

// apiErrCode is the JetStream error code of a restore's error, 0 if none.
func apiErrCode(err error) int {
	var e *apiErr
	if errors.As(err, &e) {
		return e.ErrCode
	}
	return 0
}
