package core

import (
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/options"
)

// A nats-server of a JetStream cluster that runs no JetStream itself
// still serves its clients' JetStream API: each of its accounts imports
// $JS.API.> from the system account, where the cluster's JetStream
// servers subscribe to it (their interest crosses the routes in the
// system account, not in the client's), and each request carries the
// requester's identity (RequestInfoHeader) so that the server answering
// knows the account. A Starling server whose own JetStream does not serve
// the API (off, or left to the cluster's nats-server JetStream) does the
// same, once a route leads to a nats-server that announces JetStream.
// The import is never taken back: with no JetStream server left behind
// it, no server answers, as on a nats-server without JetStream. An account
// a reload adds later imports it too.

// jsProxyAPI is the JetStream API's subject space.
const jsProxyAPI = "$JS.API.>"

// jsProxy is whether the JetStream API is proxied, and when.
type jsProxy struct {
	wanted atomic.Bool // this server's JetStream leaves the API to the cluster's
	once   sync.Once
	done   atomic.Bool

	mu       sync.Mutex
	sys      *Account          // the system account the API is imported from
	accounts map[*Account]bool // those that import it
}

// ProxyJetStream says that this server's own JetStream does not serve
// the API (it is off, or it yields to the cluster's): from the first
// route to a nats-server running JetStream on, the accounts reach that
// JetStream through the system account. Call it before Start, or any
// time after; it is not undone.
func (s *Server) ProxyJetStream() {
	s.jsProxy.wanted.Store(true)
	if s.ForeignJetStream() {
		s.proxyJetStreamIfWanted()
	}
}

// JetStreamProxied reports whether the accounts reach the cluster's
// JetStream through the system account.
func (s *Server) JetStreamProxied() bool { return s.jsProxy.done.Load() }

// ForeignJetStream reports whether a route is up to a server that is not
// Starling and says, in its INFO, that it runs JetStream.
func (s *Server) ForeignJetStream() bool {
	s.mu.Lock()
	routes := make([]*route, 0, len(s.routes))
	for _, r := range s.routes {
		routes = append(routes, r)
	}
	s.mu.Unlock()
	// As ForeignRoutes counts them: a route of s.routes whose INFO came
	// (peerJS is set with it), so a route counted there is judged here.
	for _, r := range routes {
		r.mu.Lock()
		known := r.remoteID != ""
		r.mu.Unlock()
		if known && !r.peerStarling.Load() && r.peerJS.Load() {
			return true
		}
	}
	return false
}

// proxyJetStreamIfWanted adds the imports once, when ProxyJetStream was
// called; a route's goroutine or ProxyJetStream's caller runs it.
func (s *Server) proxyJetStreamIfWanted() {
	if !s.jsProxy.wanted.Load() {
		return
	}
	s.jsProxy.once.Do(s.proxyJetStream)
}

// proxyJetStream imports the API into every account but the system one.
// The system account is the configured one, else nats-server's default:
// the servers of a cluster must agree on its name for its interest to
// meet across the routes.
func (s *Server) proxyJetStream() {
	name := s.getOpts().SystemAccount
	if name == "" {
		name = options.DefaultSystemAccount
	}
	sys := s.RegisterAccount(name) // before mu: RegisterAccount calls proxyAccount
	p := &s.jsProxy
	p.mu.Lock()
	p.sys, p.accounts = sys, map[*Account]bool{}
	for _, acc := range s.accountList() {
		s.proxyAccountLocked(acc)
	}
	n := len(p.accounts)
	p.done.Store(true)
	p.mu.Unlock()
	s.log.Info("JetStream API served by the cluster's nats-server JetStream servers, through the system account", "system_account", name, "accounts", n)
}

// proxyAccount imports the API into acc, an account registered after the
// others were (a reload), once the API is proxied.
func (s *Server) proxyAccount(acc *Account) {
	// Under mu always: one registered while proxyJetStream lists the
	// accounts waits for it, and then finds sys set.
	p := &s.jsProxy
	p.mu.Lock()
	defer p.mu.Unlock()
	s.proxyAccountLocked(acc)
}

func (s *Server) proxyAccountLocked(acc *Account) {
	p := &s.jsProxy
	if p.sys == nil || acc == p.sys || p.accounts[acc] {
		return
	}
	if err := s.addServiceImport("", acc, p.sys, jsProxyAPI, "", ResponseStream, 0, true); err != nil {
		s.log.Error("JetStream API not imported from the system account", "account", acc.name, "err", err)
		return
	}
	p.accounts[acc] = true
}
