package jscluster

import (
	"context"

	"github.com/starling-mq/starling/internal/raftnode"
)

// A member added to a stream's group (a scale-up, a replaced peer)
// starts empty: it replays the log from its first entry, applying every
// message at its sequence as the founders did, or, once the log was
// compacted, takes a snapshot and fetches the messages it names from a
// peer (streamgroup_snapshot.go).

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

// AddLearner adds node to the group as a learner (it gets the log but
// does not vote yet) and waits until the change is applied here.
func (g *StreamGroup) AddLearner(ctx context.Context, node uint64) error {
	p, err := g.node.Host.AddLearner(ctx, g.group, node)
	if err != nil {
		return err
	}
	_, err = p.Wait(ctx)
	return err
}

// TransferLeadership hands the group's leadership (held here) to node.
func (g *StreamGroup) TransferLeadership(ctx context.Context, node uint64) error {
	return g.node.Host.TransferLeadership(ctx, g.group, node)
}

// seedInFlight bounds the seed entries proposed and not yet committed.
const seedInFlight = 256

// Seed proposes entries the stream has already applied (a stream held by
// one server alone becoming replicated: its messages, re-proposed so that
// members added later find them in the log) and waits until every one is
// committed. next returns the entries in order, nil at the end. Applying
// them here changes nothing: their sequences are already taken. The
// caller must not propose anything else meanwhile.
func (g *StreamGroup) Seed(ctx context.Context, next func() ([]byte, error)) error {
	sem := make(chan struct{}, seedInFlight)
	failed := make(chan error, 1)
	fail := func(err error) {
		select {
		case failed <- err:
		default:
		}
	}
	for {
		b, err := next()
		if err != nil {
			return err
		}
		if b == nil {
			break
		}
		select {
		case sem <- struct{}{}:
		case err := <-failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
		g.order.Lock()
		err = g.propose(b, func(_ raftnode.Result, err error) {
			if err != nil {
				fail(err)
			}
			<-sem
		})
		g.order.Unlock()
		if err != nil {
			return err
		}
	}
	for range seedInFlight { // every proposal settled
		select {
		case sem <- struct{}{}:
		case err := <-failed:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case err := <-failed:
		return err
	default:
		return nil
	}
}
