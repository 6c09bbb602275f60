package core

import (
	"sync"

	"github.com/starling-mq/starling/internal/interest"
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
	name string
	sl   *subject.Sublist[*subscription]

	mu       sync.Mutex
	interest interest.Tracker
	watchers []func(interest.Event)
}

func newAccount(name string) *Account {
	return &Account{name: name, sl: subject.NewSublist[*subscription]()}
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

func (a *Account) notifyLocked(ev interest.Event) {
	for _, fn := range a.watchers {
		fn(ev)
	}
}

// WatchInterest registers fn for every later interest event and returns
// the interest as it is now, atomically: a watcher that applies the
// snapshot then the events misses nothing and sees nothing twice. fn runs
// under the account's lock: it must only queue the event.
func (a *Account) WatchInterest(fn func(interest.Event)) []interest.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.watchers = append(a.watchers, fn)
	return a.interest.Snapshot()
}

// GlobalAccount is the account of every connection today.
func (s *Server) GlobalAccount() *Account { return s.gacc }
