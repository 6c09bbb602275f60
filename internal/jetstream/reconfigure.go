package jetstream

import "sort"

// Reconfigure applies a reload's accounts, as nats-server does: JetStream
// starts in the accounts that gained it (recovering any streams they had
// on disk), stops in those that lost it (their streams stay on disk, for
// when it comes back), and the others take their new limits, which apply
// to what is created or published from then on. Accounts in disabled get
// the "not enabled" answer. Call it after the core server registered the
// accounts.
func (m *Manager) Reconfigure(enabled map[string]Limits, disabled []string) error {
	// Held throughout: accounts started or stopped here are never missed
	// by a Shutdown running at the same time (lame duck during a reload).
	m.life.Lock()
	defer m.life.Unlock()
	m.accMu.Lock()
	if m.stopped {
		m.accMu.Unlock()
		return nil
	}
	var gone []*jsAccount
	for name, a := range m.accounts {
		if _, ok := enabled[name]; !ok {
			gone = append(gone, a)
			delete(m.accounts, name)
		}
	}
	var added []*jsAccount
	names := make([]string, 0, len(enabled))
	for name := range enabled {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		lim := enabled[name]
		if a := m.accounts[name]; a != nil {
			a.limits.Store(&lim)
			continue
		}
		if acc := m.srv.LookupAccount(name); acc != nil && name != m.cfg.SystemAccount {
			a := newJSAccount(m, acc, lim)
			m.accounts[name] = a
			added = append(added, a)
		}
	}
	m.cfg.Disabled = disabled
	m.accMu.Unlock()

	for _, a := range gone {
		a.shutdown()
		m.log.Info("JetStream stopped in an account; its streams stay on disk", "account", a.name)
	}
	var firstErr error
	for _, a := range added {
		m.stopRefusing(a.name)
		if err := a.start(); err != nil {
			m.log.Error("JetStream not started in an account", "account", a.name, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		m.log.Info("JetStream started in an account", "account", a.name, "streams", a.numStreams())
	}
	keep := map[string]bool{}
	for _, name := range disabled {
		keep[name] = true
		if err := m.refuseIn(name); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	m.accMu.RLock()
	var drop []string
	for name := range m.disabled {
		if !keep[name] {
			drop = append(drop, name)
		}
	}
	m.accMu.RUnlock()
	for _, name := range drop {
		m.stopRefusing(name)
	}
	return firstErr
}
