package subject

import "hash/maphash"

// A full match cache admits a subject only on its second miss in a while.
//
// Subjects that are matched once and never again (a JetStream ack's
// subject names the message it acks; a reply goes to an inbox nobody
// reuses) would otherwise take the place of results that are used again,
// and a stream of them makes every miss pay for an insert and, every
// quarter of the cache, for an eviction sweep: about half the cost of a
// match of such a subject. A subject that comes back is cached on its
// second miss; until the cache first fills, every result is cached, as
// nats-server does.

// admissionSlots is the number of recent misses remembered, by a tag of
// their hash in a direct-mapped table: a miss that finds its tag is a
// second miss. Collisions only admit a subject early or forget one.
const admissionSlots = 4096

type admission struct {
	seed maphash.Seed
	tags [admissionSlots]uint32
}

// admitLocked reports whether the result for a missed subject goes into the
// cache. Write lock held.
func (s *Sublist[T]) admitLocked(subj string) bool {
	if len(s.cache) < s.cacheSize {
		return true
	}
	if s.seen == nil {
		s.seen = &admission{seed: maphash.MakeSeed()}
	}
	h := maphash.String(s.seen.seed, subj)
	slot := &s.seen.tags[h%admissionSlots]
	tag := uint32(h>>32) | 1 // never 0, the empty slot
	if *slot == tag {
		*slot = 0
		return true
	}
	*slot = tag
	return false
}
