package jetstream

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

// A replicated stream's members follow its assignment: when the meta
// group changes the assignment's peers (a replica-count update, a peer
// removed), every server acts on its part:
//
//   - a server newly named hosts the stream and joins the group with an
//     empty log (jsmeta.Group.JoinsEmpty), to replay the leader's;
//   - the stream's leader changes the group's voters to the peers, one
//     member at a time, additions first, so the group never has fewer
//     members than either side of the change; a new member joins as a
//     learner and is made a voter once it has caught up, so the quorum
//     never waits for a member replaying the log (a group of one that
//     grows would otherwise stop committing until its second member had
//     replayed everything); the leader hands its leadership to a
//     remaining member before it removes itself;
//   - a server no longer named keeps its member running until the group
//     has removed it (its vote may be needed to commit the removal), then
//     removes the stream and its log.

// memberCheck is how often a stream's leader compares its group with
// the assignment, besides when the assignment changes.
const memberCheck = time.Second

// memberChanges bounds the changes one reconciliation makes.
const memberChanges = 8

// reconcileMembers makes the group's voters the assigned peers, on the
// stream's leader.
func (m *jsAccount) reconcileMembers(ent *entry) {
	rep := ent.rep
	g, sa := rep.group(), rep.assigned()
	if g == nil || sa == nil || !sa.Group.Replicated() {
		return
	}
	want := make([]uint64, len(sa.Group.Peers))
	for i, p := range sa.Group.Peers {
		want[i] = jscluster.NodeID(p)
	}
	for range memberChanges {
		st, err := m.cl.status(g.ID())
		if err != nil || st.Leader != st.ID || len(st.Members.Outgoing) > 0 || len(st.Members.Voters) == 0 {
			return
		}
		ch := memberChange(st, want)
		if ch == (change{}) {
			m.askRegrow(ent) // a member taken out for repair is out
			return
		}
		if ch.remove == st.ID {
			m.handOver(ent, g, st, want)
			return
		}
		if ch.wait {
			return // a learner still catching up: the next check looks again
		}
		ctx, cancel := context.WithTimeout(context.Background(), groupWait)
		var err2 error
		switch {
		case ch.learn != 0:
			err2 = g.AddLearner(ctx, ch.learn)
		case ch.promote != 0:
			_, err2 = g.ChangeMembers(ctx, []uint64{ch.promote}, nil)
		default:
			_, err2 = g.ChangeMembers(ctx, nil, []uint64{ch.remove})
		}
		cancel()
		if err2 != nil {
			m.log.Debug("stream group members not changed yet", "stream", sa.Config.Name, "change", ch.describe(m.cl), "err", err2)
			return // the next check tries again
		}
		m.log.Info("stream group members changed", "stream", sa.Config.Name, "change", ch.describe(m.cl))
	}
}

// learnerSlack is how far behind the leader's commit index a learner may
// be when it is made a voter: a member receiving a busy stream's log is
// always a little behind, and this much it replays in moments.
const learnerSlack = 1024

// change is one membership change of a stream's group.
type change struct {
	learn, promote, remove uint64
	wait                   bool // a learner is not caught up yet
}

func (ch change) describe(c *cluster) string {
	switch {
	case ch.learn != 0:
		return "added as a learner: " + c.label(ch.learn)
	case ch.promote != 0:
		return "made a voter: " + c.label(ch.promote)
	}
	return "removed: " + c.label(ch.remove)
}

// memberChange picks the next single change that brings st's voters to
// want: a new member joins as a learner, a learner that caught up
// becomes a voter, then the others not wanted are removed (learners
// first), and the leader itself last.
func memberChange(st raftnode.Status, want []uint64) change {
	for _, id := range want {
		switch {
		case slices.Contains(st.Members.Voters, id):
		case !slices.Contains(st.Members.Learners, id):
			return change{learn: id}
		case st.Progress[id].Match+learnerSlack >= st.Commit:
			return change{promote: id}
		default:
			return change{wait: true}
		}
	}
	for _, id := range st.Members.Learners {
		if !slices.Contains(want, id) {
			return change{remove: id}
		}
	}
	self := false
	for _, id := range st.Members.Voters {
		if slices.Contains(want, id) {
			continue
		}
		if id == st.ID {
			self = true
			continue
		}
		return change{remove: id}
	}
	if self {
		return change{remove: st.ID}
	}
	return change{}
}

// handOver gives the leadership to the most caught-up member that stays,
// whose reconciliation then removes this one.
func (m *jsAccount) handOver(ent *entry, g *jscluster.StreamGroup, st raftnode.Status, want []uint64) {
	var to uint64
	var best uint64
	for _, id := range want {
		pr, ok := st.Progress[id]
		if ok && id != st.ID && pr.RecentActive && (to == 0 || pr.Match > best) {
			to, best = id, pr.Match
		}
	}
	if to == 0 {
		return // nobody to hand over to yet
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupWait)
	defer cancel()
	if err := g.TransferLeadership(ctx, to); err != nil {
		m.log.Debug("stream leadership not handed over", "stream", ent.s.Name(), "to", m.cl.label(to), "err", err)
	}
}

// leaveWait bounds how long a server no longer assigned a stream keeps
// its member running for the group to remove it.
const leaveWait = 30 * time.Second

// leaveWhenRemoved unhosts a replicated stream this server is no longer
// assigned, once its group has removed this member (or after leaveWait),
// unless an assignment names it again by then.
func (h *Hosting) leaveWhenRemoved(a *jsAccount, ent *entry, account, name string) {
	if !ent.rep.leaving.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer ent.rep.leaving.Store(false)
		deadline := time.Now().Add(leaveWait)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for time.Now().Before(deadline) {
			g := ent.rep.group()
			if g == nil {
				break
			}
			st, err := a.cl.status(g.ID())
			if err != nil || st.Removed {
				break
			}
			select {
			case <-t.C:
			case <-ent.rep.done:
				return // unhosted or stopped meanwhile
			}
		}
		still := false
		a.cl.read(func(st *jsmeta.State) {
			if sa := st.Stream(account, name); sa != nil {
				still = h.mine(sa.Group)
			}
		})
		if !still {
			h.unhostStream(account, name, "")
		}
	}()
}

// label names node id for a log line: its server name, or the id when no
// name is known (a server removed while away).
func (c *cluster) label(id uint64) string {
	if id == 0 {
		return ""
	}
	if name := c.nameOf(id); name != "" {
		return name
	}
	return fmt.Sprintf("%x", id)
}
