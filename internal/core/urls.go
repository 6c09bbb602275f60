package core

import (
	"net"
	"slices"
	"sort"
	"strconv"
)

// Client URLs: what a client learns of the cluster. Each server announces
// its client address in its route INFO (connect_urls); a server lists its
// own and every peer's in the INFO it sends its clients, and sends
// connected clients a fresh INFO when a server joins or leaves, so a
// client given one URL can fail over to any server. cluster { no_advertise }
// keeps a server out of this both ways, as in nats-server.

// ownClientURLs are this server's client addresses as it announces them:
// the listener's host and port, or, for a listener on every interface,
// the global unicast addresses of the machine's interfaces.
func (s *Server) ownClientURLs() []string {
	o := s.getOpts()
	port := o.Port
	if addr, ok := s.Addr().(*net.TCPAddr); ok {
		port = addr.Port
	}
	p := strconv.Itoa(port)
	ip := net.ParseIP(o.Host)
	if ip == nil || !ip.IsUnspecified() {
		return []string{net.JoinHostPort(o.Host, p)}
	}
	var urls []string
	ifaces, _ := net.Interfaces()
	for _, iface := range ifaces {
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
				urls = append(urls, net.JoinHostPort(n.IP.String(), p))
			}
		}
	}
	return urls
}

// connectURLs is the connect_urls of the INFO sent to clients: nil until
// a peer announced its URLs, then this server's own (not in lame duck)
// and the peers', without duplicates; this server's own stay when the
// peers leave, as in nats-server.
func (s *Server) connectURLs() []string {
	if s.getOpts().Cluster.NoAdvertise {
		return nil
	}
	cl := &s.cluster
	cl.mu.Lock()
	var peers []string
	for _, urls := range cl.peerURLs {
		peers = append(peers, urls...)
	}
	advertised := cl.advertised
	cl.mu.Unlock()
	if !advertised {
		return nil
	}
	sort.Strings(peers)
	var out []string
	if !s.IsLameDuck() {
		out = s.ownClientURLs()
	}
	for _, u := range slices.Compact(peers) {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// setPeerURLs records the client URLs of peer id (nil: it left or entered
// lame duck) and tells clients when that changed what they see.
func (s *Server) setPeerURLs(id string, urls []string) {
	cl := &s.cluster
	cl.mu.Lock()
	if cl.peerURLs == nil || slices.Equal(cl.peerURLs[id], urls) {
		cl.mu.Unlock()
		return
	}
	if len(urls) == 0 {
		delete(cl.peerURLs, id)
	} else {
		cl.peerURLs[id] = slices.Clone(urls)
		cl.advertised = true
	}
	cl.mu.Unlock()
	if s.getOpts().Cluster.NoAdvertise {
		return
	}
	for _, c := range s.clientList() {
		c.sendAsyncInfo(false)
	}
}
