package raftnode

import "go.etcd.io/raft/v3"

// LeaderWatcher is a StateMachine that wants to know when this member
// becomes or stops being its group's leader (a replicated stream's leader
// alone runs the expiry timer). LeaderChanged is called on the host's
// loop, after the Ready's committed entries were applied, and must
// return at once (it may queue proposals with ProposeAsync).
type LeaderWatcher interface {
	LeaderChanged(leader bool)
}

// noteLeadership tells a LeaderWatcher state machine of a change of role.
func (g *group) noteLeadership(rd raft.Ready) {
	if rd.SoftState == nil {
		return
	}
	lead := rd.SoftState.RaftState == raft.StateLeader
	if lead == g.leading {
		return
	}
	g.leading = lead
	if w, ok := g.sm.(LeaderWatcher); ok {
		w.LeaderChanged(lead)
	}
}
