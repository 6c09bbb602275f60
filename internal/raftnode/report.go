package raftnode

import "go.etcd.io/raft/v3"

// The transport tells the host what became of its messages to a peer:
// that the peer could not be reached (a leader then probes it instead of
// streaming appends at it), and whether a snapshot reached it (etcd raft
// sends a follower nothing more after a snapshot until it hears). These
// reports come from the transport's goroutines, which must never block,
// so they go through a bounded queue and are dropped when it is full: a
// dropped unreachable report costs some useless appends, a dropped
// snapshot report a wait until the leader's next probe of that follower.

const reportQueue = 1024

type report struct {
	group, to uint64 // group 0: every group with to as a member
	snapshot  bool
	ok        bool
}

// ReportUnreachable tells every group with node as a member that it could
// not be reached. It never blocks.
func (h *Host) ReportUnreachable(node uint64) { h.queueReport(report{to: node}) }

// ReportSnapshot tells the group whether the snapshot sent to node got
// there. It never blocks.
func (h *Host) ReportSnapshot(group, node uint64, ok bool) {
	h.queueReport(report{group: group, to: node, snapshot: true, ok: ok})
}

func (h *Host) queueReport(r report) {
	select {
	case h.reports <- r:
	default:
		h.dropped.Add(1)
	}
}

// report applies one report on the loop.
func (e *engine) report(r report) {
	if r.snapshot {
		if g := e.groups[r.group]; g != nil {
			status := raft.SnapshotFailure
			if r.ok {
				status = raft.SnapshotFinish
			}
			g.rn.ReportSnapshot(r.to, status)
		}
		return
	}
	for _, id := range e.order {
		g := e.groups[id]
		if _, member := g.rn.Status().Progress[r.to]; member {
			g.rn.ReportUnreachable(r.to)
		}
	}
}
