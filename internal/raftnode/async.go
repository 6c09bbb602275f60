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

// queueAsync takes a queued proposal for the next flushAsync: the host
// gathers what one drain takes and proposes each group's share as one
// raft message. Proposed one at a time, each entry made the leader send
// every follower an append of its own (raft broadcasts on every
// proposal), which cost more CPU in encoding, decoding, stepping and
// acknowledging them than anything else on a busy replicated stream.
func (e *engine) queueAsync(ap asyncProposal) {
	e.queued = append(e.queued, ap)
}

// flushAsync proposes the queued proposals, each group's in the order
// they were queued, one raft message per group. The host calls it before
// anything else that could propose (a call on the loop) and at the end
// of each drain, so proposals keep the order they were made in.
func (e *engine) flushAsync() {
	q := e.queued
	if len(q) == 0 {
		return
	}
	for i := 0; i < len(q); {
		// The run of proposals for one group: a drain usually holds one
		// stream's publishes back to back. A run is cut at the size of
		// one append (MaxSizePerMsg), so a burst of large messages is
		// not refused whole by raft's bound on uncommitted data, as one
		// message over it would be.
		j, size := i+1, uint64(len(q[i].data))
		for j < len(q) && q[j].group == q[i].group && size+uint64(len(q[j].data)) <= e.cfg.MaxSizePerMsg {
			size += uint64(len(q[j].data))
			j++
		}
		e.proposeRun(q[i:j])
		i = j
	}
	clear(q)
	e.queued = q[:0]
}

// proposeRun proposes run (all for one group) as one raft message.
func (e *engine) proposeRun(run []asyncProposal) {
	fail := func(err error) {
		for _, ap := range run {
			ap.notify(Result{}, err)
		}
	}
	if e.failed != nil {
		fail(ErrStopped)
		return
	}
	g := e.groups[run[0].group]
	if g == nil {
		fail(ErrNoGroup)
		return
	}
	ids := make([]uint64, len(run))
	datas := make([][]byte, len(run))
	for i, ap := range run {
		e.nextID++
		ids[i], datas[i] = e.nextID, ap.data
	}
	props, err := g.proposeMany(ids, datas, e.cfg.MaxPendingProposals)
	for i, ap := range run {
		switch {
		case err != nil:
			ap.notify(Result{}, err)
		case props[i] == nil:
			ap.notify(Result{}, ErrBusy)
		default:
			props[i].notify = ap.notify // nothing settles it before the next process
		}
	}
}
