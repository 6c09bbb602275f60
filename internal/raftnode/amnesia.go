package raftnode

import "go.etcd.io/raft/v3/raftpb"

// A member that starts with an empty log to join a running group (no
// peers, a log that does not know the group) may be a server that was in
// the group before and lost its log: it may have voted, or acknowledged
// entries that were then committed with its help, and it remembers
// neither. Were the group's configuration still to count it (its removal
// not applied yet, or it was named again before), its vote could elect a
// candidate that lacks those entries. So it neither votes nor campaigns
// until its log holds a committed entry of the current term: a leader
// commits an entry of its own term only once every entry committed before
// is in its log, so the member then holds all of them, with or without
// its help, and its vote is as safe as any member's. A member joining for
// the first time loses nothing by the wait: the quorum a leader needs
// does not count on a member still catching up.

// mayVote reports whether m may be stepped by an amnesiac member: any
// message but a vote request, and a vote request once healed.
func (g *group) mayVote(m *raftpb.Message) bool {
	switch m.GetType() {
	case raftpb.MsgVote, raftpb.MsgPreVote:
		return g.healed()
	}
	return true
}

// healed reports whether the member may vote and campaign, clearing
// amnesiac once its log holds a committed entry of its current term.
func (g *group) healed() bool {
	if !g.amnesiac {
		return true
	}
	st := g.rn.BasicStatus()
	commit := st.GetCommit()
	if commit == 0 {
		return false
	}
	if t, err := g.log.Term(commit); err == nil && t == st.GetTerm() {
		g.amnesiac = false
	}
	return !g.amnesiac
}
