package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/vfs"
)

// fullNode is one in-process server whose files go through an ErrorFS
// that a DiskFull switch can fill.
type fullNode struct {
	srv  *core.Server
	m    *Manager
	fs   *vfs.ErrorFS
	full *vfs.DiskFull
	log  *lockedBuffer
	once sync.Once
}

// stop shuts the server down, once.
func (n *fullNode) stop() {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.srv.Shutdown(ctx)
		n.m.Shutdown()
	})
}

// lockedBuffer keeps a server's warnings and errors for the test's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 { // bounded: a full disk can log at every write
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startFullNode starts server i on prev's disk, or on a new one when
// prev is nil.
func startFullNode(t *testing.T, i int, ports []int, prev *fullNode) *fullNode {
	t.Helper()
	var routes []*url.URL
	for j, p := range ports {
		if j != i {
			u, _ := url.Parse("nats-route://127.0.0.1:" + strconv.Itoa(p))
			routes = append(routes, u)
		}
	}
	n := &fullNode{log: &lockedBuffer{}, full: &vfs.DiskFull{}}
	if prev != nil {
		n.fs, n.full, n.log = prev.fs, prev.full, prev.log
	} else {
		n.fs = vfs.NewErrorFS(vfs.NewMem())
		n.fs.SetInjector(n.full.Injector())
	}
	fsys := n.fs
	logger := slog.New(slog.NewTextHandler(n.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	name := fmt.Sprintf("F%d", i+1)
	const store = "/disk-full/store"
	srv, err := core.New(core.Options{Host: "127.0.0.1", Port: options.RandomPort, ServerName: name, JetStream: true, StoreDir: store,
		Cluster: options.ClusterOptions{Name: "FULL", Host: "127.0.0.1", Port: ports[i], Routes: routes},
		Logger:  logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	m, err := New(srv, Config{StoreDir: store, FS: fsys, Logger: logger,
		Cluster: &ClusterConfig{ServerName: name, Expected: len(ports)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	n.srv, n.m = srv, m
	t.Cleanup(n.stop)
	return n
}

// waitFor polls cond every 20 ms for at most d, failing t with what
// when it does not hold by then.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	within(t, d, what, func() error {
		if cond() {
			return nil
		}
		return errors.New("not yet")
	})
}

// within polls cond every 20 ms until it returns nil, failing t with
// what and cond's last error when d passes first.
func within(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterDiskFull: one server of three runs out of disk space while
// publishers get acks on an R3 stream: the stream's leader, or a
// follower. Its writes fail with ENOSPC; the other two keep the quorum
// and the acks coming; when the space comes back it catches up; every
// acknowledged message is then read back once, at its acknowledged
// sequence, and the full server's copy is current.
func TestClusterDiskFull(t *testing.T) {
	for _, c := range []struct {
		name   string
		leader bool
	}{{"leader", true}, {"follower", false}} {
		t.Run(c.name, func(t *testing.T) { runDiskFull(t, c.leader) })
	}
}

func runDiskFull(t *testing.T, leaderFull bool) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("STARLING_DISKFULL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (STARLING_DISKFULL_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	ports := []int{freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)}
	nodes := make([]*fullNode, 3)
	var urls []string
	for i := range nodes {
		nodes[i] = startFullNode(t, i, ports, nil)
		urls = append(urls, nodes[i].srv.ClientURL())
	}
	// The publishers may use any server, the full one included.
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	waitFor(t, 30*time.Second, "the stream to be created", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := js.CreateStream(cctx, jetstream.StreamConfig{Name: "F", Subjects: []string{"f.>"}, Replicas: 3})
		return err == nil
	})

	var mu sync.Mutex
	acked := map[string]uint64{}
	failed := 0
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%d-%d", p, i)
				// A retry keeps its ID: the duplicate window makes it safe.
				for attempt := 0; attempt < 20; attempt++ {
					cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					ack, err := js.Publish(cctx, "f.x", []byte(id), jetstream.WithMsgID(id))
					cancel()
					mu.Lock()
					if err == nil {
						acked[id] = ack.Sequence
					} else {
						failed++
					}
					mu.Unlock()
					if err == nil {
						break
					}
					// A server that cannot write may refuse at once:
					// without a pause the retries would all go by in
					// a few milliseconds.
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	phase := func(what string, n int) {
		t.Helper()
		from := count()
		waitFor(t, 30*time.Second, fmt.Sprintf("%d more acks %s", n, what), func() bool { return count() >= from+n })
	}
	phase("before the disk fills", 100+rng.IntN(200))
	leader := -1
	waitFor(t, 30*time.Second, "the stream to have a leader", func() bool {
		_, err := fmt.Sscanf(streamLeader(ctx, js, "F"), "F%d", &leader)
		return err == nil
	})
	leader--
	full := leader
	if !leaderFull {
		full = (leader + 1 + rng.IntN(2)) % 3
	}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("warnings and errors of the full server F%d:\n%s", full+1, firstLines(nodes[full].log.String(), 20))
		}
	})
	// The checks go through the other servers: one whose Raft host
	// failed answers the JetStream API with 503 (it has no meta leader).
	var others []string
	for i, n := range nodes {
		if i != full {
			others = append(others, n.srv.ClientURL())
		}
	}
	cc, err := nats.Connect(strings.Join(others, ","), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	cjs, _ := jetstream.New(cc)
	t.Logf("filling the disk of F%d (stream leader F%d)", full+1, leader+1)
	nodes[full].full.Set(true)
	phase("with one disk full", 300)
	waitFor(t, 30*time.Second, fmt.Sprintf("F%d to report its disk full", full+1), func() bool {
		return strings.Contains(nodes[full].log.String(), "no space left on device")
	})
	t.Logf("stream leader with F%d full: %s", full+1, streamLeader(ctx, cjs, "F"))
	nodes[full].full.Set(false)
	phase("after the space came back", 200)
	close(stop)
	wg.Wait()
	stop = make(chan struct{}) // for the deferred close

	var info *jetstream.StreamInfo
	current := func() bool {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := cjs.Stream(cctx, "F")
		if err != nil {
			return false
		}
		info = s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
			return false
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Lag != 0 {
				return false
			}
		}
		return true
	}
	// Known: a server whose Raft log failed a write stops its Raft host
	// ("reopen needed") and its stores turn read-only; it does not
	// resume when space returns, only when restarted. Logged, not
	// failed on, until it does.
	recovered := false
	for deadline := time.Now().Add(5 * time.Second); !recovered && time.Now().Before(deadline); {
		recovered = current()
		if !recovered {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !recovered {
		t.Logf("F%d did not catch up in place once space came back (known); restarting it", full+1)
		nodes[full].stop()
		nodes[full] = startFullNode(t, full, ports, nodes[full])
		waitFor(t, 30*time.Second, fmt.Sprintf("F%d to catch up after its restart", full+1), current)
	}
	var got map[string]uint64
	waitFor(t, 30*time.Second, "the stream read back", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		got, err = readAll(cctx, cjs, "F")
		return err == nil
	})
	mu.Lock()
	defer mu.Unlock()
	lost, moved := 0, 0
	for id, seq := range acked {
		at, ok := got[id]
		switch {
		case !ok:
			lost++
		case at != seq:
			moved++
		}
	}
	t.Logf("acknowledged %d (%d failed attempts), read back %d, lost %d, moved %d; leader %s",
		len(acked), failed, len(got), lost, moved, info.Cluster.Leader)
	if lost > 0 || moved > 0 {
		t.Fatalf("lost %d and moved %d acknowledged messages (seed %d)", lost, moved, seed)
	}
}

// streamLeader names the stream's leader, "" when none is known.
func streamLeader(ctx context.Context, js jetstream.JetStream, name string) string {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := js.Stream(cctx, name)
	if err != nil || s.CachedInfo().Cluster == nil {
		return ""
	}
	return s.CachedInfo().Cluster.Leader
}

// firstLines is the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
