package core

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nuid"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/proto"
)

// The cluster's listener, its name, and the dialers that keep this
// server's routes up (dialer.go). See route.go for the protocol and
// gossip.go for how servers learn of each other.

// cluster is the server's cluster state.
type cluster struct {
	mu      sync.Mutex
	ln      net.Listener
	name    string // the cluster's name: configured, or generated (dynamic)
	dynamic bool   // name was generated, and yields to a configured one
	// explicit are the dialers of the configured routes, by URL (with its
	// credentials, so a change of them is a new dialer); implicit those of
	// routes learned by gossip, by the peer's server ID.
	explicit map[string]*dialer
	implicit map[string]*dialer
	// peerURLs are the client URLs each peer announced in its route INFO,
	// by server ID: what clients learn as connect_urls (urls.go).
	peerURLs   map[string][]string
	advertised bool // a peer announced URLs: clients get connect_urls from then on
}

// clusterName is the name this server's routes announce.
func (s *Server) clusterName() string {
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	return s.cluster.name
}

// startClusterLocked opens the cluster listener and dials the explicit
// routes, when clustering is on. s.mu is held.
func (s *Server) startClusterLocked() error {
	c := &s.getOpts().Cluster
	if !c.Enabled() {
		return nil
	}
	cl := &s.cluster
	cl.mu.Lock()
	cl.name, cl.dynamic = c.Name, c.Name == ""
	if cl.dynamic {
		cl.name = nuid.Next()
	}
	cl.explicit, cl.implicit, cl.peerURLs = map[string]*dialer{}, map[string]*dialer{}, map[string][]string{}
	cl.mu.Unlock()
	port := c.Port
	if port == options.RandomPort {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen for routes: %w", err)
	}
	cl.mu.Lock()
	cl.ln = ln
	cl.mu.Unlock()
	s.log.Info("listening for route connections", "addr", ln.Addr().String(), "cluster", s.clusterName())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveRoutes(ln)
	}()
	s.setExplicitRoutes(c.Routes)
	return nil
}

// ClusterAddr is the cluster listener's address, nil without one.
func (s *Server) ClusterAddr() net.Addr {
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	if s.cluster.ln == nil {
		return nil
	}
	return s.cluster.ln.Addr()
}

// stopCluster closes the cluster listener and stops every dialer;
// Shutdown closes the routes.
func (s *Server) stopCluster() {
	cl := &s.cluster
	cl.mu.Lock()
	ln := cl.ln
	var ds []*dialer
	for _, d := range cl.explicit {
		ds = append(ds, d)
	}
	for _, d := range cl.implicit {
		ds = append(ds, d)
	}
	cl.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, d := range ds {
		d.halt()
	}
}

// setExplicitRoutes makes the configured routes those of urls: a dialer
// starts for each new URL, and the dialer of each URL no longer there
// stops and closes its route.
func (s *Server) setExplicitRoutes(urls []*url.URL) {
	cl := &s.cluster
	want := make(map[string]*url.URL, len(urls))
	for _, u := range urls {
		want[u.String()] = u
	}
	var start, stop []*dialer
	cl.mu.Lock()
	if cl.explicit == nil { // clustering is off
		cl.mu.Unlock()
		return
	}
	for key, d := range cl.explicit {
		if want[key] == nil {
			delete(cl.explicit, key)
			stop = append(stop, d)
		}
	}
	for key, u := range want {
		if cl.explicit[key] == nil {
			d := newDialer(u, false, "")
			cl.explicit[key] = d
			start = append(start, d)
		}
	}
	cl.mu.Unlock()
	for _, d := range stop {
		s.log.Info("route removed from the configuration", "url", d.url.Redacted())
		d.halt()
	}
	for _, d := range start {
		s.startDialer(d)
	}
}

// isExplicitRoute reports whether host:port is the address of a
// configured route (compared as nats-server does, case-insensitively).
func (s *Server) isExplicitRoute(hostPorts ...string) bool {
	cl := &s.cluster
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, d := range cl.explicit {
		for _, hp := range hostPorts {
			if hp != "" && strings.EqualFold(d.url.Host, hp) {
				return true
			}
		}
	}
	return false
}

// routeConnect is the CONNECT this server sends on a route it dials to u,
// presenting u's credentials.
func (s *Server) routeConnect(u *url.URL) *proto.RouteConnect {
	connect := &proto.RouteConnect{Headers: true, Name: s.id, Cluster: s.clusterName()}
	s.cluster.mu.Lock()
	connect.ClusterDynamic = s.cluster.dynamic
	s.cluster.mu.Unlock()
	if u != nil && u.User != nil {
		connect.User = u.User.Username()
		connect.Pass, _ = u.User.Password()
	}
	return connect
}

// checkRouteConnect checks a dialler's CONNECT on an accepted route: its
// credentials (when the cluster has an authorization block) and its
// cluster name. It returns the -ERR text to close with, or "".
func (s *Server) checkRouteConnect(c *proto.RouteConnect) string {
	o := &s.getOpts().Cluster
	if o.Username != "" || o.Password != "" {
		userOK := auth.EqualConstantTime(c.User, o.Username)
		passOK := auth.CheckPassword(o.Password, c.Pass) // plain or bcrypt
		if !userOK || !passOK {
			return proto.ErrTextAuthViolation
		}
	}
	return s.checkClusterName(c.Cluster, c.ClusterDynamic)
}

// checkClusterName compares a peer's cluster name with this server's. A
// generated name yields to a configured one (or to a lower generated one,
// so that servers started without names agree on one). It returns the
// -ERR text to close with, or "".
func (s *Server) checkClusterName(theirs string, theirsDynamic bool) string {
	s.cluster.mu.Lock()
	defer s.cluster.mu.Unlock()
	ours := s.cluster.name
	if theirs == "" || theirs == ours {
		return ""
	}
	if s.cluster.dynamic && (!theirsDynamic || theirs < ours) {
		s.cluster.name = theirs
		s.cluster.dynamic = theirsDynamic
		return ""
	}
	if theirsDynamic {
		return "" // they yield to ours
	}
	return fmt.Sprintf("Rejecting connection, cluster name %q does not match %q", theirs, ours)
}
