// Package jscluster is clustered JetStream's runtime on one server: it
// wires the server's Raft groups (internal/raftnode) to their log and to
// the Raft transport (internal/raftnet) carried over the cluster port
// (internal/core's Raft connections). The meta group and the streams'
// groups run on it.
package jscluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/raftnet"
	"github.com/starling-mq/starling/internal/raftnode"
)

// NodeID is a server's Raft node id in every group: a hash of its server
// name (which a JetStream cluster requires to be set and unique), so every
// server computes every other's without asking, and a restarted server
// keeps its id.
func NodeID(serverName string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(serverName))
	if id := h.Sum64(); id != 0 {
		return id
	}
	return 1
}

// Config sets up a Node.
type Config struct {
	Server     *core.Server
	ServerName string
	Storage    raftnode.Storage
	// Raft tunes the groups; zero fields take raftnode.DefaultOptions.
	Raft raftnode.Options
	// UnknownGroup hears of a leader's message for a group this server
	// does not run (raftnode.Options.UnknownGroup).
	UnknownGroup func(group, from uint64)
	Logger       *slog.Logger
}

// Node is this server's Raft host and transport.
type Node struct {
	ID   uint64
	Host *raftnode.Host
	net  *raftnet.Transport
	srv  *core.Server
	log  *slog.Logger
}

// Start builds the transport over the cluster port and the host over it,
// and takes the Raft connections the cluster port accepts.
func Start(cfg Config) (*Node, error) {
	if cfg.Server == nil || cfg.ServerName == "" || cfg.Storage == nil {
		return nil, errors.New("jscluster: a server, its name and a storage are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Node{ID: NodeID(cfg.ServerName), srv: cfg.Server, log: cfg.Logger.With("subsystem", "raft")}
	var host *raftnode.Host
	tr, err := raftnet.New(raftnet.Options{
		ServerID: cfg.Server.ID(),
		NodeID:   n.ID,
		Dial: func(ctx context.Context, _ uint64, addr string) (net.Conn, error) {
			return cfg.Server.DialRaft(ctx, addr)
		},
		Handler: func(msgs []raftnet.Envelope) {
			host.Step(toNode(msgs))
		},
		// Set before the first Send, which only the host makes.
		Unreachable:    func(node uint64) { host.ReportUnreachable(node) },
		SnapshotStatus: func(group, to uint64, ok bool) { host.ReportSnapshot(group, to, ok) },
		Logger:         n.log,
	})
	if err != nil {
		return nil, err
	}
	n.net = tr
	opts := raftnode.DefaultOptions()
	mergeOptions(&opts, cfg.Raft)
	opts.NodeID, opts.Storage, opts.Transport, opts.Logger = n.ID, cfg.Storage, sender{tr}, n.log
	opts.UnknownGroup = cfg.UnknownGroup
	if host, err = raftnode.New(opts); err != nil {
		tr.Close()
		return nil, err
	}
	n.Host = host
	host.Start()
	cfg.Server.SetRaftHandler(func(conn net.Conn, peerID string) {
		if err := tr.ServeAs(conn, peerID); err != nil {
			n.log.Debug("raft connection not served", "peer", peerID, "err", err)
		}
	})
	return n, nil
}

// AddPeer tells the transport where another server's cluster port is.
func (n *Node) AddPeer(serverName, clusterAddr string) error {
	return n.net.AddPeer(NodeID(serverName), clusterAddr)
}

// Transport is the node's transport, for its statistics.
func (n *Node) Transport() *raftnet.Transport { return n.net }

// Close stops taking Raft connections, then the host, then the transport.
func (n *Node) Close() error {
	n.srv.SetRaftHandler(nil)
	return errors.Join(n.Host.Close(), n.net.Close())
}

// sender is the transport as the host sees it.
type sender struct{ t *raftnet.Transport }

func (s sender) Send(msgs []raftnode.Envelope) {
	out := make([]raftnet.Envelope, len(msgs))
	for i, m := range msgs {
		out[i] = raftnet.Envelope(m)
	}
	s.t.Send(out)
}

func toNode(msgs []raftnet.Envelope) []raftnode.Envelope {
	out := make([]raftnode.Envelope, len(msgs))
	for i, m := range msgs {
		out[i] = raftnode.Envelope(m)
	}
	return out
}

// mergeOptions copies the tunables set in from into to.
func mergeOptions(to *raftnode.Options, from raftnode.Options) {
	if from.TickInterval > 0 {
		to.TickInterval = from.TickInterval
	}
	if from.ElectionTicks > 0 {
		to.ElectionTicks = from.ElectionTicks
	}
	if from.HeartbeatTicks > 0 {
		to.HeartbeatTicks = from.HeartbeatTicks
	}
	if from.SnapshotEntries > 0 {
		to.SnapshotEntries = from.SnapshotEntries
	}
	if from.Ticker != nil {
		to.Ticker = from.Ticker
	}
	if from.Seed != 0 {
		to.Seed = from.Seed
	}
}

// String names the node for logs.
func (n *Node) String() string { return fmt.Sprintf("raft node %x", n.ID) }

// GroupID is the Raft group id of a stream's or consumer's group, from the
// group name the meta group gave it (unique in the cluster): every member
// computes it alike. It is never MetaGroup or 0.
func GroupID(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("group:"))
	h.Write([]byte(name))
	if id := h.Sum64(); id > MetaGroup {
		return id
	}
	return MetaGroup + 1
}
