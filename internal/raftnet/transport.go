package raftnet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// ErrClosed is returned by calls on a closed transport.
var ErrClosed = errors.New("raftnet: transport closed")

// DialFunc opens a connection to a peer. It must honour ctx (the transport
// cancels it at Close and RemovePeer) and return a connection ready for
// raftnet's hello: any handshake of the cluster port is done inside it.
type DialFunc func(ctx context.Context, nodeID uint64, addr string) (net.Conn, error)

// Options configure a transport. Zero durations and sizes take defaults.
type Options struct {
	ServerID string // this server's name, sent in the hello
	NodeID   uint64 // this server's raft node id, sent in the hello; not 0

	// Dial opens outbound connections; nil dials TCP.
	Dial DialFunc
	// Handler receives every inbound batch, on the reader goroutine of the
	// connection it came on; the slice and the messages are its own. It
	// should only queue: a slow handler holds up that peer's connection,
	// and Close waits for it.
	Handler func(msgs []Envelope)
	// Accept, when set, vets an inbound hello; an error closes the
	// connection.
	Accept func(h Hello) error
	// Unreachable, when set, is told each time a dial to a peer or a
	// connection to it fails; the raft loop passes it on to
	// RawNode.ReportUnreachable for the groups the peer is in.
	Unreachable func(nodeID uint64)
	// SnapshotStatus, when set, is told the fate of every MsgSnap given
	// to Send: ok once its frame is written, not ok when it is dropped.
	// The raft loop passes it on to RawNode.ReportSnapshot: etcd raft
	// sends a follower nothing more after a snapshot until it hears.
	//
	// Both callbacks run on the goroutine of Send or of a peer's writer,
	// with no lock of the transport held. They must not block (queue, or
	// drop when full): RemovePeer and Close wait for the writers.
	SnapshotStatus func(group, to uint64, ok bool)

	QueueLen          int           // messages queued per peer (4096)
	QueueBytes        int           // payload bytes queued per peer (64 MiB)
	MaxFrameSize      int           // largest frame body, both ways (16 MiB)
	DialTimeout       time.Duration // one dial, handshakes inside Dial included (5s)
	WriteTimeout      time.Duration // one frame write (5s)
	ReadTimeout       time.Duration // silence after which an inbound connection is dropped (10s)
	KeepaliveInterval time.Duration // idle time after which a writer sends a keepalive (ReadTimeout/4)
	BackoffMin        time.Duration // first wait before a redial (50ms)
	BackoffMax        time.Duration // longest wait before a redial (2s)

	Logger *slog.Logger // nil discards
}

func (o *Options) setDefaults() error {
	if o.NodeID == 0 {
		return errors.New("raftnet: NodeID must not be 0")
	}
	if o.Handler == nil {
		return errors.New("raftnet: Handler is required")
	}
	if o.Dial == nil {
		o.Dial = dialTCP
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.DialTimeout, 5*time.Second)
	def(&o.WriteTimeout, 5*time.Second)
	def(&o.ReadTimeout, 10*time.Second)
	def(&o.KeepaliveInterval, o.ReadTimeout/4)
	def(&o.BackoffMin, 50*time.Millisecond)
	def(&o.BackoffMax, 2*time.Second)
	// A writer may stay silent for up to 1.5 intervals (it skips a
	// keepalive right after a write), which must stay under the reader's
	// timeout.
	if 2*o.KeepaliveInterval > o.ReadTimeout {
		return fmt.Errorf("raftnet: KeepaliveInterval %v above half the ReadTimeout %v", o.KeepaliveInterval, o.ReadTimeout)
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 4096
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 64 << 20
	}
	if o.MaxFrameSize <= 0 {
		o.MaxFrameSize = 16 << 20
	}
	if o.MaxFrameSize > MaxFrameLimit {
		return fmt.Errorf("raftnet: MaxFrameSize %d above %d", o.MaxFrameSize, MaxFrameLimit)
	}
	if len(o.ServerID) > maxServerID {
		return fmt.Errorf("raftnet: ServerID longer than %d bytes", maxServerID)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func dialTCP(ctx context.Context, _ uint64, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// Transport carries raft messages between this server and its peers: one
// outbound connection per peer, fed by a bounded queue, and any number of
// inbound connections handed in by Serve.
type Transport struct {
	opts Options
	log  *slog.Logger

	mu      sync.RWMutex
	closed  bool
	peers   map[uint64]*peer
	inbound map[net.Conn]*inConn

	wg sync.WaitGroup // inbound readers; peers have their own done channels

	unroutable atomic.Uint64 // messages to no known peer
	received   atomic.Uint64 // messages handed to the handler
	badFrames  atomic.Uint64 // inbound connections ended by bad input
	keepalives atomic.Uint64 // keepalive frames received, for tests
}

// New validates opts and returns a transport with no peers.
func New(opts Options) (*Transport, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	return &Transport{
		opts:    opts,
		log:     opts.Logger.With("node", opts.NodeID),
		peers:   make(map[uint64]*peer),
		inbound: make(map[net.Conn]*inConn),
	}, nil
}

// AddPeer starts the connection to a peer, the server whose raft node id is
// nodeID; messages whose To is nodeID go to it from now on.
func (t *Transport) AddPeer(nodeID uint64, addr string) error {
	if nodeID == 0 || nodeID == t.opts.NodeID {
		return fmt.Errorf("raftnet: bad peer id %d", nodeID)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if _, ok := t.peers[nodeID]; ok {
		return fmt.Errorf("raftnet: peer %d already added", nodeID)
	}
	p := newPeer(t, nodeID, addr)
	t.peers[nodeID] = p
	go p.run()
	return nil
}

// RemovePeer stops the connection to a peer and waits for its writer to
// end; its queued messages are dropped. Removing an unknown peer is a no-op.
func (t *Transport) RemovePeer(nodeID uint64) {
	t.mu.Lock()
	p := t.peers[nodeID]
	delete(t.peers, nodeID)
	t.mu.Unlock()
	if p != nil {
		p.stop()
		<-p.done
	}
}

// Send queues messages to their peers (by each message's To) and returns at
// once. A message to an unknown peer, to a peer not connected, or to a full
// queue is dropped and counted: raft retransmits. The transport owns the
// messages from here on; the caller must not modify them.
func (t *Transport) Send(msgs []Envelope) {
	var snaps []Envelope // snapshots dropped, reported once the lock is released
	t.mu.RLock()
	for i := 0; i < len(msgs); {
		to := msgs[i].Msg.GetTo()
		// Runs of messages to one peer are queued under one lock.
		j := i + 1
		for j < len(msgs) && msgs[j].Msg.GetTo() == to {
			j++
		}
		if p := t.peers[to]; p != nil {
			snaps = p.enqueue(msgs[i:j], snaps)
		} else {
			t.unroutable.Add(uint64(j - i))
			snaps = appendSnaps(snaps, msgs[i:j])
		}
		i = j
	}
	t.mu.RUnlock()
	t.reportSnaps(snaps, false)
}

// appendSnaps appends the snapshots among msgs to dst.
func appendSnaps(dst, msgs []Envelope) []Envelope {
	for _, e := range msgs {
		if e.Msg.GetType() == raftpb.MsgSnap {
			dst = append(dst, e)
		}
	}
	return dst
}

func (t *Transport) reportSnaps(snaps []Envelope, ok bool) {
	if t.opts.SnapshotStatus == nil {
		return
	}
	for _, e := range snaps {
		if e.Msg.GetType() == raftpb.MsgSnap {
			t.opts.SnapshotStatus(e.Group, e.Msg.GetTo(), ok)
		}
	}
}

// Serve takes an inbound connection (accepted, and past any handshake of the
// cluster port, by the caller) and reads it on a goroutine of its own until
// it fails, sends bad input, or the transport closes.
func (t *Transport) Serve(conn net.Conn) error { return t.ServeAs(conn, "") }

// ServeAs is Serve for a connection whose sender the caller has already
// authenticated as the server serverID (the cluster port's handshake): a
// hello naming another server is refused. An empty serverID checks nothing.
func (t *Transport) ServeAs(conn net.Conn, serverID string) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		conn.Close()
		return ErrClosed
	}
	in := &inConn{conn: conn, remote: conn.RemoteAddr().String(), want: serverID}
	t.inbound[conn] = in
	t.wg.Add(1)
	t.mu.Unlock()
	go t.read(in)
	return nil
}

// Close stops every peer and inbound connection and waits for their
// goroutines. It is idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.closed = true
	peers := make([]*peer, 0, len(t.peers))
	for id, p := range t.peers {
		peers = append(peers, p)
		delete(t.peers, id)
	}
	for c := range t.inbound {
		c.Close()
	}
	t.mu.Unlock()
	for _, p := range peers {
		p.stop()
	}
	for _, p := range peers {
		<-p.done
	}
	t.wg.Wait()
	return nil
}

// PeerStats counts one peer's traffic.
type PeerStats struct {
	NodeID     uint64
	Addr       string
	Connected  bool
	Sent       uint64 // messages written to a connection
	Dropped    uint64 // messages dropped: queue full, not connected, lost with a connection, too large
	Frames     uint64 // batch frames written
	Reconnects uint64 // connections made after the first
	QueueDepth int
}

// Stats counts the transport's traffic.
type Stats struct {
	Peers      []PeerStats    // by NodeID
	Inbound    []InboundStats // open inbound connections, by NodeID then Remote
	Received   uint64         // messages handed to the handler
	BadFrames  uint64         // inbound connections ended by bad input
	Unroutable uint64         // messages to no known peer
}

// InboundStats describes one inbound connection.
type InboundStats struct {
	Remote   string // the remote address
	ServerID string // from the hello; empty before it
	NodeID   uint64 // from the hello; 0 before it
	Received uint64 // messages handed to the handler
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats {
	t.mu.RLock()
	s := Stats{
		Received:   t.received.Load(),
		BadFrames:  t.badFrames.Load(),
		Unroutable: t.unroutable.Load(),
	}
	for _, p := range t.peers {
		s.Peers = append(s.Peers, p.stats())
	}
	for _, in := range t.inbound {
		s.Inbound = append(s.Inbound, in.stats())
	}
	t.mu.RUnlock()
	slices.SortFunc(s.Peers, func(a, b PeerStats) int { return cmp.Compare(a.NodeID, b.NodeID) })
	slices.SortFunc(s.Inbound, func(a, b InboundStats) int {
		return cmp.Or(cmp.Compare(a.NodeID, b.NodeID), cmp.Compare(a.Remote, b.Remote))
	})
	return s
}

// PeerStats returns one peer's counters.
func (t *Transport) PeerStats(nodeID uint64) (PeerStats, bool) {
	t.mu.RLock()
	p := t.peers[nodeID]
	t.mu.RUnlock()
	if p == nil {
		return PeerStats{}, false
	}
	return p.stats(), true
}
