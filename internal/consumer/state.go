package consumer

// State is what a durable consumer persists: where it is and what awaits
// an ack. Redelivery deadlines are not kept: after a restart every pending
// message is due again at once (at least once, never lost).
type State struct {
	Next       uint64         `json:"next"`      // next stream sequence to read
	Delivered  uint64         `json:"delivered"` // consumer sequence of the last delivery
	LastStream uint64         `json:"last_stream"`
	FloorS     uint64         `json:"floor_stream"`
	FloorC     uint64         `json:"floor_consumer"`
	Pending    []PendingEntry `json:"pending,omitempty"`
	LastPer    []uint64       `json:"last_per_subject,omitempty"`
}

// PendingEntry is one unacknowledged delivery.
type PendingEntry struct {
	Stream     uint64 `json:"s"`
	Consumer   uint64 `json:"c"`
	Deliveries int    `json:"d"`
}

// Snapshot returns the state to persist and whether it changed since the
// last snapshot.
func (c *Consumer) Snapshot() (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stateLocked()
	dirty := c.dirty
	c.dirty = false
	return st, dirty
}

// State returns the current state without marking it saved, for a
// stream backup, which must not keep the state from being persisted.
func (c *Consumer) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stateLocked()
}

func (c *Consumer) stateLocked() State { return c.deliveryState.state() }

// restore installs a persisted state; pending deliveries are due at once.
func (c *Consumer) restore(s *State) {
	c.deliveryState.restore(s)
	for _, p := range s.Pending {
		c.queueLocked(p.Stream, c.pending[p.Stream])
	}
	if c.sseq == 0 {
		c.start()
	}
}
