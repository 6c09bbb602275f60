package core

import (
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// ServerStats is a point-in-time view of server-wide counters.
type ServerStats struct {
	Start            time.Time
	ConfigLoad       time.Time
	Connections      int
	TotalConnections uint64
	Subscriptions    int
	InMsgs, InBytes  int64
	OutMsgs          int64
	OutBytes         int64
	SlowConsumers    int64
	// RoutesRefused counts route connections ended before they came up:
	// a failed TLS handshake, wrong credentials, another cluster's name.
	RoutesRefused int64
	// SlowRoutes counts the slow consumers (of SlowConsumers) that were
	// routes: closed for pending data or a write deadline, then redialled.
	SlowRoutes int64
}

// Stats returns the server-wide counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	start, load, conns := s.start, s.configLoad, len(s.clients)
	s.mu.Unlock()
	return ServerStats{
		Start:            start,
		ConfigLoad:       load,
		Connections:      conns,
		TotalConnections: s.totalConns.Load(),
		Subscriptions:    s.gacc.sl.Count(),
		InMsgs:           s.stats.inMsgs.Load(),
		InBytes:          s.stats.inBytes.Load(),
		OutMsgs:          s.stats.outMsgs.Load(),
		OutBytes:         s.stats.outBytes.Load(),
		SlowConsumers:    s.stats.slowConsumers.Load(),
		RoutesRefused:    s.stats.routesRefused.Load(),
		SlowRoutes:       s.stats.slowRoutes.Load(),
	}
}

// SublistStats returns the subscription trie's counters.
func (s *Server) SublistStats() subject.Stats { return s.gacc.sl.Stats() }

// ConnInfo describes one client connection, open or closed.
type ConnInfo struct {
	CID          uint64
	IP           string
	Port         int
	Start        time.Time
	LastActivity time.Time
	Stop         time.Time // zero while open
	Reason       string    // why it closed; empty while open
	RTT          time.Duration
	PendingBytes int
	InMsgs       int64
	OutMsgs      int64
	InBytes      int64
	OutBytes     int64
	NumSubs      int
	Subs         []SubInfo // filled when asked for
	TLSVersion   string    // "1.2", "1.3"; empty without TLS
	TLSCipher    string
	Name         string
	Lang         string
	Version      string
	User         string
	Account      string // the account's name
}

// SubInfo describes one subscription.
type SubInfo struct {
	CID     uint64
	Subject string
	Queue   string
	SID     string
	Msgs    int64
	Max     int64
	Account string // the account's name
}

// Connections returns the open client connections in no particular order,
// with their subscriptions when withSubs is set.
func (s *Server) Connections(withSubs bool) []ConnInfo {
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	out := make([]ConnInfo, 0, len(clients))
	for _, c := range clients {
		out = append(out, c.info(withSubs))
	}
	return out
}

// ClosedConnections returns the most recently closed connections, oldest
// first, as kept by a bounded ring.
func (s *Server) ClosedConnections() []ConnInfo { return s.closed.list() }

// Subscriptions returns every client subscription.
func (s *Server) Subscriptions() []SubInfo {
	var out []SubInfo
	for _, ci := range s.Connections(true) {
		out = append(out, ci.Subs...)
	}
	return out
}

func (c *client) info(withSubs bool) ConnInfo {
	c.mu.Lock()
	subs := c.subs
	c.mu.Unlock()
	return c.infoWith(subs, withSubs)
}

// infoWith describes c with the given subscription set, which is c.subs
// while open and the set it held when it closed.
func (c *client) infoWith(subMap map[string]*subscription, withSubs bool) ConnInfo {
	ci := ConnInfo{
		CID:          c.cid,
		IP:           c.host,
		Port:         c.port,
		Start:        c.start,
		LastActivity: time.Unix(0, c.lastIn.Load()),
		RTT:          time.Duration(c.rtt.Load()),
		InMsgs:       c.inMsgs.Load(),
		InBytes:      c.inBytes.Load(),
	}
	c.mu.Lock()
	ci.Name, ci.Lang, ci.Version, ci.User = c.opts.Name, c.opts.Lang, c.opts.Version, c.authName
	ci.NumSubs = len(subMap)
	ci.Account = c.acc.name
	var subs []*subscription
	if withSubs {
		subs = make([]*subscription, 0, len(subMap))
		for _, sub := range subMap {
			subs = append(subs, sub)
		}
	}
	ci.Reason = c.reason.String()
	c.mu.Unlock()
	if st := c.tlsState; st != nil {
		ci.TLSVersion = tlsVersionName(st.Version)
		ci.TLSCipher = tls.CipherSuiteName(st.CipherSuite)
	}
	c.out.mu.Lock()
	ci.PendingBytes = c.out.pending
	ci.OutMsgs, ci.OutBytes = c.out.outMsgs, c.out.outBytes
	for _, sub := range subs {
		ci.Subs = append(ci.Subs, SubInfo{
			CID: c.cid, Subject: sub.subject, Queue: sub.queue, SID: string(sub.sid),
			Msgs: sub.delivered, Max: sub.max, Account: ci.Account,
		})
	}
	c.out.mu.Unlock()
	return ci
}

// DefaultMaxClosedClients bounds the ring of closed connections kept for
// /connz?state=closed, as nats-server does.
const DefaultMaxClosedClients = 10000

// closedRing keeps the last closed connections. It grows to its bound and
// then overwrites the oldest entry.
type closedRing struct {
	mu   sync.Mutex
	max  int
	buf  []ConnInfo
	next int // the oldest entry once the ring is full
}

func (r *closedRing) add(ci ConnInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) < r.max {
		r.buf = append(r.buf, ci)
		return
	}
	r.buf[r.next] = ci
	r.next = (r.next + 1) % len(r.buf)
}

func (r *closedRing) list() []ConnInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ConnInfo, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	return append(out, r.buf[:r.next]...)
}

// tlsVersionName names TLS versions as nats-server's /connz does.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return fmt.Sprintf("Unknown [0x%x]", v)
}
