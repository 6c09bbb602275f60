// Package interest keeps the per-subject and per-queue-group subscription
// counts of one account and says when a change is worth telling a peer
// server: the first subscriber on a subject and the last unsubscribe (a
// route needs to know whether any interest exists, not how much), and every
// change of a queue group's size (a route weighs queue members across
// servers by it). The cluster turns these events into RS+ and RS-.
//
// A Tracker is pure bookkeeping, with no lock and no I/O: its owner (the
// account) serializes calls, so events come out in the order the changes
// happened.
package interest

import "sort"

// Event is one change of interest to tell peers about.
type Event struct {
	Subject string
	Queue   string // empty for a plain subscription
	// Weight is the queue group's size after the change (1 for a plain
	// subject). It is 0 exactly when Removed is set.
	Weight  int32
	Removed bool
}

type key struct{ subject, queue string }

// Tracker counts subscriptions by subject and queue group.
type Tracker struct {
	counts map[key]int32
}

// Add counts one subscription and returns the event it causes, if any.
func (t *Tracker) Add(subject, queue string) (Event, bool) {
	if t.counts == nil {
		t.counts = map[key]int32{}
	}
	k := key{subject, queue}
	n := t.counts[k] + 1
	t.counts[k] = n
	if queue == "" && n > 1 {
		return Event{}, false // interest already known
	}
	return Event{Subject: subject, Queue: queue, Weight: n}, true
}

// Remove uncounts one subscription and returns the event it causes, if
// any. Removing what was never added changes nothing.
func (t *Tracker) Remove(subject, queue string) (Event, bool) {
	k := key{subject, queue}
	n, ok := t.counts[k]
	if !ok {
		return Event{}, false
	}
	n--
	if n > 0 {
		t.counts[k] = n
		if queue == "" {
			return Event{}, false
		}
		return Event{Subject: subject, Queue: queue, Weight: n}, true
	}
	delete(t.counts, k)
	return Event{Subject: subject, Queue: queue, Removed: true}, true
}

// Len is the number of distinct subjects and queue groups with interest.
func (t *Tracker) Len() int { return len(t.counts) }

// Snapshot is the whole interest as Add events, sorted by subject then
// queue: what a route that has just come up is sent.
func (t *Tracker) Snapshot() []Event {
	out := make([]Event, 0, len(t.counts))
	for k, n := range t.counts {
		w := n
		if k.queue == "" {
			w = 1
		}
		out = append(out, Event{Subject: k.subject, Queue: k.queue, Weight: w})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subject != out[j].Subject {
			return out[i].Subject < out[j].Subject
		}
		return out[i].Queue < out[j].Queue
	})
	return out
}
