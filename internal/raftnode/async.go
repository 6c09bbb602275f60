package raftnode

// ProposeAsync is Propose for callers that must not wait: a publisher's
// read loop hands a message to its stream's group and goes on. The
// proposal is queued in order (proposals made one after the other reach
// the log in that order, which a stream's pipeline relies on), and the
// loop takes every queued proposal before its next save, so they share
// one sync. notify is told the outcome on the host's loop (not leader,
// committed and applied, dropped…) and must return at once. A full queue
// is ErrBusy, at once.

type asyncProposal struct {
	group  uint64
	data   []byte
	notify func(Result, error)
}

// ProposeAsync queues data for the group without waiting.
func (h *Host) ProposeAsync(group uint64, data []byte, notify func(Result, error)) error {
	// Under the read lock Close takes to stop the queue, so nothing is
	// queued after the last proposals were refused.
	h.propsMu.RLock()
	defer h.propsMu.RUnlock()
	if h.propsClosed {
		return ErrStopped
	}
	select {
	case h.props <- asyncProposal{group: group, data: data, notify: notify}:
		return nil
	default:
		return ErrBusy
	}
}

// proposeAsync runs a queued proposal on the loop.
func (e *engine) proposeAsync(ap asyncProposal) {
	p, err := e.propose(ap.group, ap.data)
	if err != nil {
		ap.notify(Result{}, err)
		return
	}
	p.notify = ap.notify // nothing settles it before the next process
}
