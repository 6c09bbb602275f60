package test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// JetStream in a mixed cluster whose nats-server servers run JetStream:
// the cluster's JetStream is theirs. A Starling server, with JetStream
// off or on, serves its clients through it, and never answers an API
// request itself (that would be a second answer, and a second copy).

// startMixedJS runs two nats-server servers with JetStream and one
// Starling server, JetStream on it as js says, in cluster "mixed".
func startMixedJS(t *testing.T, bin string, js bool, storeDir string, mutate ...func(*serverOptions)) (n0, n1, st *clusterNode) {
	t.Helper()
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	n0 = startNatsServerNode(t, bin, nodeConfig{name: "nats0", cluster: "mixed", clusterPort: ports[0], routes: routes, jetStream: true})
	n1 = startNatsServerNode(t, bin, nodeConfig{name: "nats1", cluster: "mixed", clusterPort: ports[1], routes: routes, jetStream: true})
	st = startStarlingNode(t, nodeConfig{name: "starling", cluster: "mixed", clusterPort: ports[2], routes: routes,
		jetStream: js, storeDir: storeDir}, mutate...)
	waitMesh(t, n0, n1, st)
	return n0, n1, st
}

// withMonitor gives an embedded server a monitoring port.
func withMonitor(o *serverOptions) { o.HTTPPort = server.RandomPort }

// TestMixedJetStreamOffUsesNatsServer: a Starling without JetStream in a
// cluster whose nats-server servers run it gives its clients their
// JetStream, as a nats-server without JetStream does: streams of one and
// two replicas, publishes, consumers and a key-value bucket.
func TestMixedJetStreamOffUsesNatsServer(t *testing.T) {
	t.Parallel() // waits on cluster-wide events, beside the other waits
	n0, _, st := startMixedJS(t, natsServerPath(t), false, "")
	useClusterJetStream(t, st.connect(t), n0.connect(t))
}

// TestMixedJetStreamOffNats211 is the same with nats-server 2.11 peers,
// which pool and pin routes. Only with STARLING_NATS_SERVER_2_11 set.
func TestMixedJetStreamOffNats211(t *testing.T) {
	t.Parallel() // waits on cluster-wide events, beside the other waits
	n0, _, st := startMixedJS(t, natsServer211Path(t), false, "")
	useClusterJetStream(t, st.connect(t), n0.connect(t))
}

// TestMixedJetStreamYieldsToNatsServer: a Starling with JetStream in a
// cluster whose nats-server servers run it leaves JetStream to them: it
// says so in its log and in /jsz and /varz, its clients use theirs, each
// request gets one answer, and its own streams stay on disk, back when it
// runs without nats-server JetStream again.
func TestMixedJetStreamYieldsToNatsServer(t *testing.T) {
	t.Parallel() // waits on cluster-wide events, beside the other waits
	testYieldToNatsServer(t, natsServerPath(t))
}

// TestMixedJetStreamYieldsNats211 is the same with nats-server 2.11
// peers. Only with STARLING_NATS_SERVER_2_11 set.
func TestMixedJetStreamYieldsNats211(t *testing.T) {
	t.Parallel() // waits on cluster-wide events, beside the other waits
	testYieldToNatsServer(t, natsServer211Path(t))
}

func testYieldToNatsServer(t *testing.T, bin string) {
	store := t.TempDir()
	first, nc := startAlone(t, store)
	createOwnStream(t, nc)
	shutdown(t, first)

	n0, n1, st := startMixedJS(t, bin, true, store, withMonitor)
	eventually(t, clusterWait, func() bool { return jetStreamYieldLogged(st) },
		"Starling's log to say that the cluster's nats-server servers serve JetStream")
	sc, nc := st.connect(t), n0.connect(t)
	useClusterJetStream(t, sc, nc)
	t.Run("OneAnswer", func(t *testing.T) {
		for _, c := range []*nats.Conn{sc, nc} {
			// A publish to a stream is acknowledged once too: by its one copy.
			for _, subj := range []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.INFO.OWN", "r1.once"} {
				if got := answers(t, c, subj); len(got) != 1 {
					t.Errorf("%s from %s: %d answers, want 1: %q", subj, c.ConnectedServerName(), len(got), got)
				}
			}
		}
	})
	t.Run("PeerRestart", func(t *testing.T) {
		// The choice holds while a nats-server comes and goes: its JetStream
		// answers the Starling client again once it is back, alone.
		n1.stop(t)
		n1.restart(t)
		waitMesh(t, n0, n1, st)
		eventually(t, clusterWait, func() bool {
			return len(answers(t, sc, "$JS.API.STREAM.INFO.R2")) == 1
		}, "one answer for a stream of two replicas after nats1 restarted")
		if !jetStreamYieldLogged(st) || len(st.logs.atLeast(slog.LevelError)) > 0 {
			t.Errorf("log after the restart: %q", st.logs.atLeast(slog.LevelWarn))
		}
	})
	t.Run("Monitoring", func(t *testing.T) {
		var jsz map[string]any
		if err := tryGetJSON(st.s.MonitorURL()+"/jsz", &jsz); err != nil {
			t.Fatal(err)
		}
		if jsz["disabled"] != true {
			t.Errorf("/jsz = %v, want disabled", jsz)
		}
		// It leads no meta group: a leader-only report is refused.
		if err := tryGetJSON(st.s.MonitorURL()+"/jsz?leader-only=true", &jsz); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("/jsz?leader-only=true: %v, want 400", err)
		}
		var varz struct {
			JetStream map[string]any `json:"jetstream"`
		}
		if err := tryGetJSON(st.s.MonitorURL()+"/varz", &varz); err != nil {
			t.Fatal(err)
		}
		if len(varz.JetStream) != 0 {
			t.Errorf("/varz jetstream = %v, want empty (off here)", varz.JetStream)
		}
	})
	st.stop(t)

	_, nc = startAlone(t, store)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	s, err := js.Stream(ctx, "OWN")
	if err != nil {
		t.Fatalf("the stream of Starling's own, after the mixed cluster: %v", err)
	}
	if n := s.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("its stream holds %d messages, want 1", n)
	}
}

// startAlone runs a Starling server of its own, with JetStream in store,
// and connects to it.
func startAlone(t *testing.T, store string) (*server.Server, *nats.Conn) {
	t.Helper()
	s := launchStarling(t, t, &serverOptions{Host: "127.0.0.1", Port: server.RandomPort, ServerName: "starling",
		JetStream: true, StoreDir: store})
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return s, nc
}

// shutdown stops an embedded server now (its cleanup may run it again).
func shutdown(t *testing.T, s *server.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// createOwnStream makes stream OWN, with one message, on a Starling
// server of its own.
func createOwnStream(t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OWN", Subjects: []string{"own.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "own.1", []byte("kept")); err != nil {
		t.Fatal(err)
	}
}

// jetStreamYieldLogged looks for the WARN that tells an operator this
// server's JetStream serves nothing, left to nats-server's.
func jetStreamYieldLogged(n *clusterNode) bool {
	for _, l := range n.logs.all() {
		if strings.HasPrefix(l, "WARN") && strings.Contains(l, "JetStream is not served by this server") {
			return true
		}
	}
	return false
}

// answerWindow is how long a second answer is waited for: a second
// responder on a loopback cluster answers well within it.
const answerWindow = 750 * time.Millisecond

// answers sends one request on subj from nc and collects its answers:
// the first within clusterWait, more within answerWindow after it.
func answers(t *testing.T, nc *nats.Conn, subj string) []string {
	t.Helper()
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(subj, inbox, nil); err != nil {
		t.Fatal(err)
	}
	var out []string
	wait := clusterWait
	for range 10 {
		m, err := sub.NextMsg(wait)
		if err != nil {
			break
		}
		out = append(out, string(m.Data))
		wait = answerWindow
	}
	return out
}

// useClusterJetStream uses the cluster's JetStream from client sc (on
// the Starling server) and checks what client nc (on a nats-server) sees.
func useClusterJetStream(t *testing.T, sc, nc *nats.Conn) {
	t.Helper()
	sjs, err := jetstream.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	njs, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*clusterWait)
	defer cancel()
	// nats-server's meta group elects its leader after the routes are up:
	// until then a request is answered "temporarily unavailable" or not.
	eventually(t, clusterWait, func() bool {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err = sjs.AccountInfo(actx)
		return err == nil
	}, "the cluster's JetStream to answer a client of the Starling server")
	for _, r := range []int{1, 2} {
		name := fmt.Sprintf("R%d", r)
		subj := fmt.Sprintf("r%d.>", r)
		if _, err := sjs.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}, Replicas: r}); err != nil {
			t.Fatalf("create stream %s from Starling: %v", name, err)
		}
		for i := range 3 {
			ack, err := sjs.Publish(ctx, fmt.Sprintf("r%d.%d", r, i), []byte("m"))
			if err != nil {
				t.Fatalf("publish to %s from Starling: %v", name, err)
			}
			if ack.Stream != name || ack.Sequence != uint64(i+1) {
				t.Errorf("ack %+v, want stream %s seq %d", ack, name, i+1)
			}
		}
		ns, err := njs.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s from nats-server: %v", name, err)
		}
		if got := ns.CachedInfo(); got.State.Msgs != 3 || got.Config.Replicas != r {
			t.Errorf("stream %s seen from nats-server: %d messages, %d replicas; want 3, %d", name, got.State.Msgs, got.Config.Replicas, r)
		}
		c, err := sjs.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{Durable: "d", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatalf("consumer on %s from Starling: %v", name, err)
		}
		batch, err := c.Fetch(3, jetstream.FetchMaxWait(clusterWait))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				t.Errorf("ack on %s: %v", name, err)
			}
			n++
		}
		if n != 3 || batch.Error() != nil {
			t.Errorf("fetched %d from %s (%v), want 3", n, name, batch.Error())
		}
		ci, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumAckPending != 0 || ci.Delivered.Stream != 3 {
			t.Errorf("consumer on %s: %d pending acks, delivered to %d; want 0, 3", name, ci.NumAckPending, ci.Delivered.Stream)
		}
	}
	kv, err := sjs.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "cfg"})
	if err != nil {
		t.Fatalf("key-value bucket from Starling: %v", err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	nkv, err := njs.KeyValue(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	e, err := nkv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v1" {
		t.Fatalf("key k from nats-server: %v %v", e, err)
	}
	if _, err := kv.Get(ctx, "nope"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("a missing key from Starling: %v, want not found", err)
	}
}

// TestMixedJetStreamLateNatsServer: a nats-server with JetStream that
// joins after the Starling server's JetStream went standalone (the first
// nats-server it met had none) is not reconciled at run time; the
// Starling server says so in its log, at ERROR, on the next API request.
func TestMixedJetStreamLateNatsServer(t *testing.T) {
	t.Parallel() // waits on cluster-wide events, beside the other waits
	bin := natsServerPath(t)
	ports := freePorts(t, 3)
	var routes []string
	for _, p := range ports {
		routes = append(routes, routeURLOf(p, "", ""))
	}
	n0 := startNatsServerNode(t, bin, nodeConfig{name: "nats0", cluster: "mixed", clusterPort: ports[0], routes: routes})
	st := startStarlingNode(t, nodeConfig{name: "starling", cluster: "mixed", clusterPort: ports[2], routes: routes, jetStream: true})
	waitMesh(t, n0, st)
	eventually(t, clusterWait, func() bool { return jetStreamNotSharedLogged(st) }, "the standalone fallback")
	n1 := startNatsServerNode(t, bin, nodeConfig{name: "nats1", cluster: "mixed", clusterPort: ports[1], routes: routes, jetStream: true})
	waitMesh(t, n0, n1, st)
	sc := st.connect(t)
	eventually(t, clusterWait, func() bool {
		answers(t, sc, "$JS.API.INFO")
		for _, l := range st.logs.atLeast(slog.LevelError) {
			if strings.Contains(l, "after this server's JetStream went standalone") {
				return true
			}
		}
		return false
	}, "Starling's log to say a nats-server with JetStream came after its standalone fallback")
	if jetStreamYieldLogged(st) {
		t.Error("the standalone server yielded at run time")
	}
}
