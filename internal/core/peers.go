package core

import (
	"net"
	"slices"
	"sort"
)

// Starling servers of a cluster tell each other, in their route INFO,
// whether they run JetStream (a field nats-server ignores: nats-server's
// own "jetstream" flag is left unset, so a nats-server of a mixed cluster
// never counts a Starling server among its JetStream peers). Replicated
// JetStream finds its peers here: each Starling server with a route up,
// its name, whether it runs JetStream, and where its cluster port is.

// ClusterPeer is another Starling server with a route up.
type ClusterPeer struct {
	ID, Name string
	// Addr is where to dial its cluster listener: the host:port of a
	// configured route that leads to it, else the first dialable address
	// its route knows it by.
	Addr      string
	JetStream bool
	Meta      []string // the members of the JetStream meta group its route INFO said it is in
}

// AnnounceJetStream sets whether this server's route INFO says it runs
// JetStream (before Start: the INFO is sent when a route comes up).
func (s *Server) AnnounceJetStream(on bool) { s.announceJS.Store(on) }

// AnnounceMeta sets the members of the JetStream meta group this server
// is in, named in the route INFO it sends from now on.
func (s *Server) AnnounceMeta(members []string) {
	m := slices.Clone(members)
	s.announceMeta.Store(&m)
}

// metaMembers is what AnnounceMeta set, nil before.
func (s *Server) metaMembers() []string {
	if m := s.announceMeta.Load(); m != nil {
		return *m
	}
	return nil
}

// OnClusterPeers sets fn to be called whenever a route to a Starling
// server comes up or goes down. It is called on a goroutine of its own,
// with no lock held; fn should read ClusterPeers and return.
func (s *Server) OnClusterPeers(fn func()) {
	if fn == nil {
		s.peersChanged.Store(nil)
		return
	}
	s.peersChanged.Store(&fn)
}

// notifyPeers runs the OnClusterPeers callback, off the route's goroutine.
func (s *Server) notifyPeers(r *route) {
	if !r.peerStarling.Load() {
		return
	}
	if fn := s.peersChanged.Load(); fn != nil {
		go (*fn)()
	}
}

// ClusterPeers lists the Starling servers with a route up, by name.
func (s *Server) ClusterPeers() []ClusterPeer {
	s.mu.Lock()
	routes := make([]*route, 0, len(s.routes))
	for _, r := range s.routes {
		routes = append(routes, r)
	}
	s.mu.Unlock()
	dialled := s.dialledPeers()
	var out []ClusterPeer
	for _, r := range routes {
		if !r.peerStarling.Load() {
			continue
		}
		r.mu.Lock()
		p := ClusterPeer{ID: r.remoteID, Name: r.remoteName, JetStream: r.peerJS.Load(), Meta: r.peerMeta, Addr: dialable(r.addrs)}
		r.mu.Unlock()
		if a := dialled[p.Name]; a != "" && p.Name != "" {
			p.Addr = a
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// dialledPeers maps the name of each server a configured route leads to
// onto that route's host:port (the smallest, when several lead to one
// server). A peer is dialled there in preference to the addresses it
// advertises: the operator named that address, and it may be the only
// way there (a proxy or a NAT in between, where the advertised address
// is for the far side), whichever of the two servers' routes won.
func (s *Server) dialledPeers() map[string]string {
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	out := map[string]string{}
	for _, d := range s.cluster.explicit {
		d.mu.Lock()
		name := d.reached
		d.mu.Unlock()
		if name == "" {
			continue
		}
		if cur, ok := out[name]; !ok || d.url.Host < cur {
			out[name] = d.url.Host
		}
	}
	return out
}

// dialable is the first of a route's peer addresses that can be dialled:
// a listener on 0.0.0.0 names no host, so the address the route came
// from (or was dialled at) is taken instead.
func dialable(addrs []string) string {
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
			return a
		}
	}
	return ""
}

// ForeignRoutes counts the routes up to servers that said, in their
// INFO, that they are not Starling (nats-server peers of a mixed
// cluster). A route whose INFO has not come yet is not counted.
func (s *Server) ForeignRoutes() int {
	s.mu.Lock()
	routes := make([]*route, 0, len(s.routes))
	for _, r := range s.routes {
		routes = append(routes, r)
	}
	s.mu.Unlock()
	n := 0
	for _, r := range routes {
		r.mu.Lock()
		known := r.remoteID != ""
		r.mu.Unlock()
		if known && !r.peerStarling.Load() {
			n++
		}
	}
	return n
}
