package jscluster

import (
	"context"

	"github.com/starling-mq/starling/internal/raftnode"
)

// A stream's group keeps its whole log (raftnode.WholeLog): a stream's
// state is its messages, too large for a snapshot sent in one piece, so a
// member added to the group (a scale-up, a replaced peer) starts empty
// and replays the log from its first entry, applying every message at its
// sequence as the founders did.

// KeepsWholeLog implements raftnode.WholeLog.
func (m *streamSM) KeepsWholeLog() {}

// ChangeMembers adds and removes members (node ids) on the group's leader
// and waits until the change is applied here. Raft takes one change at a
// time (raftnode.ErrChangePending otherwise); a change of more than one
// member goes through joint consensus.
func (g *StreamGroup) ChangeMembers(ctx context.Context, add, remove []uint64) (raftnode.Members, error) {
	p, err := g.node.Host.ChangeMembers(ctx, g.group, add, remove)
	if err != nil {
		return raftnode.Members{}, err
	}
	r, err := p.Wait(ctx)
	if err != nil {
		return raftnode.Members{}, err
	}
	members, _ := r.Value.(raftnode.Members)
	return members, nil
}

// TransferLeadership hands the group's leadership (held here) to node.
func (g *StreamGroup) TransferLeadership(ctx context.Context, node uint64) error {
	return g.node.Host.TransferLeadership(ctx, g.group, node)
}
