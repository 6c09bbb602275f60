package raftnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// TestDeliveryInOrder sends from two nodes to a third over loopback TCP in
// Send calls of random sizes and checks every message arrives, in the order
// sent per sender, with its group.
func TestDeliveryInOrder(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dst := startNode(t, 2, "", nil)
	srcs := []*node{startNode(t, 1, "", nil), startNode(t, 3, "", nil)}
	for _, s := range srcs {
		if err := s.tr.AddPeer(2, dst.addr()); err != nil {
			t.Fatal(err)
		}
		s.connected(t, 2)
	}
	const perSender = 5000
	for _, s := range srcs {
		from := s.tr.opts.NodeID
		for i := 0; i < perSender; {
			k := min(1+rng.IntN(100), perSender-i)
			batch := make([]Envelope, k)
			for j := range batch {
				batch[j] = Envelope{Group: uint64((i + j) % 64), Msg: msg(raftpb.MsgApp, from, 2, uint64(i+j), []byte("x"))}
			}
			s.tr.Send(batch)
			i += k
		}
	}
	eventually(t, 20*time.Second, "all messages delivered", func() bool { return dst.in.len() == 2*perSender })
	next := map[uint64]uint64{}
	for _, e := range dst.in.snapshot() {
		from, idx := e.Msg.GetFrom(), e.Msg.GetIndex()
		if idx != next[from] || e.Group != idx%64 {
			t.Fatalf("seed %d: from %d got index %d group %d, want index %d", seed, from, idx, e.Group, next[from])
		}
		next[from]++
	}
	for _, s := range srcs {
		eventually(t, 10*time.Second, "all counted sent", func() bool { return s.peer(t, 2).Sent == perSender })
		if st := s.peer(t, 2); st.Dropped != 0 {
			t.Fatalf("seed %d: stats %+v", seed, st)
		}
	}
}

// gatedConn holds writes after the first (the hello) until released, so a
// test can pile messages up behind a write in progress.
type gatedConn struct {
	net.Conn
	writes  int
	blocked chan struct{} // closed when a write waits at the gate
	release chan struct{}
	once    sync.Once
}

func (c *gatedConn) dial(ctx context.Context, id uint64, addr string) (net.Conn, error) {
	conn, err := dialTCP(ctx, id, addr)
	if err != nil {
		return nil, err
	}
	c.Conn = conn
	return c, nil
}

func (c *gatedConn) Write(b []byte) (int, error) {
	c.writes++
	if c.writes == 2 {
		c.once.Do(func() { close(c.blocked) })
		<-c.release
	}
	return c.Conn.Write(b)
}

// TestBatching checks that messages queued while a write is in progress go
// out together as one frame.
func TestBatching(t *testing.T) {
	dst := startNode(t, 2, "", nil)
	gate := &gatedConn{blocked: make(chan struct{}), release: make(chan struct{})}
	src := startNode(t, 1, "", func(o *Options) {
		o.Dial = gate.dial
	})
	if err := src.tr.AddPeer(2, dst.addr()); err != nil {
		t.Fatal(err)
	}
	src.connected(t, 2)
	src.tr.Send([]Envelope{{Group: 0, Msg: msg(raftpb.MsgHeartbeat, 1, 2, 0)}})
	<-gate.blocked
	const more = 999
	for i := 1; i <= more; i++ {
		src.tr.Send([]Envelope{{Group: uint64(i), Msg: msg(raftpb.MsgHeartbeat, 1, 2, uint64(i))}})
	}
	close(gate.release)
	eventually(t, 10*time.Second, "all delivered", func() bool { return dst.in.len() == more+1 })
	// The writer counts a frame once its write returns, maybe after the
	// receiver has it.
	eventually(t, 10*time.Second, "all counted sent", func() bool { return src.peer(t, 2).Sent == more+1 })
	if st := src.peer(t, 2); st.Frames != 2 {
		t.Fatalf("%d sends went out in %d frames (%d messages), want 2 frames", more+1, st.Frames, st.Sent)
	}
}

// TestPeerDownAndBack checks that messages to a peer that is down are
// dropped and counted, and that they flow again once it is back, both
// before a first connection and after a lost one.
func TestPeerDownAndBack(t *testing.T) {
	addr := deadAddr(t)
	src := startNode(t, 1, "", nil)
	if err := src.tr.AddPeer(2, addr); err != nil {
		t.Fatal(err)
	}
	heartbeats := func(n int) []Envelope {
		out := make([]Envelope, n)
		for i := range out {
			out[i] = Envelope{Group: uint64(i), Msg: msg(raftpb.MsgHeartbeat, 1, 2, 0)}
		}
		return out
	}
	src.tr.Send(heartbeats(100))
	if st := src.peer(t, 2); st.Connected || st.Dropped != 100 || st.QueueDepth != 0 {
		t.Fatalf("peer never up: %+v", st)
	}

	dst := startNode(t, 2, addr, nil)
	src.connected(t, 2)
	src.tr.Send(heartbeats(100))
	eventually(t, 10*time.Second, "delivery after the peer came up", func() bool { return dst.in.len() == 100 })

	dst.stop()
	eventually(t, 10*time.Second, "the writer to notice the peer is gone", func() bool { return !src.peer(t, 2).Connected })
	before := src.peer(t, 2).Dropped
	src.tr.Send(heartbeats(10))
	if got := src.peer(t, 2).Dropped; got != before+10 {
		t.Fatalf("dropped %d while down, want %d", got, before+10)
	}

	back := startNode(t, 2, addr, nil)
	src.connected(t, 2)
	src.tr.Send(heartbeats(50))
	eventually(t, 10*time.Second, "delivery after the peer came back", func() bool { return back.in.len() == 50 })
	if st := src.peer(t, 2); st.Reconnects == 0 {
		t.Fatalf("no reconnect counted: %+v", st)
	}
	src.stop()
	back.stop()
	noLeaks(t)
}

// TestStalledPeer checks that a peer that accepts and never reads costs a
// write timeout, not a stuck writer: the connection is dropped and redialled,
// and Close leaves no goroutine behind.
func TestStalledPeer(t *testing.T) {
	raw := newRawListener(t)
	src := startNode(t, 1, "", func(o *Options) {
		o.WriteTimeout = 200 * time.Millisecond
		o.MaxFrameSize = 1 << 20
	})
	if err := src.tr.AddPeer(2, raw.ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 256<<10)
	eventually(t, 20*time.Second, "a write timeout and a redial", func() bool {
		src.tr.Send([]Envelope{{Group: 1, Msg: msg(raftpb.MsgApp, 1, 2, 1, big)}})
		return src.peer(t, 2).Reconnects > 0 && raw.accepted() >= 2
	})
	if st := src.peer(t, 2); st.Dropped == 0 {
		t.Fatalf("nothing dropped by a stalled peer: %+v", st)
	}
	src.stop()
	noLeaks(t)
}

// TestBadInputRejected writes bad streams to a node's port: each connection
// is closed and counted, and nothing reaches the handler.
func TestBadInputRejected(t *testing.T) {
	hello := func(id uint64) []byte { return AppendHello(nil, Hello{Version: Version, ServerID: "x", NodeID: id}) }
	batchFrom := func(from uint64) []byte {
		b, _, _ := AppendBatch(nil, []Envelope{{Group: 1, Msg: msg(raftpb.MsgHeartbeat, from, 2, 0)}}, 1<<20)
		return b
	}
	badCRC := batchFrom(5)
	badCRC[len(badCRC)-1] ^= 0xff
	// A peer of the previous version, which sent protobuf only.
	v1 := hello(5)
	v1[headerLen+5] = Version - 1
	v1 = frameOf(KindHello, v1[headerLen:])
	tests := []struct {
		name  string
		input []byte
	}{
		{"garbage", []byte("CONNECT {\"verbose\":false}\r\n")},
		{"batch before hello", batchFrom(5)},
		{"bad checksum", append(hello(5), badCRC...)},
		{"version 1", v1},
		{"message from another node", append(hello(5), batchFrom(6)...)},
		{"second hello", append(hello(5), hello(5)...)},
		{"refused by Accept", hello(99)},
		{"oversized frame", append(hello(5), frameOf(KindBatch, make([]byte, 2<<20))...)},
	}
	dst := startNode(t, 2, "", func(o *Options) {
		o.MaxFrameSize = 1 << 20
		o.Accept = func(h Hello) error {
			if h.NodeID == 99 {
				return errors.New("not a member")
			}
			return nil
		}
	})
	for i, tc := range tests {
		c, err := net.Dial("tcp", dst.addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		// The write may fail part-way once the server has closed.
		_, _ = c.Write(tc.input)
		var one [1]byte
		if _, err := c.Read(one[:]); err == nil {
			t.Fatalf("%s: the server wrote to a raft connection", tc.name)
		} else if isTimeout(err) {
			t.Fatalf("%s: connection not closed", tc.name)
		}
		c.Close()
		eventually(t, 10*time.Second, tc.name+" counted", func() bool { return dst.tr.Stats().BadFrames == uint64(i+1) })
	}
	if n := dst.in.len(); n != 0 {
		t.Fatalf("%d messages reached the handler", n)
	}
	eventually(t, 10*time.Second, "inbound connections gone", func() bool { return len(dst.tr.Stats().Inbound) == 0 })
}

// TestServeAs checks that a hello must name the server the caller
// authenticated the connection as.
func TestServeAs(t *testing.T) {
	dst := startNode(t, 2, "", nil)
	for _, tc := range []struct {
		hello, authenticated string
		ok                   bool
	}{
		{"sb", "sb", true},
		{"sb", "", true},
		{"sc", "sb", false},
	} {
		a, b := net.Pipe()
		had := dst.in.len()
		if err := dst.tr.ServeAs(b, tc.authenticated); err != nil {
			t.Fatal(err)
		}
		if err := a.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		frames := AppendHello(nil, Hello{Version: Version, ServerID: tc.hello, NodeID: 5})
		frames, _, _ = AppendBatch(frames, []Envelope{{Group: 1, Msg: msg(raftpb.MsgHeartbeat, 5, 2, 0)}}, 1<<20)
		if _, err := a.Write(frames); err != nil && tc.ok {
			t.Fatal(err)
		}
		if tc.ok {
			eventually(t, 10*time.Second, "delivery", func() bool { return dst.in.len() == had+1 })
			a.Close()
			continue
		}
		var one [1]byte
		if _, err := a.Read(one[:]); err == nil || isTimeout(err) {
			t.Fatalf("hello of %q as %q: connection not closed (%v)", tc.hello, tc.authenticated, err)
		}
		a.Close()
	}
	if n := dst.in.len(); n != 2 {
		t.Fatalf("%d messages delivered, want 2", n)
	}
	eventually(t, 10*time.Second, "refusal counted", func() bool { return dst.tr.Stats().BadFrames == 1 })
}

// TestInboundReadDeadline checks that keepalives hold an idle connection
// open well past the read timeout, and that a sender gone silent is cut off.
func TestInboundReadDeadline(t *testing.T) {
	short := func(o *Options) {
		// Generous against a loaded machine: a keepalive is due every
		// 100ms, the reader gives up after 1s of silence.
		o.ReadTimeout = time.Second
		o.KeepaliveInterval = 100 * time.Millisecond
	}
	dst := startNode(t, 2, "", short)
	src := startNode(t, 1, "", short)
	if err := src.tr.AddPeer(2, dst.addr()); err != nil {
		t.Fatal(err)
	}
	src.connected(t, 2)
	// Thirty keepalives span three read timeouts.
	eventually(t, 30*time.Second, "keepalives", func() bool { return dst.tr.keepalives.Load() >= 30 })
	if st := src.peer(t, 2); st.Reconnects != 0 || !st.Connected {
		t.Fatalf("an idle connection was dropped: %+v", st)
	}
	if in := dst.tr.Stats().Inbound; len(in) != 1 || in[0].NodeID != 1 || in[0].ServerID != src.tr.opts.ServerID {
		t.Fatalf("inbound stats: %+v", in)
	}

	c, err := net.Dial("tcp", dst.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(AppendHello(nil, Hello{Version: Version, NodeID: 7})); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var one [1]byte
	if _, err := c.Read(one[:]); err == nil || isTimeout(err) {
		t.Fatalf("a silent sender was not cut off: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestCloseWithPeersDown checks that Close returns while peers are down,
// being redialled, or stuck in a dial that only the context ends.
func TestCloseWithPeersDown(t *testing.T) {
	src := startNode(t, 1, "", func(o *Options) {
		o.DialTimeout = time.Hour
		base := o.Dial
		o.Dial = func(ctx context.Context, id uint64, addr string) (net.Conn, error) {
			if id == 4 {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			if base == nil {
				return dialTCP(ctx, id, addr)
			}
			return base(ctx, id, addr)
		}
	})
	for id := uint64(2); id <= 4; id++ {
		if err := src.tr.AddPeer(id, deadAddr(t)); err != nil {
			t.Fatal(err)
		}
	}
	src.tr.Send([]Envelope{{Group: 1, Msg: msg(raftpb.MsgVote, 1, 2, 0)}, {Group: 1, Msg: msg(raftpb.MsgVote, 1, 4, 0)}})
	done := make(chan struct{})
	go func() {
		src.stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return")
	}
	noLeaks(t)
	if err := src.tr.AddPeer(5, "127.0.0.1:1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddPeer after Close: %v", err)
	}
	c1, c2 := net.Pipe()
	defer c2.Close()
	if err := src.tr.Serve(c1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

// TestQueueBounds fills a peer's queue behind a held write and checks that
// both the message and the byte bound drop what is over, and count it.
func TestQueueBounds(t *testing.T) {
	for _, tc := range []struct {
		name       string
		queueLen   int
		queueBytes int
		entry      int
		wantQueued int
	}{
		{"messages", 10, 1 << 20, 0, 10},
		{"bytes", 1000, 10 * (64 + 32 + 1000), 1000, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := startNode(t, 2, "", nil)
			gate := &gatedConn{blocked: make(chan struct{}), release: make(chan struct{})}
			src := startNode(t, 1, "", func(o *Options) {
				o.QueueLen, o.QueueBytes = tc.queueLen, tc.queueBytes
				o.Dial = gate.dial
			})
			if err := src.tr.AddPeer(2, dst.addr()); err != nil {
				t.Fatal(err)
			}
			src.connected(t, 2)
			one := func(i int) []Envelope {
				return []Envelope{{Group: 1, Msg: msg(raftpb.MsgApp, 1, 2, uint64(i), make([]byte, tc.entry))}}
			}
			src.tr.Send(one(0))
			<-gate.blocked
			for i := 1; i <= 25; i++ {
				src.tr.Send(one(i))
			}
			if st := src.peer(t, 2); st.QueueDepth != tc.wantQueued || st.Dropped != uint64(25-tc.wantQueued) {
				t.Fatalf("queued %d dropped %d, want %d and %d", st.QueueDepth, st.Dropped, tc.wantQueued, 25-tc.wantQueued)
			}
			close(gate.release)
			eventually(t, 10*time.Second, "the queue delivered", func() bool { return dst.in.len() == 1+tc.wantQueued })
		})
	}
}

// TestMembershipChanges adds and removes peers at run time.
func TestMembershipChanges(t *testing.T) {
	dst := startNode(t, 2, "", nil)
	src := startNode(t, 1, "", nil)
	hb := []Envelope{{Group: 3, Msg: msg(raftpb.MsgHeartbeat, 1, 2, 0)}}

	src.tr.Send(hb)
	if s := src.tr.Stats(); s.Unroutable != 1 || len(s.Peers) != 0 {
		t.Fatalf("before AddPeer: %+v", s)
	}
	for _, bad := range []uint64{0, 1} {
		if err := src.tr.AddPeer(bad, dst.addr()); err == nil {
			t.Fatalf("AddPeer(%d) accepted", bad)
		}
	}
	if err := src.tr.AddPeer(2, dst.addr()); err != nil {
		t.Fatal(err)
	}
	if err := src.tr.AddPeer(2, dst.addr()); err == nil {
		t.Fatal("a second AddPeer of the same id accepted")
	}
	src.connected(t, 2)
	src.tr.Send(hb)
	eventually(t, 10*time.Second, "delivery", func() bool { return dst.in.len() == 1 })

	src.tr.RemovePeer(2)
	src.tr.RemovePeer(2)
	src.tr.Send(hb)
	if s := src.tr.Stats(); s.Unroutable != 2 || len(s.Peers) != 0 {
		t.Fatalf("after RemovePeer: %+v", s)
	}
	eventually(t, 10*time.Second, "the removed peer's connection closed at the receiver", func() bool { return len(dst.tr.Stats().Inbound) == 0 })

	if err := src.tr.AddPeer(2, dst.addr()); err != nil {
		t.Fatal(err)
	}
	src.connected(t, 2)
	src.tr.Send(hb)
	eventually(t, 10*time.Second, "delivery after re-adding", func() bool { return dst.in.len() == 2 })
	if got := dst.in.snapshot()[1]; got.Group != 3 || !proto.Equal(got.Msg, hb[0].Msg) {
		t.Fatal("wrong message delivered")
	}
}

func TestOptionsValidated(t *testing.T) {
	h := func([]Envelope) {}
	tests := []struct {
		name string
		opts Options
	}{
		{"no node id", Options{Handler: h}},
		{"no handler", Options{NodeID: 1}},
		{"keepalive too slow", Options{NodeID: 1, Handler: h, ReadTimeout: time.Second, KeepaliveInterval: time.Second}},
		{"frame too large", Options{NodeID: 1, Handler: h, MaxFrameSize: MaxFrameLimit + 1}},
		{"server id too long", Options{NodeID: 1, Handler: h, ServerID: string(make([]byte, maxServerID+1))}},
	}
	for _, tc := range tests {
		if _, err := New(tc.opts); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := New(Options{NodeID: 1, Handler: h}); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}

// reports records what the transport's callbacks are told.
type reports struct {
	mu          sync.Mutex
	snaps       []string
	unreachable map[uint64]int
}

func (r *reports) snapshot(group, to uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps, fmt.Sprintf("g%d->%d:%v", group, to, ok))
}

func (r *reports) down(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unreachable[id]++
}

func (r *reports) get() ([]string, map[uint64]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.snaps), maps.Clone(r.unreachable)
}

// TestReports checks the snapshot outcomes and unreachable peers reported
// to the raft loop.
func TestReports(t *testing.T) {
	r := &reports{unreachable: map[uint64]int{}}
	dst := startNode(t, 2, "", nil)
	src := startNode(t, 1, "", func(o *Options) {
		o.MaxFrameSize = 1 << 16
		o.SnapshotStatus = r.snapshot
		o.Unreachable = r.down
	})
	for id, addr := range map[uint64]string{2: dst.addr(), 3: deadAddr(t)} {
		if err := src.tr.AddPeer(id, addr); err != nil {
			t.Fatal(err)
		}
	}
	src.connected(t, 2)
	snap := func(group, to uint64, size int) Envelope {
		m := msg(raftpb.MsgSnap, 1, to, 0)
		m.Snapshot = &raftpb.Snapshot{Data: make([]byte, size)}
		return Envelope{Group: group, Msg: m}
	}
	src.tr.Send([]Envelope{
		snap(1, 2, 10),    // delivered
		snap(2, 3, 10),    // peer down
		snap(3, 4, 10),    // no such peer
		snap(4, 2, 1<<17), // larger than a frame
		{Group: 5, Msg: msg(raftpb.MsgHeartbeat, 1, 2, 0)}, // not a snapshot: no report
	})
	want := []string{"g1->2:true", "g2->3:false", "g3->4:false", "g4->2:false"}
	eventually(t, 10*time.Second, "snapshot reports", func() bool {
		got, _ := r.get()
		slices.Sort(got)
		return slices.Equal(got, want)
	})
	eventually(t, 10*time.Second, "peer 3 reported unreachable", func() bool {
		_, down := r.get()
		return down[3] > 0
	})
	eventually(t, 10*time.Second, "delivery", func() bool { return dst.in.len() == 2 })
	if _, down := r.get(); down[2] != 0 {
		t.Fatalf("a connected peer reported unreachable: %v", down)
	}
}

// TestChurn runs Sends from several goroutines, stats readers and peers
// added and removed at run time all at once, for the race detector and for
// deadlocks, then checks Close leaves nothing behind.
func TestChurn(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	dsts := map[uint64]*node{}
	for id := uint64(2); id <= 4; id++ {
		dsts[id] = startNode(t, id, "", nil)
	}
	src := startNode(t, 1, "", func(o *Options) { o.QueueLen = 64 })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				to := 2 + rng.Uint64N(4) // 5 is never a peer
				src.tr.Send([]Envelope{{Group: uint64(g), Msg: msg(raftpb.MsgHeartbeat, 1, to, uint64(i))}})
				if i%100 == 0 {
					_ = src.tr.Stats()
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for range 60 {
		id := 2 + rng.Uint64N(3)
		if _, ok := src.tr.PeerStats(id); ok {
			src.tr.RemovePeer(id)
		} else if err := src.tr.AddPeer(id, dsts[id].addr()); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		time.Sleep(time.Millisecond) // pacing only: let some Sends through
	}
	close(stop)
	wg.Wait()
	src.stop()
	for _, d := range dsts {
		d.stop()
	}
	noLeaks(t)
	if s := src.tr.Stats(); s.Unroutable == 0 {
		t.Fatalf("seed %d: no message to the unknown peer counted", seed)
	}
}
