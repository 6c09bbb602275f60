package core

import (
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/options"
)

// dialer keeps one route up. An explicit route (configured) is dialled
// until it connects and redialled whenever it drops, for as long as it
// stays configured. An implicit route (learned by gossip) gets 1 +
// connect_retries attempts each time it is needed, then is forgotten: its
// server is gone, or will dial its seeds and be announced again when it
// returns. Either gives up for good on a route that leads back to this
// server.
type dialer struct {
	url      *url.URL
	implicit bool
	peerID   string // implicit: the server the gossip named

	stop     chan struct{}
	stopOnce sync.Once
	mu       sync.Mutex
	cur      *route // the route dialled last, while it runs
	// reached is the server name the route's INFO gave the last time it
	// connected: the peer this URL leads to (peers.go dials Raft there).
	reached string

	deferred atomic.Int64 // times it found the peer connected and waited instead of dialling
}

func newDialer(u *url.URL, implicit bool, peerID string) *dialer {
	return &dialer{url: u, implicit: implicit, peerID: peerID, stop: make(chan struct{})}
}

// noteReached records that the dialer's URL leads to the server named
// name, reporting whether that is news.
func (d *dialer) noteReached(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := d.reached != name
	d.reached = name
	return changed
}

// halt stops the dialer and closes its route.
func (d *dialer) halt() {
	d.stopOnce.Do(func() { close(d.stop) })
	d.mu.Lock()
	r := d.cur
	d.mu.Unlock()
	if r != nil {
		r.close(reasonClientClosed)
	}
}

func (s *Server) startDialer(d *dialer) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runDialer(d)
		if d.implicit {
			s.cluster.mu.Lock()
			if s.cluster.implicit[d.peerID] == d {
				delete(s.cluster.implicit, d.peerID)
			}
			s.cluster.mu.Unlock()
		}
	}()
}

// runDialer is the dialer's loop; it returns when the dialer is done.
func (s *Server) runDialer(d *dialer) {
	retries := func() int { return s.getOpts().Cluster.ConnectRetries } // reloadable
	delay := options.RouteConnectDelay
	budget := 1 + retries() // attempts left, implicit routes only
	for {
		select {
		case <-s.stopping:
			return
		case <-d.stop:
			return
		default:
		}
		if d.implicit && s.hasRoute(d.peerID) {
			return // the peer dialled us meanwhile
		}
		if up := s.routeReachedAt(d.url.Host); up != nil {
			// The peer dialled us first: dialling it too would only make
			// a second connection that one of the two servers then
			// closes, possibly the one already carrying messages. Wait
			// for this one to go instead, as nats-server does.
			d.deferred.Add(1)
			if !s.waitRoute(d, up) {
				return
			}
			continue
		}
		conn, err := net.DialTimeout("tcp", d.url.Host, routeDialTimeout)
		if err == nil {
			conn, err = s.routeTLS(conn, true, d.url.Hostname())
		}
		if err == nil {
			delay, budget = options.RouteConnectDelay, 1+retries()
			r := s.startRouteWith(conn, s.routeConnect(d.url), d)
			d.mu.Lock()
			d.cur = r
			d.mu.Unlock()
			if !s.waitRoute(d, r) {
				return
			}
			d.mu.Lock()
			d.cur = nil
			d.mu.Unlock()
			if r.noRedial.Load() && s.isOwnClusterPort(d.url) {
				s.log.Debug("route leads to this server: not dialled again", "url", d.url.Redacted())
				return
			}
			// Otherwise it was TCP connecting a socket to itself (a dial to
			// a local port nobody listens on can): dial again later.
			if !r.registered.Load() {
				budget-- // refused, or lost before its handshake ended
			}
		} else {
			s.log.Debug("route connect failed", "url", d.url.Redacted(), "err", err)
			budget--
		}
		if d.implicit && budget <= 0 {
			s.log.Debug("implicit route given up", "url", d.url.Redacted())
			return
		}
		select {
		case <-s.stopping:
			return
		case <-d.stop:
			return
		case <-time.After(jitter(delay)):
		}
		if s.getOpts().Cluster.ConnectBackoff {
			delay = min(2*delay, options.MaxRouteConnectDelay)
		}
	}
}

// jitter spreads d over [d/2, 3d/2), so that two servers that both lost
// a route do not keep dialling each other at the same moment.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}

// routeDialTimeout bounds one attempt to dial a route.
const routeDialTimeout = 2 * time.Second

// waitRoute waits until r is gone and, when r turned out to duplicate a
// route to the same peer that both servers keep instead, until that one is
// gone too: redialling sooner would only be closed again. It reports
// false when the dialer or the server stops.
func (s *Server) waitRoute(d *dialer, r *route) bool {
	for r != nil {
		select {
		case <-r.done:
		case <-s.stopping:
			return false
		case <-d.stop:
			return false
		}
		r = s.routeTo(r.peerID())
	}
	return true
}

// isOwnClusterPort reports whether u names this server's cluster port.
func (s *Server) isOwnClusterPort(u *url.URL) bool {
	addr, ok := s.ClusterAddr().(*net.TCPAddr)
	return ok && u.Port() == strconv.Itoa(addr.Port)
}

// routeReachedAt is the route up to the server whose cluster listener is
// at hostPort, or nil.
func (s *Server) routeReachedAt(hostPort string) *route {
	for _, r := range s.upRoutes() {
		if r.reachedAt(hostPort) {
			return r
		}
	}
	return nil
}

// hasRoute reports whether a route to server id is up.
func (s *Server) hasRoute(id string) bool { return s.routeTo(id) != nil }

// routeTo is the route up to server id, or nil.
func (s *Server) routeTo(id string) *route {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routes[id]
}
