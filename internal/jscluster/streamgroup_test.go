package jscluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/histcheck"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
)

type noAcks struct{}

func (noAcks) Publish(string, string, []byte, []byte) (bool, error) { return true, nil }

// replicatedStream is one stream group over nodes: each member's group
// and stream, and the index of the member that leads.
type replicatedStream struct {
	nodes   []*Node
	groups  []*StreamGroup
	streams []*stream.Stream
	leader  int
}

// startStreamGroup runs a three-replica group of cfg over the named
// servers and waits for its leader; replicated sets stream.Options
// .Replicated, with each member's expiry reports bound to its group.
func startStreamGroup(t *testing.T, group uint64, cfg jsapi.StreamConfig, replicated bool, names ...string) *replicatedStream {
	t.Helper()
	return startStreamGroupHooks(t, group, cfg, replicated, StreamHooks{}, names...)
}

// startStreamGroupHooks is startStreamGroup with hooks for every member.
func startStreamGroupHooks(t *testing.T, group uint64, cfg jsapi.StreamConfig, replicated bool, hooks StreamHooks, names ...string) *replicatedStream {
	t.Helper()
	nodes, peers := startNodes(t, names...)
	rs := &replicatedStream{nodes: nodes, groups: make([]*StreamGroup, len(nodes)), streams: make([]*stream.Stream, len(nodes))}
	for i, n := range nodes {
		exp := &Expiry{}
		opts := stream.Options{Store: store.NewMemory(), Out: noAcks{}}
		if replicated {
			opts.Replicated, opts.Expired = true, exp.Report
		}
		s, err := stream.New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		rs.streams[i] = s
		if rs.groups[i], err = n.JoinStream(context.Background(), group, peers, s, hooks); err != nil {
			t.Fatal(err)
		}
		exp.Bind(rs.groups[i])
	}
	leader := leaderOf(t, nodes, group)
	for i, n := range nodes {
		if n == leader {
			rs.leader = i
		}
	}
	return rs
}

// lead is the leader's group.
func (rs *replicatedStream) lead() *StreamGroup { return rs.groups[rs.leader] }

// contents lists what a replica stores, by sequence, the payload as ID.
func contents(s *stream.Stream) []histcheck.Stored {
	var out []histcheck.Stored
	st := s.Store().State()
	for seq := st.FirstSeq; seq <= st.LastSeq && st.Msgs > 0; seq++ {
		if m, err := s.Store().Load(seq); err == nil {
			out = append(out, histcheck.Stored{Seq: seq, ID: string(m.Data)})
		}
	}
	return out
}

// TestStreamGroupReplicates: a three-replica stream over three servers'
// cluster ports: publishes made concurrently on the leader get distinct
// sequences once committed, a Nats-Msg-Id repeated is answered as a
// duplicate, a follower refuses to publish, and every replica ends with
// the same messages at the same sequences.
func TestStreamGroupReplicates(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxAge: 0, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1, Duplicates: 2 * time.Minute}
	rs := startStreamGroup(t, 100, cfg, false, "r1", "r2", "r3")
	streams, lg, follower := rs.streams, rs.lead(), rs.groups[(rs.leader+1)%3]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const writers, each = 4, 25
	var mu sync.Mutex
	var published []histcheck.Publish
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				ans, err := lg.Publish(ctx, "r3."+id, nil, []byte(id))
				mu.Lock()
				p := histcheck.Publish{ID: id}
				if err == nil && ans.Err == nil {
					p.Acked, p.Seq = true, ans.Seq
				}
				published = append(published, p)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: once\r\n\r\n")
	first, err := lg.Publish(ctx, "r3.dedup", hdr, []byte("once"))
	if err != nil || first.Err != nil || first.Duplicate {
		t.Fatalf("first Msg-Id publish: %+v %v", first, err)
	}
	again, err := lg.Publish(ctx, "r3.dedup", hdr, []byte("once"))
	if err != nil || !again.Duplicate || again.Seq != first.Seq {
		t.Fatalf("repeated Msg-Id: %+v %v (first at %d)", again, err, first.Seq)
	}
	published = append(published, histcheck.Publish{ID: "once", Acked: true, Seq: first.Seq})

	var nl *raftnode.NotLeaderError
	if _, err := follower.Publish(ctx, "r3.x", nil, []byte("x")); !errors.As(err, &nl) {
		t.Fatalf("a follower's publish: %v", err)
	}

	want := writers*each + 1
	waitUntil(t, "every replica to apply everything", func() bool {
		for _, s := range streams {
			if len(contents(s)) != want {
				return false
			}
		}
		return true
	})
	replicas := map[string][]histcheck.Stored{}
	for i, s := range streams {
		replicas[fmt.Sprint(i)] = contents(s)
	}
	if d := histcheck.CheckReplicas(replicas); d != "" {
		t.Fatal(d)
	}
	if r := histcheck.CheckStream(published, replicas["0"]); !r.OK() || r.Acked != want {
		t.Fatalf("%s %v", r, r.Details)
	}
}

// TestStreamGroupLeaderLoss: publishers with Nats-Msg-Id keep publishing,
// retrying on whoever leads, while the leader's node stops half-way:
// every acknowledged message is on both survivors, once, at the
// sequence it was acknowledged with, and nothing unpublished appears.
func TestStreamGroupLeaderLoss(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "L", Subjects: []string{"l.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1, Duplicates: 2 * time.Minute}
	rs := startStreamGroup(t, 101, cfg, false, "l1", "l2", "l3")
	nodes, groups, streams := rs.nodes, rs.groups, rs.streams
	first := nodes[rs.leader]
	stopped := -1
	var stopMu sync.Mutex
	alive := func(i int) bool {
		stopMu.Lock()
		defer stopMu.Unlock()
		return i != stopped
	}
	// publish sends one message, retrying on every live member until one
	// leads and answers, within a bound.
	publish := func(id string) histcheck.Publish {
		hdr := []byte("NATS/1.0\r\nNats-Msg-Id: " + id + "\r\n\r\n")
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			for i, g := range groups {
				if !alive(i) {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				ans, err := g.Publish(ctx, "l."+id, hdr, []byte(id))
				cancel()
				if err == nil && ans.Err == nil {
					return histcheck.Publish{ID: id, Acked: true, Seq: ans.Seq}
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
		return histcheck.Publish{ID: id}
	}
	var published []histcheck.Publish
	for i := range 120 {
		if i == 40 {
			for j, n := range nodes {
				if n == first {
					stopMu.Lock()
					stopped = j
					stopMu.Unlock()
					_ = n.Close()
				}
			}
		}
		published = append(published, publish(fmt.Sprintf("m%03d", i)))
	}
	acked := 0
	for _, p := range published {
		if p.Acked {
			acked++
		}
	}
	if acked < 100 {
		t.Fatalf("only %d of 120 publishes acknowledged", acked)
	}
	replicas := map[string][]histcheck.Stored{}
	waitUntil(t, "the survivors to agree", func() bool {
		for i, s := range streams {
			if alive(i) {
				replicas[fmt.Sprint(i)] = contents(s)
			}
		}
		return histcheck.CheckReplicas(replicas) == ""
	})
	for name, held := range replicas {
		if r := histcheck.CheckStream(published, held); !r.OK() {
			t.Fatalf("replica %s: %s %v", name, r, r.Details)
		}
	}
}

// TestStreamGroupOps: a message delete, a purge and a configuration
// update made through the leader reach every replica, which end with the
// same messages; a refused delete gets a single server's error.
func TestStreamGroupOps(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "O", Subjects: []string{"o.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1, Duplicates: 2 * time.Minute}
	rs := startStreamGroup(t, 102, cfg, true, "o1", "o2", "o3")
	streams, lg := rs.streams, rs.lead()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 1; i <= 10; i++ {
		subj := "o.a"
		if i%2 == 0 {
			subj = "o.b"
		}
		if ans, err := lg.Publish(ctx, subj, nil, []byte(fmt.Sprint(i))); err != nil || ans.Err != nil {
			t.Fatalf("publish %d: %+v %v", i, ans, err)
		}
	}
	if err := lg.Delete(ctx, 3, false); err != nil {
		t.Fatal(err)
	}
	var aerr *jsapi.ApiError
	if err := lg.Delete(ctx, 99, false); !errors.As(err, &aerr) || aerr.ErrCode != uint16(jsapi.ErrSequenceNotFound) {
		t.Fatalf("deleting a sequence past the end: %v", err)
	}
	if n, err := lg.Purge(ctx, store.PurgeRequest{Subject: "o.b"}); err != nil || n != 5 {
		t.Fatalf("purge of o.b: %d %v", n, err)
	}
	smaller := cfg
	smaller.MaxMsgs = 2
	if err := lg.Update(ctx, smaller); err != nil {
		t.Fatal(err)
	}
	// Left: o.a's 1, 5, 7, 9 (3 deleted), cut to the last two by max_msgs.
	want := []histcheck.Stored{{Seq: 7, ID: "7"}, {Seq: 9, ID: "9"}}
	waitUntil(t, "every replica to apply the operations", func() bool {
		for _, s := range streams {
			if fmt.Sprint(contents(s)) != fmt.Sprint(want) {
				return false
			}
		}
		return true
	})
}

// TestStreamGroupExpiry: with max_age, the leader's timer reports what
// is due, the report goes through the log, and every replica removes the
// same messages (their own timers remove nothing).
func TestStreamGroupExpiry(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "E", Subjects: []string{"e.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1,
		MaxAge: 300 * time.Millisecond, Duplicates: 300 * time.Millisecond}
	rs := startStreamGroup(t, 103, cfg, true, "e1", "e2", "e3")
	streams, lg := rs.streams, rs.lead()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 5 {
		if ans, err := lg.Publish(ctx, "e.x", nil, []byte(fmt.Sprint(i))); err != nil || ans.Err != nil {
			t.Fatalf("publish %d: %+v %v", i, ans, err)
		}
	}
	waitUntil(t, "every replica to expire the messages", func() bool {
		for _, s := range streams {
			st := s.Store().State()
			if st.Msgs != 0 || st.LastSeq != 5 {
				return false
			}
		}
		return true
	})
}

// TestStreamGroupPublishChain: a chain's messages get consecutive
// sequences while others publish concurrently (nothing is proposed between
// two links), every replica applies them, and a follower's chain is
// refused whole (only a leader that applied every earlier entry chains).
func TestStreamGroupPublishChain(t *testing.T) {
	cfg := jsapi.StreamConfig{Name: "CH", Subjects: []string{"ch.>"}, Storage: jsapi.MemoryStorage, Replicas: 3,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgsPer: -1, MaxMsgSize: -1, MaxConsumers: -1, Duplicates: 2 * time.Minute}
	rs := startStreamGroup(t, 101, cfg, false, "c1", "c2", "c3")
	lg, follower := rs.lead(), rs.groups[(rs.leader+1)%3]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Chains wait until the leader applied every earlier entry.
	waitUntil(t, "the leader to be ready", lg.sm.ready.Load)

	stop := make(chan struct{})
	var others sync.WaitGroup
	others.Add(1)
	go func() { // plain publishes racing the chains
		defer others.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := lg.Publish(ctx, "ch.other", nil, []byte(fmt.Sprint("o", i))); err != nil {
				return
			}
		}
	}()
	const chains, links = 5, 40
	for c := range chains {
		msgs := make([]ChainMsg, links)
		for i := range msgs {
			msgs[i] = ChainMsg{Subject: "ch.chain", Data: []byte(fmt.Sprint(c, "-", i))}
		}
		res := lg.PublishChain(ctx, msgs)
		for i, r := range res {
			if r.Err != nil || r.Ans == nil || r.Ans.Err != nil {
				t.Fatalf("chain %d link %d: %+v", c, i, r)
			}
			if i > 0 && r.Ans.Seq != res[i-1].Ans.Seq+1 {
				t.Fatalf("chain %d link %d at %d, the link before at %d: something came between", c, i, r.Ans.Seq, res[i-1].Ans.Seq)
			}
		}
	}
	close(stop)
	others.Wait()

	for i, r := range follower.PublishChain(ctx, []ChainMsg{{Subject: "ch.x"}, {Subject: "ch.y"}}) {
		if r.Err != nil || r.Ans == nil || r.Ans.Err == nil || r.Ans.Err.Code != 503 {
			t.Fatalf("a follower's chain, link %d: %+v, want refused as not available", i, r)
		}
	}
	want := len(contents(rs.streams[rs.leader]))
	waitUntil(t, "every replica to apply everything", func() bool {
		for _, s := range rs.streams {
			if len(contents(s)) != want {
				return false
			}
		}
		return true
	})
	replicas := map[string][]histcheck.Stored{}
	for i, s := range rs.streams {
		replicas[fmt.Sprint(i)] = contents(s)
	}
	if d := histcheck.CheckReplicas(replicas); d != "" {
		t.Fatal(d)
	}
}
