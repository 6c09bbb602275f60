package jscluster

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/vfs"
)

// TestGroupRestartsFromLog: three servers run a group on their durable
// logs; after every server stops and starts again (new ports, the same
// directories), the group restarts from the logs, the state machines
// replay every committed entry, and the group goes on committing.
func TestGroupRestartsFromLog(t *testing.T) {
	base := t.TempDir()
	names := []string{"d1", "d2", "d3"}
	const group = 3
	run := func(proposals, wantBefore int) int {
		var logs []*raftlog.Log
		nodes, peers := startNodesWith(t, func(i int) raftnode.Storage {
			l, err := raftlog.Open(vfs.Default, filepath.Join(base, names[i]), raftlog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			logs = append(logs, l)
			return &LogStorage{Log: l}
		}, names...)
		sms := make([]*counter, len(nodes))
		for i, n := range nodes {
			sms[i] = &counter{}
			if err := n.Host.AddGroup(context.Background(), group, peers, sms[i]); err != nil {
				t.Fatal(err)
			}
		}
		leader := leaderOf(t, nodes, group)
		waitUntil(t, "the members to replay the log", func() bool {
			for _, sm := range sms {
				if sum, _ := sm.value(); sum != wantBefore {
					return false
				}
			}
			return true
		})
		sum := wantBefore
		for i := 1; i <= proposals; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			p, err := leader.Host.Propose(ctx, group, []byte(strconv.Itoa(i)))
			if err == nil {
				_, err = p.Wait(ctx)
			}
			cancel()
			if err != nil {
				t.Fatalf("proposal %d: %v", i, err)
			}
			sum += i
		}
		for _, n := range nodes {
			if err := n.Close(); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range logs {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		return sum
	}
	sum := run(10, 0)
	if sum != 55 {
		t.Fatalf("first run summed %d", sum)
	}
	if got := run(1, 55); got != 56 {
		t.Fatalf("after the restart: %d, want 56", got)
	}
}
