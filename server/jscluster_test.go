package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

func TestJetStreamClusterReplicatedStream(t *testing.T) {
	c := startJSCluster(t)
	_, js := c.connect(0)
	ctx := context.Background()
	eventually(t, 30*time.Second, func() error {
		_, err := js.AccountInfo(ctx)
		return err
	})
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() error {
		var err error
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3})
		return err
	})
	info := st.CachedInfo()
	if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("cluster info %+v", info.Cluster)
	}
	for i := range 100 {
		if _, err := js.Publish(ctx, "orders.new", []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	for i := range c.servers {
		_, js := c.connect(i)
		eventually(t, 10*time.Second, func() error {
			s, err := js.Stream(ctx, "ORDERS")
			if err != nil {
				return err
			}
			if n := s.CachedInfo().State.Msgs; n != 100 {
				return fmt.Errorf("server %d: %d messages", i, n)
			}
			return nil
		})
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for try := 0; got < 50; try++ {
		if try == 20 {
			ci, err := cons.Info(ctx)
			t.Fatalf("fetched %d of 50: %+v %v", got, ci, err)
		}
		batch, err := cons.Fetch(50-got, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			if err := msg.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			got++
		}
	}
	// The leader goes: another takes over, nothing acknowledged is lost,
	// and the consumer goes on from where it was acknowledged.
	leader := info.Cluster.Leader
	idx := int(leader[1] - '1')
	c.stop(idx)
	other := (idx + 1) % 3
	_, js2 := c.connect(other)
	eventually(t, 30*time.Second, func() error {
		_, err := js2.Publish(ctx, "orders.new", []byte("after"))
		return err
	})
	s2, err := js2.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	if s2.CachedInfo().Cluster == nil {
		nc2, _ := c.connect(other)
		m, err := nc2.Request("$JS.API.STREAM.INFO.ORDERS", nil, 2*time.Second)
		if err == nil {
			t.Logf("raw: %s", m.Data)
		}
		t.Fatalf("no cluster info: %+v", s2.CachedInfo())
	}
	if s2.CachedInfo().State.Msgs < 101 || s2.CachedInfo().Cluster.Leader == leader {
		t.Fatalf("after failover: %+v %+v", s2.CachedInfo().State, s2.CachedInfo().Cluster)
	}
	cons2, err := s2.Consumer(ctx, "C")
	if err != nil {
		t.Fatal(err)
	}
	ci := cons2.CachedInfo()
	if ci.AckFloor.Stream != 50 {
		t.Fatalf("ack floor %+v", ci.AckFloor)
	}
	batch, err := cons2.Fetch(10, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		md, _ := msg.Metadata()
		if md.Sequence.Stream <= 50 {
			t.Fatalf("redelivered acknowledged message %d", md.Sequence.Stream)
		}
	}
	// The stopped server comes back and catches up.
	c.start(idx)
	_, js3 := c.connect(idx)
	eventually(t, 30*time.Second, func() error {
		s, err := js3.Stream(ctx, "ORDERS")
		if err != nil {
			return err
		}
		for _, r := range s.CachedInfo().Cluster.Replicas {
			if !r.Current {
				return fmt.Errorf("replica %s not current", r.Name)
			}
		}
		return nil
	})
	// Deleted through the restarted server (the first connection may have
	// been to the stopped one, whose client port changed). Until it has
	// heard from the meta leader again it answers 503, as nats-server does.
	eventually(t, 20*time.Second, func() error {
		if err := js3.DeleteStream(ctx, "ORDERS"); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
		return nil
	})
}

func TestJetStreamClusterKeyValueReplicated(t *testing.T) {
	c := startJSCluster(t)
	_, js := c.connect(1)
	c.waitReady(js)
	ctx := context.Background()
	var kv jetstream.KeyValue
	eventually(t, 20*time.Second, func() error {
		var err error
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "CFG", Replicas: 3, History: 3})
		return err
	})
	rev, err := kv.Put(ctx, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(ctx, "a", []byte("2"), rev); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(ctx, "a", []byte("3"), rev); err == nil {
		t.Fatal("a stale update was taken")
	}
	for i := range c.servers {
		_, js := c.connect(i)
		kv, err := js.KeyValue(ctx, "CFG")
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		e, err := kv.Get(ctx, "a")
		if err != nil || string(e.Value()) != "2" {
			t.Fatalf("server %d: get %v %v", i, e, err)
		}
	}
	// Watchers and key listings run ordered push consumers, from any
	// server.
	_, jsw := c.connect(2)
	kvw, err := jsw.KeyValue(ctx, "CFG")
	if err != nil {
		t.Fatal(err)
	}
	w, err := kvw.Watch(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case e := <-w.Updates():
		if e == nil || string(e.Value()) != "2" {
			t.Fatalf("watch: first update %v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch: no initial value")
	}
	if _, err := kv.Put(ctx, "b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	keys, err := kvw.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if err := kv.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestJetStreamClusterSingleReplicaStream(t *testing.T) {
	c := startJSCluster(t)
	_, js := c.connect(2)
	c.waitReady(js)
	ctx := context.Background()
	eventually(t, 20*time.Second, func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ONE", Subjects: []string{"one.>"}})
		return err
	})
	for i := range c.servers {
		_, js := c.connect(i)
		if _, err := js.Publish(ctx, "one.x", []byte("hello")); err != nil {
			t.Fatalf("publish through server %d: %v", i, err)
		}
		names := js.StreamNames(ctx)
		var got []string
		for n := range names.Name() {
			got = append(got, n)
		}
		if len(got) != 1 || got[0] != "ONE" {
			t.Fatalf("server %d names %v %v", i, got, names.Err())
		}
	}
	s, err := js.Stream(ctx, "ONE")
	if err != nil {
		t.Fatal(err)
	}
	if s.CachedInfo().State.Msgs != 3 || s.CachedInfo().Cluster == nil || s.CachedInfo().Cluster.Leader == "" {
		t.Fatalf("info %+v %+v", s.CachedInfo().State, s.CachedInfo().Cluster)
	}
	_, js0 := c.connect(0)
	if err := js0.DeleteStream(ctx, "ONE"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Stream(ctx, "ONE"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestJetStreamClusterStepDown(t *testing.T) {
	c := startJSCluster(t)
	nc, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	st, before := currentR3(t, js, "SD", "sd")
	m, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.SD", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(m.Data), `"success":true`) {
		t.Fatalf("step down: %v %s", err, m.Data)
	}
	eventually(t, 20*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster.Leader == before || info.Cluster.Leader == "" {
			return fmt.Errorf("leader still %q", info.Cluster.Leader)
		}
		return nil
	})
	if _, err := js.Publish(ctx, "sd", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// TestJetStreamClusterFullRestart: every server stops and comes back; the
// meta group, the stream and its consumer's acknowledged state return
// from the servers' logs.
func TestJetStreamClusterFullRestart(t *testing.T) {
	c := startJSCluster(t)
	_, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() error {
		var err error
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.>"}, Replicas: 3})
		return err
	})
	for i := range 20 {
		if _, err := js.Publish(ctx, "r.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "D", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for msg := range batch.Messages() {
		if err := msg.DoubleAck(ctx); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("fetched %d", n)
	}
	for i := range c.servers {
		c.stop(i)
	}
	for i := range c.servers {
		c.start(i)
	}
	_, js = c.connect(1)
	eventually(t, 30*time.Second, func() error {
		s, err := js.Stream(ctx, "R")
		if err != nil {
			return err
		}
		if s.CachedInfo().State.Msgs != 20 {
			return fmt.Errorf("%d messages", s.CachedInfo().State.Msgs)
		}
		ci, err := s.Consumer(ctx, "D")
		if err != nil {
			return err
		}
		if ci.CachedInfo().AckFloor.Stream != 5 {
			return fmt.Errorf("ack floor %d", ci.CachedInfo().AckFloor.Stream)
		}
		return nil
	})
	if _, err := js.Publish(ctx, "r.x", []byte("after")); err != nil {
		t.Fatal(err)
	}
}

// TestJetStreamClusterHealthz: /healthz is unavailable until the meta
// group has a leader and the server's streams are current, then ok.
func TestJetStreamClusterHealthz(t *testing.T) {
	c := startJSCluster(t)
	// The first server again, with monitoring: stopped and restarted.
	c.stop(0)
	c.opts[0].HTTPPort = server.RandomPort
	c.opts[0].HTTPHost = "127.0.0.1"
	c.start(0)
	_, js := c.connect(1)
	c.waitReady(js)
	ctx := context.Background()
	// Generous: the restarted server rejoins while the stream's group
	// elects its first leader, on a machine that may be loaded.
	eventually(t, 60*time.Second, func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "H", Replicas: 3})
		return err
	})
	eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(c.servers[0].MonitorURL() + "/healthz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
			return fmt.Errorf("healthz %d %s", resp.StatusCode, body)
		}
		return nil
	})
}

// TestJetStreamClusterSeedRoutes: servers whose cluster blocks name only
// a seed server (fewer routes than servers) found the meta group with
// every server once the mesh settled.
func TestJetStreamClusterSeedRoutes(t *testing.T) {
	c := startJSClusterRouted(t, true)
	_, js := c.connect(2)
	c.waitReady(js)
	ctx := context.Background()
	eventually(t, 20*time.Second, func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SEED", Replicas: 3})
		return err
	})
	if _, err := js.Publish(ctx, "SEED", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// TestJetStreamClusterLateServer: a server started after the meta group
// was founded without it is added by the meta leader, catches up, and
// counts toward the quorum.
func TestJetStreamClusterLateServer(t *testing.T) {
	c := &jsCluster{t: t}
	ports := []int{freePort(t), freePort(t), freePort(t)}
	route := func(p int) *url.URL {
		u, _ := url.Parse(fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		return u
	}
	routes := [][]*url.URL{{route(ports[1])}, {route(ports[0])}, {route(ports[0]), route(ports[1])}}
	for i := range ports {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("S%d", i+1), Host: "127.0.0.1", Port: server.RandomPort,
			HTTPHost: "127.0.0.1", HTTPPort: server.RandomPort,
			JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOptions{Name: "JSC", Host: "127.0.0.1", Port: ports[i], Routes: routes[i]},
		})
	}
	c.servers = make([]*server.Server, 3)
	c.start(0)
	c.start(1)
	_, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	eventually(t, 20*time.Second, func() error {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EARLY", Replicas: 2})
		return err
	})
	c.start(2)
	// The late server sees a meta group of three once it was added.
	eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(c.servers[2].MonitorURL() + "/jsz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var jsz struct {
			Meta *struct {
				Leader string `json:"leader"`
				Size   int    `json:"cluster_size"`
			} `json:"meta_cluster"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&jsz); err != nil {
			return err
		}
		if jsz.Meta == nil || jsz.Meta.Size != 3 || jsz.Meta.Leader == "" {
			return fmt.Errorf("meta %+v", jsz.Meta)
		}
		return nil
	})
	// Two of three: the group goes on without a founder.
	c.stop(0)
	_, js3 := c.connect(2)
	eventually(t, 30*time.Second, func() error {
		_, err := js3.CreateStream(ctx, jetstream.StreamConfig{Name: "LATE", Replicas: 1})
		return err
	})
	names := js3.StreamNames(ctx)
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	if len(got) != 2 {
		t.Fatalf("streams %v %v", got, names.Err())
	}
}

func TestJetStreamClusterObjectStoreReplicated(t *testing.T) {
	c := startJSCluster(t)
	_, js := c.connect(0)
	c.waitReady(js)
	ctx := context.Background()
	var obs jetstream.ObjectStore
	eventually(t, 20*time.Second, func() error {
		var err error
		obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "FILES", Replicas: 3})
		return err
	})
	blob := make([]byte, 300_000)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	if _, err := obs.PutBytes(ctx, "big", blob); err != nil {
		t.Fatal(err)
	}
	_, js2 := c.connect(1)
	obs2, err := js2.ObjectStore(ctx, "FILES")
	if err != nil {
		t.Fatal(err)
	}
	got, err := obs2.GetBytes(ctx, "big")
	if err != nil || len(got) != len(blob) || string(got) != string(blob) {
		t.Fatalf("get: %d bytes, %v", len(got), err)
	}
}
