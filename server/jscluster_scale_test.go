package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// A replicated stream's members change under load of nothing but the
// API: a peer removed and replaced, the stream scaled down to one
// replica and back up to three. Every member added starts empty and
// replays the group's log; a new leader chosen among them has every
// message and the consumer's acknowledgements.
func TestJetStreamClusterScaleAndPeerRemove(t *testing.T) {
	c := startJSClusterOf(t, 4, false)
	nc, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() error {
		var err error
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3})
		return err
	})
	publish := func(n int) {
		t.Helper()
		for i := range n {
			eventually(t, 20*time.Second, func() error {
				_, err := js.Publish(ctx, "s.x", []byte(fmt.Sprint(i)))
				return err
			})
		}
	}
	publish(50)
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(20, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// members reports the stream's leader and replicas once every
	// replica is current, there are want of them, and none is gone.
	members := func(want int, gone string) (string, []string) {
		t.Helper()
		var leader string
		var names []string
		eventually(t, 30*time.Second, func() error {
			info, err := st.Info(ctx)
			if err != nil {
				return err
			}
			if info.Cluster == nil || info.Cluster.Leader == "" {
				return errors.New("no leader")
			}
			names = names[:0]
			for _, r := range info.Cluster.Replicas {
				if !r.Current {
					return fmt.Errorf("replica %s not current", r.Name)
				}
				names = append(names, r.Name)
			}
			if gone != "" && (info.Cluster.Leader == gone || slices.Contains(names, gone)) {
				return fmt.Errorf("%s still a member: %s %v", gone, info.Cluster.Leader, names)
			}
			if len(names) != want-1 {
				return fmt.Errorf("replicas %v, want %d", names, want-1)
			}
			leader = info.Cluster.Leader
			return nil
		})
		return leader, names
	}
	leader, replicas := members(3, "")

	// A replica removed: the fourth server replaces it.
	gone := replicas[0]
	resp, err := nc.Request("$JS.API.STREAM.PEER.REMOVE.S", []byte(`{"peer":"`+gone+`"}`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Type    string `json:"type"`
		Success bool   `json:"success"`
		Error   *struct {
			Code int `json:"err_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &pr); err != nil || !pr.Success || pr.Type != "io.nats.jetstream.api.v1.stream_remove_peer_response" {
		t.Fatalf("peer remove: %s %v", resp.Data, err)
	}
	members(3, gone)
	resp, err = nc.Request("$JS.API.STREAM.PEER.REMOVE.S", []byte(`{"peer":"`+gone+`"}`), 10*time.Second)
	if err != nil || json.Unmarshal(resp.Data, &pr) != nil || pr.Error == nil || pr.Error.Code != 10040 {
		t.Fatalf("removing a non-member: %s %v", resp.Data, err)
	}

	// Down to one replica, and back up to three.
	scale := func(n int) {
		t.Helper()
		cfg := st.CachedInfo().Config
		cfg.Replicas = n
		eventually(t, 20*time.Second, func() error {
			var err error
			st, err = js.UpdateStream(ctx, cfg)
			return err
		})
	}
	scale(1)
	members(1, "")
	publish(10)
	// A group of one delivers: its only member holds the lease.
	eventually(t, 20*time.Second, func() error {
		batch, err := cons.Fetch(5, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		n := 0
		for msg := range batch.Messages() {
			if err := msg.Ack(); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return errors.New("nothing delivered by the group of one")
		}
		return nil
	})
	scale(3)
	leader, _ = members(3, "")
	publish(10)

	// The leader goes: a member that joined empty takes over with every
	// message and the consumer's acknowledgements.
	idx := int(leader[1] - '1')
	c.stop(idx)
	other := (idx + 1) % 4
	_, js2 := c.connect(other)
	eventually(t, 30*time.Second, func() error {
		s, err := js2.Stream(ctx, "S")
		if err != nil {
			return err
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" || info.Cluster.Leader == leader {
			return fmt.Errorf("no new leader: %+v", info.Cluster)
		}
		if info.State.Msgs != 70 || info.State.LastSeq != 70 {
			return fmt.Errorf("state %+v", info.State)
		}
		ci, err := s.Consumer(ctx, "C")
		if err != nil {
			return err
		}
		if f := ci.CachedInfo().AckFloor.Stream; f < 20 {
			return fmt.Errorf("ack floor %d", f)
		}
		return nil
	})
}

// A stream created with one replica grows to three: its server founds a
// group with the stream's messages and its consumer's state, the others
// join and replay it, and after the first server goes a new leader has
// every message, the deleted one still deleted, the acknowledgements and
// the de-duplication window.
func TestJetStreamClusterScaleUpSingleReplica(t *testing.T) {
	c := startJSCluster(t)
	_, js := c.connect(0)
	ctx := context.Background()
	c.waitReady(js)
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() error {
		var err error
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "ONE", Subjects: []string{"one.>"}, Replicas: 1})
		return err
	})
	for i := range 30 {
		if _, err := js.Publish(ctx, "one.x", []byte(fmt.Sprint(i)), jetstream.WithMsgID(fmt.Sprint("id-", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DeleteMsg(ctx, 5); err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(10, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
	}
	holder := st.CachedInfo().Cluster.Leader

	cfg := st.CachedInfo().Config
	cfg.Replicas = 3
	info, err := js.UpdateStream(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if info.CachedInfo().Config.Replicas != 3 {
		t.Fatalf("updated config %+v", info.CachedInfo().Config)
	}
	eventually(t, 30*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("cluster %+v", info.Cluster)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				return fmt.Errorf("replica %s not current", r.Name)
			}
		}
		return nil
	})
	if _, err := js.Publish(ctx, "one.x", []byte("30"), jetstream.WithMsgID("id-30")); err != nil {
		t.Fatal(err)
	}

	idx := int(holder[1] - '1')
	c.stop(idx)
	other := (idx + 1) % 3
	_, js2 := c.connect(other)
	eventually(t, 30*time.Second, func() error {
		s, err := js2.Stream(ctx, "ONE")
		if err != nil {
			return err
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" || info.Cluster.Leader == holder {
			return fmt.Errorf("no new leader: %+v", info.Cluster)
		}
		if info.State.Msgs != 30 || info.State.LastSeq != 31 || info.State.NumDeleted != 1 {
			return fmt.Errorf("state %+v", info.State)
		}
		ci, err := s.Consumer(ctx, "C")
		if err != nil {
			return err
		}
		if f := ci.CachedInfo().AckFloor.Stream; f != 11 { // ten messages, 5 deleted
			return fmt.Errorf("ack floor %d", f)
		}
		return nil
	})
	ack, err := js2.Publish(ctx, "one.x", []byte("again"), jetstream.WithMsgID("id-29"))
	if err != nil || !ack.Duplicate || ack.Sequence != 30 {
		t.Fatalf("a duplicate after the move: %+v %v", ack, err)
	}
	if _, err := js2.Publish(ctx, "one.x", []byte("31")); err != nil {
		t.Fatal(err)
	}
}

// SERVER.REMOVE takes a stopped server out of the JetStream cluster: its
// stream gets a replacement that replays the group's log, the meta group
// shrinks, and the removed server is not added back.
func TestJetStreamClusterServerRemove(t *testing.T) {
	c := startJSClusterWith(t, 4, false, func(o *server.Options) {
		o.Accounts = []server.AccountOptions{{Name: "A", JetStream: &server.AccountJetStream{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}}, {Name: "SYS"}}
		o.SystemAccount = "SYS"
		o.Users = []*server.User{{Username: "a", Password: "a", Account: "A"}, {Username: "sys", Password: "sys", Account: "SYS"}}
	})
	connect := func(i int, user string) *nats.Conn {
		t.Helper()
		nc, err := nats.Connect(c.servers[i].ClientURL(), nats.UserInfo(user, user), nats.MaxReconnects(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	ctx := context.Background()
	nc := connect(0, "a")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c.waitReady(js)
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() error {
		var err error
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}, Replicas: 3})
		return err
	})
	for i := range 20 {
		if _, err := js.Publish(ctx, "s", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A replica that is not the server we are connected to.
	var gone string
	for _, r := range info.Cluster.Replicas {
		if r.Name != "S1" {
			gone = r.Name
		}
	}
	if gone == "" {
		t.Fatalf("no replica to remove: %+v", info.Cluster)
	}
	c.stop(int(gone[1] - '1'))

	sys := connect(0, "sys")
	// The meta leader steps down on the system account's request, as
	// natscli's "server cluster step-down" asks it.
	eventually(t, 20*time.Second, func() error {
		m, err := sys.Request("$JS.API.META.LEADER.STEPDOWN", nil, 10*time.Second)
		if err != nil {
			return err
		}
		if !strings.Contains(string(m.Data), `"success":true`) || !strings.Contains(string(m.Data), "meta_leader_stepdown_response") {
			return fmt.Errorf("meta step-down: %s", m.Data)
		}
		return nil
	})
	c.waitReady(js)
	var resp struct {
		Type    string `json:"type"`
		Success bool   `json:"success"`
		Error   *struct {
			Code int `json:"err_code"`
		} `json:"error"`
	}
	eventually(t, 20*time.Second, func() error {
		m, err := sys.Request("$JS.API.SERVER.REMOVE", []byte(`{"peer":"`+gone+`"}`), 10*time.Second)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(m.Data, &resp); err != nil || !resp.Success || resp.Type != "io.nats.jetstream.api.v1.meta_server_remove_response" {
			return fmt.Errorf("server remove: %s %v", m.Data, err)
		}
		return nil
	})
	m, err := sys.Request("$JS.API.SERVER.REMOVE", []byte(`{"peer":"nobody"}`), 10*time.Second)
	if err != nil || json.Unmarshal(m.Data, &resp) != nil || resp.Error == nil || resp.Error.Code != 10044 {
		t.Fatalf("removing a stranger: %s %v", m.Data, err)
	}
	eventually(t, 30*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster == nil || len(info.Cluster.Replicas) != 2 || info.State.Msgs != 20 {
			return fmt.Errorf("cluster %+v state %+v", info.Cluster, info.State)
		}
		for _, r := range info.Cluster.Replicas {
			if r.Name == gone || !r.Current {
				return fmt.Errorf("replica %+v", r)
			}
		}
		return nil
	})
}
