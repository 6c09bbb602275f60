package auth

import (
	"strings"
	"time"
)

// maxGrants caps the reply grants one connection holds. nats-server prunes
// at this size but keeps every live grant; a service answering many
// requests late could then grow without bound, so past the cap the oldest
// grant is dropped: its requester has waited longest and has most likely
// given up.
const maxGrants = 4096

// grant is one reply subject a connection may answer.
type grant struct {
	reply      string
	at         time.Time // when the request was delivered
	used       int
	prev, next *grant // in order of at, oldest first
}

// grants is the set of live reply grants: a map for lookup threaded on a
// list in delivery order, so expiry and eviction both work from the front.
// Grants all share one ttl, so delivery order is also expiry order.
type grants struct {
	byReply    map[string]*grant
	head, tail *grant
	max        int
}

// add grants reply as of now, renewing an existing grant.
func (g *grants) add(reply string, now time.Time, ttl time.Duration) {
	g.expire(now, ttl)
	if r := g.byReply[reply]; r != nil {
		g.unlink(r)
		r.at, r.used = now, 0
		g.push(r)
		return
	}
	if len(g.byReply) >= g.max {
		g.drop(g.head)
	}
	if g.byReply == nil {
		g.byReply = make(map[string]*grant)
	}
	r := &grant{reply: strings.Clone(reply), at: now}
	g.byReply[r.reply] = r
	g.push(r)
}

// use spends one publish of a grant for reply, reporting whether there was
// one to spend. A grant past its ttl or its count is removed. The clock is
// read only when there is a grant, so refused publishes do not pay for it.
func (g *grants) use(reply string, now func() time.Time, rp *ResponsePermission) bool {
	r := g.byReply[reply]
	if r == nil {
		return false
	}
	// nats-server lets a grant live while now-at <= ttl.
	if rp.Expires > 0 && now().Sub(r.at) > rp.Expires {
		g.drop(r)
		return false
	}
	r.used++
	if rp.MaxMsgs > 0 && r.used >= rp.MaxMsgs {
		g.drop(r)
	}
	return true
}

// expire drops grants older than ttl; a negative ttl never expires.
func (g *grants) expire(now time.Time, ttl time.Duration) {
	for ttl > 0 && g.head != nil && now.Sub(g.head.at) > ttl {
		g.drop(g.head)
	}
}

func (g *grants) len() int { return len(g.byReply) }

func (g *grants) drop(r *grant) {
	g.unlink(r)
	delete(g.byReply, r.reply)
}

func (g *grants) push(r *grant) {
	r.prev, r.next = g.tail, nil
	if g.tail != nil {
		g.tail.next = r
	} else {
		g.head = r
	}
	g.tail = r
}

func (g *grants) unlink(r *grant) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		g.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		g.tail = r.prev
	}
	r.prev, r.next = nil, nil
}
