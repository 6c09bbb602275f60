package jscluster

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/core"
)

// Founding the meta group (docs/replication.md): etcd raft needs every
// founding member to start with the same configuration, so each server
// waits until it sees as many JetStream servers as the cluster expects
// (itself included) and founds the group with exactly those, sorted by
// node id. Every founder computes the same set from the same
// configuration.

// Expected is how many JetStream servers a server waits for before it
// founds the meta group: as nats-server sizes it, the number of servers
// its cluster block's routes name (itself included), and at least two.
func Expected(configured int) int { return max(2, configured) }

// Founders lists the founding candidates: this server and the Starling
// JetStream servers it sees, by name, sorted.
func Founders(self string, peers []core.ClusterPeer) []string {
	names := []string{self}
	for _, p := range peers {
		if p.JetStream && p.Name != "" && p.Name != self {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// FoundQuiet is how long a set of servers larger than expected must stay
// the same before it founds the group: a cluster block that names fewer
// routes than there are servers (a seed server) cannot say how many will
// come, so the servers found once the mesh has settled, when every one of
// them sees the same set.
const FoundQuiet = 2 * time.Second

// Founding decides when the candidates found the meta group. It is pure:
// the caller observes the candidates as routes come and go.
type Founding struct {
	Expected int
	Quiet    time.Duration

	last  []string
	since time.Time
}

// Observe notes the candidates seen at now and reports whether to found
// with them: at once when exactly the expected number is there, after
// Quiet without change when more are.
func (f *Founding) Observe(names []string, now time.Time) bool {
	if !slices.Equal(names, f.last) {
		f.last, f.since = slices.Clone(names), now
	}
	switch {
	case len(names) < f.Expected:
		return false
	case len(names) == f.Expected:
		return true
	}
	return now.Sub(f.since) >= f.Quiet
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

// Found starts this server's meta member as one of the founders (server
// names, this one's included).
func (n *Node) Found(ctx context.Context, names []string, h Hosting) (*Meta, error) {
	ids := make([]uint64, len(names))
	for i, name := range names {
		ids[i] = NodeID(name)
	}
	return n.StartMeta(ctx, ids, h)
}
