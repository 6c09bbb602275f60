package core

import (
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/starling-mq/starling/internal/proto"
)

// Gossip: a server that knows one seed learns the rest of the cluster.
// When a route to a new server comes up, this server passes that server's
// INFO on to its other routes (with "ip", the address to dial, filled in);
// a server that gets an INFO naming a server it has no route to dials it
// (an implicit route, dialer.go). A route this server dialled because of
// gossip is not gossiped again: whoever told us told the others. Servers
// of nats-server 2.9 to 2.11 take part in the same exchange.

// gossipNewRoute tells the other routes of r's peer, whose first INFO was
// info.
func (s *Server) gossipNewRoute(r *route, info proto.RouteInfo) {
	if r.implicit() {
		return
	}
	if info.IP == "" {
		// The peer advertises no address: the one it is reached at here,
		// with its cluster port.
		host := ""
		if addr, ok := r.netConn.RemoteAddr().(*net.TCPAddr); ok {
			host = addr.IP.String()
		}
		info.IP = routeURL(host, info.Port)
	}
	info.Nonce = ""
	line := proto.AppendRouteInfoUpdate(nil, &info)
	for _, other := range s.upRoutes() {
		if other != r && other.peerID() != info.ServerID {
			other.send(line)
		}
	}
}

// routeURL is the "ip" of a route INFO: nats-route://host:port/.
func routeURL(host string, port int) string {
	return fmt.Sprintf("nats-route://%s/", net.JoinHostPort(host, strconv.Itoa(port)))
}

// processGossip takes an INFO a peer passed on about another server, and
// dials that server unless a route to it is up, being dialled, or
// configured.
func (s *Server) processGossip(info *proto.RouteInfo) {
	id := info.ServerID
	if id == "" || id == s.id || s.hasRoute(id) {
		return
	}
	u, err := url.Parse(info.IP)
	if err != nil || u.Host == "" {
		s.log.Debug("gossip without a route address ignored", "server", id, "ip", info.IP)
		return
	}
	if s.isExplicitRoute(net.JoinHostPort(info.Host, strconv.Itoa(info.Port)), u.Host) {
		return // its own dialer keeps that route
	}
	if info.AuthRequired {
		o := &s.getOpts().Cluster
		u.User = url.UserPassword(o.Username, o.Password)
	}
	cl := &s.cluster
	cl.mu.Lock()
	if cl.implicit == nil || cl.implicit[id] != nil {
		cl.mu.Unlock()
		return
	}
	d := newDialer(u, true, id)
	cl.implicit[id] = d
	cl.mu.Unlock()
	s.log.Debug("dialling a server learned by gossip", "server", id, "url", u.Redacted())
	s.startDialer(d)
}

// upRoutes are the routes up, one per peer.
func (s *Server) upRoutes() []*route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*route, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, r)
	}
	return out
}
