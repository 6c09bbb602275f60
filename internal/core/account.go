package core

import (
	"sync"
	"sync/atomic"

	"github.com/starling-mq/starling/internal/interest"
	"github.com/starling-mq/starling/internal/mapping"
	"github.com/starling-mq/starling/internal/subject"
)

// globalAccountName is the account every connection is in until accounts
// are configured, named as nats-server names its default account.
const globalAccountName = "$G"

// Account is a subject space: its subscription trie and the one path by
// which subscriptions enter and leave it, which keeps the interest counts
// that peers (routes) are told about.
//
// Lock order: client.mu, then Account.mu, then the trie's own lock (a
// leaf). An interest watcher runs under Account.mu so events reach it in
// the order the changes happened; it must only queue them (never publish,
// never take a client's or the account's lock).
type Account struct {
	name  string
	nameb []byte // name, for the protocol lines that carry it
	sl    *subject.Sublist[*subscription]

	// mappings rewrite the subjects its clients publish to (nil: none).
	mappings atomic.Pointer[mapping.Mappings]

	// removed is set when a reload takes the account away: routes stop
	// delivering into it (see route.pubFor).
	removed atomic.Bool

	mu       sync.Mutex
	importer *client // owns the account's import subscriptions (imports.go)
	interest interest.Tracker
	watchers map[uint64]func(interest.Event)
	watchID  uint64

	closed closedTotals // counters of its closed connections (accountinfo.go)
}

func newAccount(name string) *Account {
	return &Account{name: name, nameb: []byte(name), sl: subject.NewSublist[*subscription]()}
}

// Name is the account's name.
func (a *Account) Name() string { return a.name }

// subscribe adds sub to the trie and counts its interest.
func (a *Account) subscribe(sub *subscription) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.sl.Insert(sub.subject, sub.queue, sub); err != nil {
		return err
	}
	if ev, ok := a.interest.Add(sub.subject, sub.queue); ok {
		a.notifyLocked(ev)
	}
	return nil
}

// unsubscribe removes sub from the trie and uncounts its interest; a sub
// not in the trie changes nothing.
func (a *Account) unsubscribe(sub *subscription) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.sl.Remove(sub.subject, sub.queue, sub) {
		return
	}
	if ev, ok := a.interest.Remove(sub.subject, sub.queue); ok {
		a.notifyLocked(ev)
	}
}

// subscribeRemote adds a peer server's interest (a route's RS+) to the
// trie. It is not counted: interest is told to peers only for this
// server's own subscribers, so a route never echoes what it learnt.
func (a *Account) subscribeRemote(sub *subscription) error {
	return a.sl.Insert(sub.subject, sub.queue, sub)
}

// unsubscribeRemote removes a peer's interest added by subscribeRemote.
func (a *Account) unsubscribeRemote(sub *subscription) {
	a.sl.Remove(sub.subject, sub.queue, sub)
}

func (a *Account) notifyLocked(ev interest.Event) {
	for _, fn := range a.watchers {
		fn(ev)
	}
}

// WatchInterest calls fn with the interest as it is now (one Add event per
// subject and queue group, sorted) and then with every later event, all
// under the account's lock: a watcher sees nothing twice and misses
// nothing, in order. fn must only queue the event. cancel ends the watch;
// fn is not called once it returns.
func (a *Account) WatchInterest(fn func(interest.Event)) (cancel func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ev := range a.interest.Snapshot() {
		fn(ev)
	}
	if a.watchers == nil {
		a.watchers = map[uint64]func(interest.Event){}
	}
	a.watchID++
	id := a.watchID
	a.watchers[id] = fn
	return func() {
		a.mu.Lock()
		delete(a.watchers, id)
		a.mu.Unlock()
	}
}

// retire tells every watcher that the account's remaining interest is
// gone, and ends the watches: the account is being removed.
func (a *Account) retire() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ev := range a.interest.Snapshot() {
		ev.Weight, ev.Removed = 0, true
		a.notifyLocked(ev)
	}
	a.watchers = nil
}

// GlobalAccount is the account of connections that name no other:
// nats-server's $G.
func (s *Server) GlobalAccount() *Account { return s.gacc }

// LookupAccount is the account called name, nil if this server has none.
func (s *Server) LookupAccount(name string) *Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[name]
}

// RegisterAccount returns the account called name, creating it if this
// server has none yet; the routes up start telling their peers of its
// interest, and the interest each peer sent for it before it existed here
// (which the route kept aside, see route.keepLate) takes effect.
func (s *Server) RegisterAccount(name string) *Account {
	s.mu.Lock()
	if a := s.accounts[name]; a != nil {
		s.mu.Unlock()
		return a
	}
	a := newAccount(name)
	s.accounts[name] = a
	routes := make([]*route, 0, len(s.routes))
	for _, r := range s.routes {
		routes = append(routes, r)
	}
	s.mu.Unlock()
	for _, r := range routes {
		r.watchAccount(a)
		r.applyLate(a)
	}
	s.proxyAccount(a)
	return a
}

// removeAccount takes the account called name away, as a reload that no
// longer configures it does: its clients are closed (their users are gone
// with it), peers are told its interest is gone, and what they told of it
// is kept aside again, should a later reload bring it back.
func (s *Server) removeAccount(name string) {
	s.mu.Lock()
	a := s.accounts[name]
	if a == nil || a == s.gacc {
		s.mu.Unlock()
		return
	}
	delete(s.accounts, name)
	routes := make([]*route, 0, len(s.routes))
	for _, r := range s.routes {
		routes = append(routes, r)
	}
	s.mu.Unlock()
	a.removed.Store(true)
	for _, c := range s.clientList() {
		c.mu.Lock()
		in := c.acc == a
		c.mu.Unlock()
		if in {
			c.close(reasonClientClosed)
		}
	}
	a.retire()
	for _, r := range routes {
		r.forgetAccount(a)
	}
	s.log.Info("account removed", "account", name)
}

// accountList is every account of the server, the global one first.
func (s *Server) accountList() []*Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Account, 0, len(s.accounts))
	out = append(out, s.gacc)
	for _, a := range s.accounts {
		if a != s.gacc {
			out = append(out, a)
		}
	}
	return out
}
