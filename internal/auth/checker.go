package auth

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Cache bounds, as nats-server sizes the equivalent caches.
const (
	pubCacheSize  = 128
	denyCacheSize = 256
	cacheEvict    = 32 // entries dropped when a cache overflows
)

// sysQueue is the queue group nats-server keeps for its own use; clients are
// refused it whatever their permissions.
const sysQueue = "_sys_"

// Checker applies one connection's permissions. It holds small bounded
// caches and the reply grants of allow_responses, so each connection needs
// its own. It is safe for concurrent use: subscribing and publishing happen
// on the connection's reader, but deliveries (DeliverAllowed, AddResponse)
// come from other connections' readers. Its lock is a leaf: while holding
// it no method calls out, except to the clock.
//
// A nil *Checker allows everything except the reserved queue group, so
// connections without permissions cost nothing.
//
// Subjects passed in may alias reusable read buffers; the Checker copies
// whatever it keeps.
type Checker struct {
	// Compiled rules, immutable after NewChecker.
	pubAllow    []string
	hasPubAllow bool // non-nil Allow, even empty, restricts publishing
	pubDeny     []string
	subAllow    []entry
	hasSubAllow bool // an empty subscribe Allow restricts nothing
	subDeny     []entry
	resp        *ResponsePermission

	// filtering turns on delivery-time deny checks once a subscription may
	// receive a denied subject; until then no delivery can be denied, so
	// DeliverAllowed skips the lock. Atomic for that lock-free read.
	filtering atomic.Bool

	mu        sync.Mutex
	pubCache  map[string]bool
	denyCache map[denyKey]bool
	grants    grants
	now       func() time.Time
}

type denyKey struct {
	subject, queue string
}

// NewChecker compiles p, which should have passed Validate. A nil p gives a
// nil Checker, which allows everything. Entries that are not valid never
// widen access: an invalid allow entry matches nothing, and a publish deny
// written with a queue group denies its subject.
func NewChecker(p *Permissions) *Checker {
	if p == nil {
		return nil
	}
	p = p.effective()
	c := &Checker{
		resp:      p.Response,
		pubCache:  make(map[string]bool),
		denyCache: make(map[denyKey]bool),
		grants:    grants{max: maxGrants},
		now:       time.Now,
	}
	if pp := p.Publish; pp != nil {
		c.hasPubAllow = pp.Allow != nil
		for _, a := range pp.Allow {
			if subject.Valid(a) {
				c.pubAllow = append(c.pubAllow, a)
			}
		}
		for _, d := range pp.Deny {
			if f := strings.Fields(d); len(f) > 0 {
				c.pubDeny = append(c.pubDeny, f[0])
			}
		}
	}
	if sp := p.Subscribe; sp != nil {
		c.hasSubAllow = len(sp.Allow) > 0
		for _, a := range sp.Allow {
			if e, ok := parseEntry(a); ok {
				c.subAllow = append(c.subAllow, e)
			}
		}
		for _, d := range sp.Deny {
			e, ok := parseEntry(d)
			if f := strings.Fields(d); !ok && len(f) > 0 {
				// Deny the subject part rather than drop the entry.
				e, ok = entry{subject: f[0]}, true
			}
			if ok {
				c.subDeny = append(c.subDeny, e)
			}
		}
	}
	return c
}

// SetClock replaces time.Now for response grants; for tests. now is called
// with the Checker's lock held.
func (c *Checker) SetClock(now func() time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.now = now
	c.mu.Unlock()
}

// CanPublish reports whether the connection may publish to the literal
// subject subj: it must match an allow entry if there is an allow list, and
// no deny entry. Failing that, a reply grant from allow_responses permits
// it, and is used up by the call.
func (c *Checker) CanPublish(subj string) bool {
	if c == nil || (!c.hasPubAllow && len(c.pubDeny) == 0) {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	allowed, ok := c.pubCache[subj]
	if !ok {
		allowed = c.pubStatic(subj)
		// With response grants in play a refusal is not final, and reply
		// subjects are mostly unique inboxes that would only churn the
		// cache, so only cache grants of access there, as nats-server does.
		if allowed || c.resp == nil {
			store(c.pubCache, strings.Clone(subj), allowed, pubCacheSize)
		}
	}
	if !allowed && c.resp != nil {
		allowed = c.grants.use(subj, c.now, c.resp)
	}
	return allowed
}

// pubStatic is the publish decision from allow and deny lists alone.
func (c *Checker) pubStatic(subj string) bool {
	if c.hasPubAllow && !anyMatches(c.pubAllow, subj) {
		return false
	}
	return !anyMatches(c.pubDeny, subj)
}

func anyMatches(patterns []string, subj string) bool {
	for _, p := range patterns {
		if subject.Matches(p, subj) {
			return true
		}
	}
	return false
}

// CanSubscribe reports whether the connection may subscribe to subj, which
// may hold wildcards, in queue group queue ("" for a plain subscription).
//
// Allow: subj must be covered by an allow entry ("foo.*" is covered by
// "foo.>", ">" is not). If entries with queue groups cover subj, a queue
// subscription is allowed only in a group they name, even when a plain entry
// also covers subj; a plain subscription needs a plain entry.
//
// Unlike nats-server, allow "foo.*" does not cover "foo.>": its subject
// trie lets the "*" match the ">" token, and the subscription then receives
// foo.a.b, which the allow list never granted.
//
// Deny: subj is refused if a deny entry matches it taken literally, so deny
// "foo.>" refuses "foo.*", but deny "foo.bar" does not refuse "foo.*"; such
// overlaps are filtered per message by DeliverAllowed instead.
func (c *Checker) CanSubscribe(subj, queue string) bool {
	if queue == sysQueue {
		return false
	}
	if c == nil {
		return true
	}
	if c.hasSubAllow && !c.subAllowed(subj, queue) {
		return false
	}
	if c.denied(subj, queue) {
		return false
	}
	c.noteOverlap(subj, queue)
	return true
}

func (c *Checker) subAllowed(subj, queue string) bool {
	plain, queued, queueOK := false, false, false
	for _, e := range c.subAllow {
		if !covers(e.subject, subj) {
			continue
		}
		if e.queue == "" {
			plain = true
			continue
		}
		queued = true
		if queue != "" && queueMatches(e.queue, queue) {
			queueOK = true
		}
	}
	if queue != "" && queued {
		return queueOK
	}
	return plain
}

// denied applies the deny list to subj taken literally: a wildcard token in
// subj matches only a "*" or ">" in the entry, never a literal token.
func (c *Checker) denied(subj, queue string) bool {
	for _, e := range c.subDeny {
		if !subject.Matches(e.subject, subj) {
			continue
		}
		if e.queue == "" || (queue != "" && queueMatches(e.queue, queue)) {
			return true
		}
	}
	return false
}

// noteOverlap turns on delivery filtering when an accepted subscription can
// receive a subject some deny entry refuses: a wildcard subject, or a queue
// subscription that queue-scoped denies may single out.
func (c *Checker) noteOverlap(subj, queue string) {
	if c.filtering.Load() || (queue == "" && !subject.HasWildcard(subj)) {
		return
	}
	for _, e := range c.subDeny {
		if collide(e.subject, subj) {
			c.filtering.Store(true)
			return
		}
	}
}

// DeliverAllowed reports whether a message on the literal subject subj may
// be delivered to a subscription of this connection in queue group queue.
// It refuses what the deny list refuses, which CanSubscribe let through for
// wildcard subscriptions: deny "foo.bar" with a subscription to "foo.*".
func (c *Checker) DeliverAllowed(subj, queue string) bool {
	if c == nil || !c.filtering.Load() {
		return true
	}
	key := denyKey{subj, queue}
	c.mu.Lock()
	defer c.mu.Unlock()
	denied, ok := c.denyCache[key]
	if !ok {
		denied = c.denied(subj, queue)
		store(c.denyCache, denyKey{strings.Clone(subj), strings.Clone(queue)}, denied, denyCacheSize)
	}
	return !denied
}

// AddResponse records that a message with reply subject reply was delivered
// to the connection. With allow_responses, and unless the connection may
// publish there anyway, it may then publish to reply MaxMsgs times within
// Expires. Delivering the same reply again renews the grant.
func (c *Checker) AddResponse(reply string) {
	if c == nil || c.resp == nil || reply == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if allowed, ok := c.pubCache[reply]; (ok && allowed) || (!ok && c.pubStatic(reply)) {
		return
	}
	c.grants.add(reply, c.now(), c.resp.Expires)
}

// store puts k in a bounded cache, first evicting a batch when full. Map
// iteration starts at a random place, so no key is reliably kept or lost.
func store[K comparable](m map[K]bool, k K, v bool, max int) {
	if len(m) >= max {
		n := 0
		for old := range m {
			delete(m, old)
			if n++; n >= cacheEvict {
				break
			}
		}
	}
	m[k] = v
}
