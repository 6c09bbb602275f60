package core

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nuid"

	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/proto"
)

// The cluster's listener and the routes this server dials. Explicit routes
// (cluster { routes }) are dialled at start and redialled whenever they
// drop, for as long as the server runs; a route that turns out to lead to
// this server itself is given up. See route.go for the protocol.

// cluster is the server's cluster state.
type cluster struct {
	mu      sync.Mutex
	ln      net.Listener
	name    string // the cluster's name: configured, or generated (dynamic)
	dynamic bool   // name was generated, and yields to a configured one
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
	s.cluster.mu.Lock()
	s.cluster.name, s.cluster.dynamic = c.Name, c.Name == ""
	if s.cluster.dynamic {
		s.cluster.name = nuid.Next()
	}
	s.cluster.mu.Unlock()
	port := c.Port
	if port == options.RandomPort {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen for routes: %w", err)
	}
	s.cluster.mu.Lock()
	s.cluster.ln = ln
	s.cluster.mu.Unlock()
	s.log.Info("listening for route connections", "addr", ln.Addr().String(), "cluster", s.clusterName())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveRoutes(ln)
	}()
	for _, u := range c.Routes {
		s.wg.Add(1)
		go s.solicit(u)
	}
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

// stopCluster closes the cluster listener; Shutdown closes the routes.
func (s *Server) stopCluster() {
	s.cluster.mu.Lock()
	ln := s.cluster.ln
	s.cluster.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// solicit keeps an explicit route to u up until the server stops or the
// route turns out to lead back here.
func (s *Server) solicit(u *url.URL) {
	defer s.wg.Done()
	o := &s.getOpts().Cluster
	delay := options.RouteConnectDelay
	for {
		conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err == nil {
			delay = options.RouteConnectDelay
			r := s.startRouteTo(conn, u)
			select {
			case <-r.done:
			case <-s.stopping:
				return
			}
			if r.noRedial.Load() {
				return
			}
		} else {
			s.log.Debug("route connect failed", "url", u.Redacted(), "err", err)
		}
		select {
		case <-s.stopping:
			return
		case <-time.After(delay):
		}
		if o.ConnectBackoff {
			delay = min(2*delay, options.MaxRouteConnectDelay)
		}
	}
}

// startRouteTo runs a route dialled to u, presenting u's credentials.
func (s *Server) startRouteTo(conn net.Conn, u *url.URL) *route {
	connect := &proto.RouteConnect{Headers: true, Name: s.id, Cluster: s.clusterName()}
	s.cluster.mu.Lock()
	connect.ClusterDynamic = s.cluster.dynamic
	s.cluster.mu.Unlock()
	if u != nil && u.User != nil {
		connect.User = u.User.Username()
		connect.Pass, _ = u.User.Password()
	}
	return s.startRouteWith(conn, connect)
}

// checkRouteConnect checks a dialler's CONNECT on an accepted route: its
// credentials (when the cluster has an authorization block) and its
// cluster name. It returns the -ERR text to close with, or "".
func (s *Server) checkRouteConnect(c *proto.RouteConnect) string {
	o := &s.getOpts().Cluster
	if o.Username != "" || o.Password != "" {
		userOK := subtle.ConstantTimeCompare([]byte(c.User), []byte(o.Username)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(c.Pass), []byte(o.Password)) == 1
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
