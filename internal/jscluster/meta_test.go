package jscluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

// recorder is a Hosting that keeps what it was told.
type recorder struct {
	mu      sync.Mutex
	changes []jsmeta.Change
}

func (r *recorder) Changed(ch jsmeta.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, ch)
	r.mu.Unlock()
}

func (r *recorder) Restored(*jsmeta.State) {}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes)
}

// TestMetaGroup: an assignment proposed on the meta leader reaches every
// server's state and hosting, in order; a member that is not the leader
// refuses to propose and names the leader; an operation every member
// refuses comes back as that error.
func TestMetaGroup(t *testing.T) {
	nodes, peers := startNodes(t, "m1", "m2", "m3")
	metas := make([]*Meta, len(nodes))
	recs := make([]*recorder, len(nodes))
	for i, n := range nodes {
		recs[i] = &recorder{}
		m, err := n.StartMeta(context.Background(), peers, recs[i])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		metas[i] = m
	}
	leader := leaderOf(t, nodes, MetaGroup)
	var lm, follower *Meta
	for i, n := range nodes {
		if n == leader {
			lm = metas[i]
		} else {
			follower = metas[i]
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sa := &jsmeta.Stream{Account: "A", Config: jsapi.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3},
		Group: jsmeta.Group{Name: "S-R3F-test", Peers: []string{"m1", "m2", "m3"}, Storage: "file"}}
	ch, err := lm.Propose(ctx, jsmeta.Op{Kind: jsmeta.AddStream, Stream: sa})
	if err != nil || ch.Kind != jsmeta.AddStream || ch.Stream.Config.Name != "ORDERS" {
		t.Fatalf("add: %+v %v", ch, err)
	}
	if _, err := lm.Propose(ctx, jsmeta.Op{Kind: jsmeta.AddStream, Stream: sa}); !errors.Is(err, jsmeta.ErrStreamExists) {
		t.Fatalf("the same add again: %v", err)
	}
	var nl *raftnode.NotLeaderError
	if _, err := follower.Propose(ctx, jsmeta.Op{Kind: jsmeta.RemoveStream, Stream: sa}); !errors.As(err, &nl) || nl.Leader != leader.ID {
		t.Fatalf("a follower's proposal: %v", err)
	}
	waitUntil(t, "every member to host the stream", func() bool {
		for i := range metas {
			found := false
			metas[i].Read(func(st *jsmeta.State) { found = st.Stream("A", "ORDERS") != nil })
			if !found || recs[i].count() != 1 {
				return false
			}
		}
		return true
	})
}
