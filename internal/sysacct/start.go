package sysacct

import (
	"fmt"

	"github.com/starling-mq/starling/internal/core"
)

// Start subscribes the services in cs's system account, gives every other
// account nats-server's imports of them, starts the worker and the sender
// and installs the event hooks. It returns nil, nil when the server has
// no system account. Call it before the server accepts clients.
func Start(cs *core.Server, cfg Config) (*Service, error) {
	sys := cs.SystemAccount()
	if sys == nil {
		return nil, nil
	}
	ic := cs.NewInternalClientIn(sys, "sysacct")
	s := newService(cs, sys.Name(), ic, cfg)
	for _, subj := range []string{serverPing, serverPingAll, fmt.Sprintf(serverDirect, cs.ID()), accountReqs, userInfoReqs} {
		if _, err := ic.Subscribe(subj, "", s.handle); err != nil {
			ic.Close()
			return nil, fmt.Errorf("system account: %w", err)
		}
	}
	if err := s.addImports(cs, sys); err != nil {
		ic.Close()
		return nil, err
	}
	s.run()
	cs.SetEventSink(s)
	s.closeFn = func() {
		cs.SetEventSink(nil)
		ic.Close()
	}
	return s, nil
}

// AccountsChanged gives the accounts a reload added the system account's
// imports.
func (s *Service) AccountsChanged(cs *core.Server) error {
	if s == nil {
		return nil
	}
	return s.addImports(cs, cs.SystemAccount())
}

// addImports gives each account that has not got them yet the system
// account's services that nats-server gives it: its own connections and
// statistics, from every server (responses streamed), and who the
// requester is.
func (s *Service) addImports(cs *core.Server, sys *core.Account) error {
	if sys == nil {
		return nil
	}
	// The accounts are picked under the lock and given their imports
	// after it: core is never called with a lock of this package held.
	s.importsMu.Lock()
	if s.imported == nil {
		s.imported = map[*core.Account]bool{}
	}
	var todo []*core.Account
	present := map[*core.Account]bool{}
	for _, a := range cs.Accounts() {
		present[a] = true
		if !s.imported[a] {
			s.imported[a] = true
			todo = append(todo, a)
		}
	}
	for a := range s.imported {
		if !present[a] {
			delete(s.imported, a) // removed by a reload
		}
	}
	s.importsMu.Unlock()
	for _, a := range todo {
		if a == sys {
			// The system account's users ask USER.INFO the same way.
			if err := cs.AddSystemServiceImport(sys, sys, userReqFmt+sys.Name()+".INFO", userInfo, core.ResponseSingleton); err != nil {
				return err
			}
			continue
		}
		connz := accountReqFmt + a.Name() + ".CONNZ"
		for _, im := range []struct {
			subj, to string
			rt       core.ResponseType
		}{
			{connz, accountPingFmt + "CONNZ", core.ResponseStream},
			{connz, serverPingFmt + "CONNZ", core.ResponseStream},
			{accountReqFmt + a.Name() + ".STATZ", accountPingFmt + "STATZ", core.ResponseStream},
			{userReqFmt + a.Name() + ".INFO", userInfo, core.ResponseSingleton},
		} {
			if err := cs.AddSystemServiceImport(a, sys, im.subj, im.to, im.rt); err != nil {
				return fmt.Errorf("account %q: system import %q: %w", a.Name(), im.to, err)
			}
		}
	}
	return nil
}
