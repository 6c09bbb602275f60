package core

import (
	"github.com/starling-mq/starling/internal/proto"
)

// Late accounts: a peer tells its interest (RS+) once, when it learns of
// it. Interest in an account this server does not have yet (one a reload
// adds on every server, one after another) would be lost, so each route
// keeps it aside, bounded, and applies it when the account is registered.
// An RS- takes it out again; the route closing discards it all.

// maxLateInterest bounds the interest a route keeps for accounts this
// server does not have, all accounts together. Beyond it RS+ are dropped
// and counted: the peer's subscribers in such an account then get no
// messages from this server until they subscribe again.
const maxLateInterest = 10_000

// lateSub is one subject (and queue group) of a peer's interest in an
// account this server does not have.
type lateSub struct {
	subject, queue string
	weight         int32
}

// keepLate records an RS+ for an account this server does not have.
func (r *route) keepLate(cmd *proto.RouteCmd) {
	if !r.perms.canExportSub(string(cmd.Subject)) {
		return
	}
	acc, key := string(cmd.Account), string(cmd.Subject)+" "+string(cmd.Queue)
	r.mu.Lock()
	if r.subs == nil { // closing
		r.mu.Unlock()
		return
	}
	m := r.late[acc]
	if e, ok := m[key]; ok {
		e.weight = int32(cmd.Weight) // a queue group's new size
		m[key] = e
	} else if r.lateN >= maxLateInterest {
		r.lateDropped++
		n := r.lateDropped
		r.mu.Unlock()
		if n&(n-1) == 0 { // the first, then ever more rarely
			r.log.Warn("route interest for an unknown account dropped: too much kept",
				"account", acc, "subject", string(cmd.Subject), "dropped", n, "limit", maxLateInterest)
		}
		return
	} else {
		if m == nil {
			if r.late == nil {
				r.late = map[string]map[string]lateSub{}
			}
			m = map[string]lateSub{}
			r.late[acc] = m
		}
		m[key] = lateSub{subject: string(cmd.Subject), queue: string(cmd.Queue), weight: int32(cmd.Weight)}
		r.lateN++
	}
	r.mu.Unlock()
	// The account may have been registered since the read loop looked it
	// up, and its late interest applied before this was kept.
	if a := r.srv.LookupAccount(acc); a != nil {
		r.applyLate(a)
	}
}

// dropLate forgets kept interest on an RS- for an account this server
// does not have.
func (r *route) dropLate(cmd *proto.RouteCmd) {
	acc, key := string(cmd.Account), string(cmd.Subject)+" "+string(cmd.Queue)
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.late[acc]; m != nil {
		if _, ok := m[key]; ok {
			delete(m, key)
			r.lateN--
			if len(m) == 0 {
				delete(r.late, acc)
			}
		}
	}
}

// applyLate puts the interest kept for a's name into a, now that this
// server has it.
func (r *route) applyLate(a *Account) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.late[a.name]
	if m == nil || r.subs == nil {
		return
	}
	delete(r.late, a.name)
	r.lateN -= len(m)
	for _, e := range m {
		key := subKey(a.nameb, []byte(e.subject), []byte(e.queue))
		if rs, ok := r.subs[key]; ok {
			rs.sub.weight.Store(e.weight)
			continue
		}
		sub := &subscription{route: r, subject: e.subject, queue: e.queue}
		sub.weight.Store(e.weight)
		if e.queue != "" {
			sub.qb = []byte(e.queue)
		}
		if err := a.subscribeRemote(sub); err != nil {
			r.log.Debug("route interest refused", "subject", sub.subject, "err", err)
			continue
		}
		r.subs[key] = routeSub{acc: a, sub: sub}
	}
}

// forgetAccount stops telling the peer of a, which is being removed, and
// takes the peer's interest in it out of a's trie, keeping it aside (as
// for an account never had) should a reload bring the account back.
func (r *route) forgetAccount(a *Account) {
	r.mu.Lock()
	cancel := r.watched[a]
	delete(r.watched, a)
	var gone []routeSub
	for k, rs := range r.subs {
		if rs.acc != a {
			continue
		}
		delete(r.subs, k)
		gone = append(gone, rs)
		if r.lateN >= maxLateInterest {
			r.lateDropped++
			continue
		}
		if r.late == nil {
			r.late = map[string]map[string]lateSub{}
		}
		m := r.late[a.name]
		if m == nil {
			m = map[string]lateSub{}
			r.late[a.name] = m
		}
		key := rs.sub.subject + " " + rs.sub.queue
		if _, ok := m[key]; !ok {
			r.lateN++
		}
		m[key] = lateSub{subject: rs.sub.subject, queue: rs.sub.queue, weight: rs.sub.weight.Load()}
	}
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	for _, rs := range gone {
		a.unsubscribeRemote(rs.sub)
	}
}
