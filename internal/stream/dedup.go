package stream

// dedup remembers the message IDs (Nats-Msg-Id) stored within the
// duplicate window, so a publisher retrying after a lost ack gets the
// original sequence back instead of a second copy.
//
// IDs are kept in arrival order as well as in a map, so expiry walks only
// the expired prefix. Its size is bounded by the window times the publish
// rate of messages that carry an ID, as in nats-server.
type dedup struct {
	window int64 // nanoseconds; 0 disables
	ids    map[string]dedupEntry
	order  []dedupItem
	head   int
}

type dedupEntry struct {
	seq uint64
	ts  int64
}

type dedupItem struct {
	id string
	ts int64
}

func newDedup(window int64) *dedup {
	return &dedup{window: window, ids: map[string]dedupEntry{}}
}

// find returns the sequence stored under id if it is still in the window
// at now. It changes nothing: the window moves only as entries are
// applied (record), by their times, so it is the same on every replica
// whatever their clocks say.
func (d *dedup) find(id string, now int64) (uint64, bool) {
	if d.window <= 0 {
		return 0, false
	}
	e, ok := d.ids[id]
	if !ok || e.ts <= now-d.window {
		return 0, false
	}
	return e.seq, true
}

// record is apply's step: the window moves to ts, the time of the entry
// stored as seq, and id (if any) is remembered for it.
func (d *dedup) record(id string, seq uint64, ts int64) {
	if d.window <= 0 {
		return
	}
	if d.head < len(d.order) && d.order[d.head].ts <= ts-d.window {
		d.expire(ts)
	}
	if id != "" {
		d.add(id, seq, ts)
	}
}

// add remembers id for seq stored at ts.
func (d *dedup) add(id string, seq uint64, ts int64) {
	if d.window <= 0 || id == "" {
		return
	}
	d.ids[id] = dedupEntry{seq: seq, ts: ts}
	d.order = append(d.order, dedupItem{id: id, ts: ts})
}

// expire forgets IDs older than the window at now.
func (d *dedup) expire(now int64) {
	cutoff := now - d.window
	for d.head < len(d.order) && d.order[d.head].ts <= cutoff {
		it := d.order[d.head]
		// A later duplicate-free re-add of the same ID (after it expired
		// once) has a newer entry: only drop the entry this item made.
		if e, ok := d.ids[it.id]; ok && e.ts == it.ts {
			delete(d.ids, it.id)
		}
		d.order[d.head] = dedupItem{}
		d.head++
	}
	// Reclaim the consumed prefix once it dominates the slice.
	if d.head > 1024 && d.head*2 > len(d.order) {
		d.order = append(d.order[:0], d.order[d.head:]...)
		d.head = 0
	}
	if d.head == len(d.order) {
		d.order, d.head = d.order[:0], 0
	}
}

// setWindow changes the window (stream update).
func (d *dedup) setWindow(window int64) { d.window = window }

// len reports how many IDs are remembered.
func (d *dedup) len() int { return len(d.ids) }
