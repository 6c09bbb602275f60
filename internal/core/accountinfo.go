package core

import (
	"slices"
	"strings"
	"sync"

	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/subject"
)

// Read-only views of the accounts for monitoring: what /accountz,
// /accstatz, the $SYS account requests and the per-account metrics show.
// Nothing here is on the publish path: an account's message counters are
// summed from its connections' own counters when asked, plus the totals
// its connections had when they closed.

// closedTotals accumulates the counters of an account's closed
// connections, added once per connection as it closes.
type closedTotals struct {
	mu                                 sync.Mutex
	inMsgs, inBytes, outMsgs, outBytes int64
}

func (t *closedTotals) add(ci *ConnInfo) {
	t.mu.Lock()
	t.inMsgs += ci.InMsgs
	t.inBytes += ci.InBytes
	t.outMsgs += ci.OutMsgs
	t.outBytes += ci.OutBytes
	t.mu.Unlock()
}

// accountClosed adds a closing connection's final counters to its
// account's totals.
//
// The client leaves the server's list and its traffic joins its account's
// closed totals under s.mu, the lock the statistics read both under
// (liveClients), so a report never counts it twice or not at all.
func (s *Server) accountClosed(c *client, ci *ConnInfo) {
	c.mu.Lock()
	acc := c.acc
	c.mu.Unlock()
	s.mu.Lock()
	delete(s.clients, c.cid)
	if acc != nil {
		acc.closed.add(ci)
	}
	s.mu.Unlock()
}

// AccountStats is one account's connections and traffic on this server.
type AccountStats struct {
	Name          string
	Conns         int // client connections open now
	Subscriptions int // in the account's trie, imports and peers' interest included
	// Received is what its clients published, Sent what they were given;
	// closed connections included.
	InMsgs, InBytes   int64
	OutMsgs, OutBytes int64
}

// AccountNames lists every account of the server, sorted by name.
func (s *Server) AccountNames() []string {
	accs := s.accountList()
	out := make([]string, 0, len(accs))
	for _, a := range accs {
		out = append(out, a.name)
	}
	slices.Sort(out)
	return out
}

// SystemAccountName is the system account's name, "" when there is none.
func (s *Server) SystemAccountName() string { return s.getOpts().SystemAccount }

// AllAccountStats returns every account's stats, sorted by name, in one
// pass over the connections.
func (s *Server) AllAccountStats() []AccountStats {
	accs := s.accountList()
	byAcc := make(map[*Account]*AccountStats, len(accs))
	live, out := s.liveClients(accs)
	for i, a := range accs {
		byAcc[a] = &out[i]
	}
	for _, lc := range live {
		if st := byAcc[lc.acc]; st != nil {
			st.add(lc.c)
		}
	}
	slices.SortFunc(out, func(a, b AccountStats) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AccountStatsOf returns one account's stats; false when there is no
// such account.
func (s *Server) AccountStatsOf(name string) (AccountStats, bool) {
	a := s.LookupAccount(name)
	if a == nil {
		return AccountStats{}, false
	}
	live, base := s.liveClients([]*Account{a})
	st := base[0]
	for _, lc := range live {
		if lc.acc == a {
			st.add(lc.c)
		}
	}
	return st, true
}

func (a *Account) baseStats() AccountStats {
	a.closed.mu.Lock()
	defer a.closed.mu.Unlock()
	return AccountStats{
		Name:   a.name,
		InMsgs: a.closed.inMsgs, InBytes: a.closed.inBytes,
		OutMsgs: a.closed.outMsgs, OutBytes: a.closed.outBytes,
	}
}

func (st *AccountStats) add(c *client) {
	st.Conns++
	st.InMsgs += c.inMsgs.Load()
	st.InBytes += c.inBytes.Load()
	c.out.mu.Lock()
	st.OutMsgs += c.out.outMsgs
	st.OutBytes += c.out.outBytes
	c.out.mu.Unlock()
}

type liveClient struct {
	c   *client
	acc *Account
}

// liveClients is every open client connection with its account, read
// under the client's lock (authentication sets it), and the closed totals
// of accs at the same instant (see accountClosed).
func (s *Server) liveClients(accs []*Account) ([]liveClient, []AccountStats) {
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	base := make([]AccountStats, len(accs))
	for i, a := range accs {
		base[i] = a.baseStats()
	}
	s.mu.Unlock()
	for i, a := range accs {
		base[i].Subscriptions = a.sl.Count() // the trie's lock, not under s.mu
	}
	out := make([]liveClient, len(clients))
	for i, c := range clients {
		c.mu.Lock()
		out[i] = liveClient{c: c, acc: c.acc}
		c.mu.Unlock()
	}
	return out, base
}

// TotalSubscriptions counts the subscriptions of every account.
func (s *Server) TotalSubscriptions() int {
	n := 0
	for _, a := range s.accountList() {
		n += a.sl.Count()
	}
	return n
}

// AccountSublistStats returns an account's trie counters; false when
// there is no such account.
func (s *Server) AccountSublistStats(name string) (subject.Stats, bool) {
	a := s.LookupAccount(name)
	if a == nil {
		return subject.Stats{}, false
	}
	return a.sl.Stats(), true
}

// AccountSubscriptions lists the subscriptions of an account's client
// connections and of its imports.
func (s *Server) AccountSubscriptions(name string) []SubInfo {
	a := s.LookupAccount(name)
	if a == nil {
		return nil
	}
	var out []SubInfo
	live, _ := s.liveClients(nil)
	for _, lc := range live {
		if lc.acc == a {
			out = append(out, lc.c.info(true).Subs...)
		}
	}
	a.mu.Lock()
	imp := a.importer
	a.mu.Unlock()
	if imp != nil {
		out = append(out, imp.info(true).Subs...)
	}
	return out
}

// AccountJetStreamEnabled reports whether the account runs JetStream by
// the configuration (options.JetStreamAccounts has nats-server's rule).
func (s *Server) AccountJetStreamEnabled(name string) bool {
	_, ok := s.getOpts().JetStreamAccounts()[name]
	return ok
}

// ExportInfo describes one export of an account.
type ExportInfo struct {
	Subject      string
	Service      bool
	ResponseType string // services: "Singleton", "Streamed" or "Chunked"
}

// ImportInfo describes one import of an account.
type ImportInfo struct {
	Account string // the exporter
	Subject string // as exported
	Local   string // the subject in the importing account
	Service bool
	Share   bool
}

// AccountExports lists an account's configured exports.
func (s *Server) AccountExports(name string) []ExportInfo {
	ao := accountOptions(s.getOpts(), name)
	if ao == nil {
		return nil
	}
	out := make([]ExportInfo, 0, len(ao.Exports))
	for _, e := range ao.Exports {
		ei := ExportInfo{Subject: e.Subject(), Service: e.Service != ""}
		if ei.Service {
			ei.ResponseType = responseTypeName(e.ResponseType)
		}
		out = append(out, ei)
	}
	return out
}

// AccountImports lists an account's configured imports.
func (s *Server) AccountImports(name string) []ImportInfo {
	ao := accountOptions(s.getOpts(), name)
	if ao == nil {
		return nil
	}
	out := make([]ImportInfo, 0, len(ao.Imports))
	for _, im := range ao.Imports {
		switch {
		case im.Stream != nil:
			local := im.Stream.Subject
			if im.Prefix != "" {
				local = im.Prefix + "." + local
			} else if im.To != "" {
				local = im.To
			}
			out = append(out, ImportInfo{Account: im.Stream.Account, Subject: im.Stream.Subject, Local: local})
		case im.Service != nil:
			local := im.To
			if local == "" {
				local = im.Service.Subject
			}
			out = append(out, ImportInfo{Account: im.Service.Account, Subject: im.Service.Subject,
				Local: local, Service: true, Share: im.Share})
		}
	}
	return out
}

func accountOptions(o *Options, name string) *options.AccountOptions {
	for i := range o.Accounts {
		if o.Accounts[i].Name == name {
			return &o.Accounts[i]
		}
	}
	return nil
}

// responseTypeName names a response type as nats-server's account
// details do.
func responseTypeName(rt string) string {
	switch rt {
	case options.ResponseStream:
		return "Streamed"
	case options.ResponseChunked:
		return "Chunked"
	}
	return "Singleton"
}
