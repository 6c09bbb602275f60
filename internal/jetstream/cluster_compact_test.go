package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/vfs"
)

// startCompacting starts three in-process servers compacting streams'
// logs every 40 entries, and connects a client to the first.
func startCompacting(t *testing.T) ([]int, []*powerNode, []*vfs.MemFS, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	ports := []int{freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)}
	nodes := make([]*powerNode, 3)
	fss := make([]*vfs.MemFS, 3)
	for i := range nodes {
		fss[i] = vfs.NewMem()
		nodes[i] = startPowerNode(t, i, ports, fss[i], 40)
	}
	nc, err := nats.Connect(nodes[0].srv.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return ports, nodes, fss, nc, js
}

// streamWithConsumer creates a file stream of three replicas on <name>.>
// with a durable consumer D acking explicitly.
func streamWithConsumer(t *testing.T, js jetstream.JetStream, name string) (jetstream.Stream, jetstream.Consumer) {
	return streamWithConsumerOn(t, js, name, jetstream.FileStorage)
}

// streamWithConsumerOn is streamWithConsumer with the stream on storage.
func streamWithConsumerOn(t *testing.T, js jetstream.JetStream, name string, storage jetstream.StorageType) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	ctx := context.Background()
	var st jetstream.Stream
	within(t, 30*time.Second, "create", func() (err error) {
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{strings.ToLower(name) + ".>"}, Replicas: 3, Storage: storage})
		return err
	})
	var cons jetstream.Consumer
	within(t, 20*time.Second, "consumer", func() (err error) {
		cons, err = st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
		return err
	})
	return st, cons
}

// ackN fetches n messages from cons and acknowledges each, waiting for
// the acknowledgement (AckSync).
func ackN(t *testing.T, cons jetstream.Consumer, n int) {
	t.Helper()
	for got := 0; got < n; {
		batch, err := cons.Fetch(n-got, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			if err := msg.DoubleAck(context.Background()); err != nil {
				t.Fatal(err)
			}
			got++
		}
	}
}

// publisher publishes messages with distinct payloads (a counter), each
// again until acknowledged.
type publisher struct {
	t    *testing.T
	js   jetstream.JetStream
	sent int
}

func (p *publisher) publish(subj string, n int) {
	p.t.Helper()
	for range n {
		p.sent++
		within(p.t, 20*time.Second, "publish", func() error {
			_, err := p.js.Publish(context.Background(), subj, []byte(fmt.Sprint(subj, p.sent)))
			return err
		})
	}
}

// replicaView is what one member holds of stream name: its messages'
// summary and a consumer's replicated state.
func replicaView(n *powerNode, name, cons string) (string, error) {
	acc := n.m.account("$G")
	if acc == nil {
		return "", errors.New("no account")
	}
	ent := acc.lookup(name)
	if ent == nil || ent.rep == nil {
		return "", errors.New("stream not hosted")
	}
	st := ent.s.Info(false, "").State
	ent.rep.repMu.Lock()
	cr := ent.rep.replicas[cons]
	ent.rep.repMu.Unlock()
	if cr == nil {
		return "", errors.New("no consumer replica")
	}
	cs := cr.r.State()
	return fmt.Sprintf("msgs=%d first=%d last=%d deleted=%d ackfloor=%d next=%d", st.Msgs, st.FirstSeq, st.LastSeq, st.NumDeleted, cs.FloorS, cs.Next), nil
}

// logStart is where a member's log of the stream's group begins.
func logStart(n *powerNode, name string) uint64 {
	ent := n.m.account("$G").lookup(name)
	if ent == nil || ent.rep == nil || ent.rep.assigned() == nil {
		return 0
	}
	first, _ := n.m.cl.wal.Storage(jscluster.GroupID(ent.rep.assigned().Group.Name)).FirstIndex()
	return first
}

// A member that was down while the others compacted the stream's log
// past what it had comes back to a snapshot: it takes the consumer's
// state from it, fetches the messages it lacks from a peer (and drops
// those deleted meanwhile), then applies the entries since; led by it,
// the stream serves every message and the consumer resumes where it was.
func TestClusterCompactCatchUp(t *testing.T) {
	ports, nodes, fss, nc, js := startCompacting(t)
	ctx := context.Background()
	st, cons := streamWithConsumer(t, js, "C")
	publish := (&publisher{t: t, js: js}).publish
	publish("c.x", 100)
	ackN(t, cons, 30)

	var leader string
	within(t, 20*time.Second, "leader", func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return errors.New("no leader")
		}
		leader = info.Cluster.Leader
		return nil
	})
	down := 2
	if leader == nodes[2].name {
		down = 1
	}
	nodes[down].stop()

	publish("c.x", 200)
	publish("c.y", 50)
	for _, seq := range []uint64{5, 120, 260} {
		within(t, 20*time.Second, "delete", func() error { return st.DeleteMsg(ctx, seq) })
	}
	within(t, 20*time.Second, "purge", func() error { return st.Purge(ctx, jetstream.WithPurgeSubject("c.y")) })
	ackN(t, cons, 50)
	publish("c.x", 100)

	live := 0
	if down == 0 {
		live = 1
	}
	if first := logStart(nodes[live], "C"); first <= 1 {
		t.Fatalf("the live members did not compact the log (it starts at %d)", first)
	}
	nodes[down] = startPowerNode(t, down, ports, fss[down], 40)
	within(t, 60*time.Second, "the restarted member caught up", func() error {
		want, err := replicaView(nodes[live], "C", "D")
		if err != nil {
			return err
		}
		got, err := replicaView(nodes[down], "C", "D")
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("restarted member %s, live member %s", got, want)
		}
		return nil
	})

	// Led by the member that caught up, the stream has every message.
	within(t, 60*time.Second, "the caught-up member leads", func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster != nil && info.Cluster.Leader == nodes[down].name {
			return nil
		}
		_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.C", nil, 5*time.Second)
		return errors.New("another member leads")
	})
	got, err := readAll(ctx, js, "C")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 397 {
		t.Fatalf("read back %d messages, want 397 (400 on c.x, 3 deleted)", len(got))
	}
	for _, seq := range got {
		if seq == 5 || seq == 120 || seq == 260 || (seq > 300 && seq <= 350) {
			t.Fatalf("a removed message (seq %d) is back", seq)
		}
	}
	// The consumer's leader may still be settling after the step-down
	// (its info answers 503 meanwhile).
	var info *jetstream.ConsumerInfo
	within(t, 30*time.Second, "consumer info", func() (err error) {
		info, err = cons.Info(ctx)
		return err
	})
	if info.AckFloor.Stream != 80 || info.NumPending != 400-80-2 {
		t.Fatalf("consumer after catch-up: ack floor %d, pending %d", info.AckFloor.Stream, info.NumPending)
	}
}

// Members added to a group whose log was compacted (a stream scaled down
// to one replica, then up to three again) start from the leader's
// snapshot and fetch every message from it.
func TestClusterCompactJoin(t *testing.T) {
	_, nodes, _, _, js := startCompacting(t)
	ctx := context.Background()
	cfg := jetstream.StreamConfig{Name: "J", Subjects: []string{"j.>"}, Replicas: 3}
	var st jetstream.Stream
	within(t, 30*time.Second, "create", func() (err error) {
		st, err = js.CreateStream(ctx, cfg)
		return err
	})
	within(t, 20*time.Second, "consumer", func() error {
		_, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
		return err
	})
	publish := (&publisher{t: t, js: js}).publish
	publish("j.x", 150)
	within(t, 20*time.Second, "delete", func() error { return st.DeleteMsg(ctx, 7) })
	cfg.Replicas = 1
	within(t, 30*time.Second, "scale down", func() error {
		_, err := js.UpdateStream(ctx, cfg)
		return err
	})
	publish("j.x", 150)
	cfg.Replicas = 3
	within(t, 30*time.Second, "scale up", func() error {
		_, err := js.UpdateStream(ctx, cfg)
		return err
	})
	publish("j.x", 10)
	within(t, 60*time.Second, "every member holds the stream alike", func() error {
		var views []string
		for _, n := range nodes {
			v, err := replicaView(n, "J", "D")
			if err != nil {
				return fmt.Errorf("%s: %w", n.name, err)
			}
			views = append(views, v)
		}
		if views[0] != views[1] || views[1] != views[2] {
			return fmt.Errorf("members differ: %q", views)
		}
		if want := "msgs=309 first=1 last=310 deleted=1"; views[0][:len(want)] != want {
			return fmt.Errorf("members hold %s, want %s", views[0], want)
		}
		return nil
	})
}

// A consumer's info never answers "not found" while its stream's new
// leader takes over: until the leader runs the consumer, the answer is
// that the cluster is not available (a client retries that).
func TestClusterConsumerInfoAcrossStepDown(t *testing.T) {
	_, _, _, nc, js := startCompacting(t)
	streamWithConsumer(t, js, "S")
	for round := range 4 {
		within(t, 20*time.Second, "step-down", func() error {
			_, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.S", nil, 5*time.Second)
			return err
		})
		answered := false
		for i := 0; i < 2000 && !answered; i++ {
			msg, err := nc.Request("$JS.API.CONSUMER.INFO.S.D", nil, 500*time.Millisecond)
			if err != nil {
				continue // no server answers between leaders
			}
			var resp struct {
				Error *struct {
					ErrCode int `json:"err_code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(msg.Data, &resp); err != nil {
				t.Fatal(err)
			}
			switch {
			case resp.Error == nil:
				answered = true
			case resp.Error.ErrCode == 10014:
				t.Fatalf("round %d: consumer info answered not found: %s", round, msg.Data)
			}
		}
		if !answered {
			t.Fatalf("round %d: the consumer's info was never answered", round)
		}
	}
}
