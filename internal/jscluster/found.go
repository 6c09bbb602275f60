package jscluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/starling-mq/starling/internal/core"
)

// Founding the meta group (docs/replication.md): etcd raft needs every
// founding member to start with the same configuration, so each server
// waits until it sees as many JetStream servers as the cluster expects
// (itself included) and founds the group with exactly those, sorted by
// node id. Every founder computes the same set from the same
// configuration.

// Expected is how many JetStream servers a server waits for before it
// founds the meta group: as nats-server sizes it, the number of routes
// its cluster block names (a configuration that lists every server, this
// one included), and at least two.
func Expected(configuredRoutes int) int { return max(2, configuredRoutes) }

// Founders decides the founding members from this server's name and the
// Starling peers it sees: ready once expected JetStream servers are known.
// More than expected is an error (the configuration and the cluster
// disagree): founding with either set could split the cluster.
func Founders(self string, peers []core.ClusterPeer, expected int) (names []string, ready bool, err error) {
	names = []string{self}
	for _, p := range peers {
		if p.JetStream && p.Name != "" && p.Name != self {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	switch {
	case len(names) < expected:
		return names, false, nil
	case len(names) > expected:
		return names, false, fmt.Errorf("jetstream cluster: %d JetStream servers seen (%v) where the cluster's routes name %d: refusing to found the meta group", len(names), names, expected)
	}
	return names, true, nil
}

// Peers keeps the transport's peers in step with the routes: every
// Starling JetStream server with a route up is dialled at its cluster
// port.
type Peers struct {
	node *Node
	srv  *core.Server

	mu    sync.Mutex
	addrs map[string]string // by server name
}

// FollowPeers starts keeping n's transport in step with srv's routes and
// returns the follower. then, when not nil, is called after each change
// was applied (founding waits for peers this way).
func FollowPeers(n *Node, srv *core.Server, then func()) *Peers {
	p := &Peers{node: n, srv: srv, addrs: map[string]string{}}
	srv.OnClusterPeers(func() {
		p.Sync()
		if then != nil {
			then()
		}
	})
	p.Sync()
	return p
}

// Sync adds the peers the routes show, and moves one whose address
// changed. Peers that went away are kept: they may come back, and the
// transport redials them.
func (p *Peers) Sync() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, cp := range p.srv.ClusterPeers() {
		if !cp.JetStream || cp.Name == "" || cp.Addr == "" || p.addrs[cp.Name] == cp.Addr {
			continue
		}
		if p.addrs[cp.Name] != "" {
			p.node.net.RemovePeer(NodeID(cp.Name))
		}
		if err := p.node.AddPeer(cp.Name, cp.Addr); err != nil {
			p.node.log.Warn("raft peer not added", "peer", cp.Name, "err", err)
			continue
		}
		p.addrs[cp.Name] = cp.Addr
	}
}

// Stop stops following the routes.
func (p *Peers) Stop() { p.srv.OnClusterPeers(nil) }

// ErrNotReady is Found's error while fewer JetStream servers than expected
// are known.
var ErrNotReady = errors.New("jetstream cluster: waiting for the expected JetStream servers")

// Found starts this server's meta member with the founders, once they
// are known (ErrNotReady before).
func (n *Node) Found(ctx context.Context, self string, expected int, h Hosting) (*Meta, error) {
	names, ready, err := Founders(self, n.srv.ClusterPeers(), expected)
	if err != nil {
		return nil, err
	}
	if !ready {
		return nil, ErrNotReady
	}
	ids := make([]uint64, len(names))
	for i, name := range names {
		ids[i] = NodeID(name)
	}
	return n.StartMeta(ctx, ids, h)
}
