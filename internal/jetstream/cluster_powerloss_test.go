package jetstream

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/vfs"
)

// powerNode is one in-process server of a JetStream cluster whose every
// file goes through its own crash file system.
type powerNode struct {
	name string
	srv  *core.Server
	m    *Manager
	fs   *vfs.MemFS
}

const powerStore = "/power-loss/store"

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startPowerNode starts server i; compact sets ClusterConfig.CompactEntries
// (0: the default).
func startPowerNode(t *testing.T, i int, clusterPorts []int, fsys *vfs.MemFS, compact uint64) *powerNode {
	t.Helper()
	var routes []*url.URL
	for j, p := range clusterPorts {
		if j != i {
			u, _ := url.Parse("nats-route://127.0.0.1:" + strconv.Itoa(p))
			routes = append(routes, u)
		}
	}
	name := fmt.Sprintf("P%d", i+1)
	srv, err := core.New(core.Options{Host: "127.0.0.1", Port: options.RandomPort, ServerName: name, JetStream: true, StoreDir: powerStore,
		Cluster: options.ClusterOptions{Name: "POWER", Host: "127.0.0.1", Port: clusterPorts[i], Routes: routes},
		Logger:  slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	m, err := New(srv, Config{StoreDir: powerStore, FS: fsys, Logger: nodeLogger(name),
		Cluster: &ClusterConfig{ServerName: name, Expected: len(clusterPorts), CompactEntries: compact,
			Raft: raftnode.Options{SnapshotEntries: compact}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	n := &powerNode{name: name, srv: srv, m: m, fs: fsys}
	t.Cleanup(n.stop)
	return n
}

// nodeLogger discards, unless JSC_DEBUG is set: then the server's debug
// log goes to stderr, named.
func nodeLogger(name string) *slog.Logger {
	if os.Getenv("JSC_DEBUG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", name)
}

func (n *powerNode) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = n.srv.Shutdown(ctx)
	n.m.Shutdown()
}

// TestClusterPowerLoss: three servers run an R3 stream while publishers
// get acks; every server then loses power at once (each keeps only what
// it synced); restarted on what survived, the cluster holds every
// acknowledged message, once, at its acknowledged sequence.
func TestClusterPowerLoss(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("STARLING_POWER_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (STARLING_POWER_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	// Odd seeds compact the stream's log every few dozen entries, so the
	// restart starts from a snapshot and the store's synced files.
	var compact uint64
	if seed%2 == 1 {
		compact = 40
	}
	t.Logf("compacting every %d entries (0: default)", compact)
	ports := []int{freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)}
	nodes := make([]*powerNode, 3)
	for i := range nodes {
		nodes[i] = startPowerNode(t, i, ports, vfs.NewMem(), compact)
	}
	nc, err := nats.Connect(nodes[0].srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "P", Subjects: []string{"p.>"}, Replicas: 3})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Publishers run while the power goes: what was acknowledged before
	// the cut must survive it.
	var mu sync.Mutex
	acked := map[string]uint64{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%d-%d", p, i)
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				ack, err := js.Publish(cctx, "p.x", []byte(id), jetstream.WithMsgID(id))
				cancel()
				if err == nil {
					mu.Lock()
					acked[id] = ack.Sequence
					mu.Unlock()
				}
			}
		}()
	}
	// The cut comes after a seeded number of acknowledgements, with the
	// publishers still running.
	target := 200 + rng.IntN(800)
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= target {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d publishes acknowledged in 30 s", n, target)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := make(map[string]uint64, len(acked))
	for k, v := range acked {
		before[k] = v
	}
	mu.Unlock()
	// The power goes on every server: each keeps what it had synced.
	clones := make([]*vfs.MemFS, 3)
	for i, n := range nodes {
		clones[i] = n.fs.CrashClone()
	}
	close(stop)
	wg.Wait()
	nc.Close()
	for _, n := range nodes {
		n.stop()
	}
	if len(before) == 0 {
		t.Fatal("nothing was acknowledged before the power went")
	}

	for i := range nodes {
		nodes[i] = startPowerNode(t, i, ports, clones[i], compact)
	}
	nc2, err := nats.Connect(nodes[1].srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc2.Close()
	js2, _ := jetstream.New(nc2)
	var got map[string]uint64
	deadline = time.Now().Add(60 * time.Second)
	for {
		got, err = readAll(ctx, js2, "P")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reading back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	lost, moved := 0, 0
	for id, seq := range before {
		at, ok := got[id]
		switch {
		case !ok:
			lost++
		case at != seq:
			moved++
		}
	}
	t.Logf("acknowledged before the cut %d, read back %d, lost %d, moved %d", len(before), len(got), lost, moved)
	if lost > 0 || moved > 0 {
		t.Fatalf("lost %d and moved %d acknowledged messages (seed %d)", lost, moved, seed)
	}
}

// readAll reads every message of a stream through its leader: payload to
// sequence; a payload stored twice is an error.
func readAll(ctx context.Context, js jetstream.JetStream, name string) (map[string]uint64, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	st := s.CachedInfo().State
	out := map[string]uint64{}
	for seq := st.FirstSeq; seq <= st.LastSeq && st.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			if err == jetstream.ErrMsgNotFound {
				continue
			}
			return nil, err
		}
		if _, dup := out[string(m.Data)]; dup {
			return nil, fmt.Errorf("payload %s stored twice", m.Data)
		}
		out[string(m.Data)] = seq
	}
	return out, nil
}
