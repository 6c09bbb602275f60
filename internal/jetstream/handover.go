package jetstream

import (
	"context"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/jscluster"
)

// A server stopping on purpose (a shutdown, lame duck mode) first hands
// every leadership it holds, its streams' and the meta group's, to
// another member, as nats-server steps its Raft groups down before it
// goes: the new leaders take over while this one still answers, and
// clients see no gap. A server that dies leaves an election behind, of
// an election timeout or so (about a second, measured with the official
// JavaScript client: publishes found no responders meanwhile).

// handOverWait bounds the whole handover.
const handOverWait = 5 * time.Second

// HandOver moves every leadership this server holds to the most caught-up
// voter of each group and waits, bounded by ctx and handOverWait, until
// none is led here any more. It does nothing outside a cluster.
func (m *Manager) HandOver(ctx context.Context) {
	c := m.cl
	if c == nil || !m.clustered() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, handOverWait)
	defer cancel()
	type led struct {
		id    uint64
		peers []string
	}
	var groups []led
	for _, a := range m.accountList() {
		for _, e := range a.sortedStreams() {
			if e.rep == nil || e.rep.group() == nil || !e.leads() {
				continue
			}
			if sa := e.rep.assigned(); sa != nil && len(sa.Group.Peers) > 1 {
				groups = append(groups, led{e.rep.group().ID(), sa.Group.Peers})
			}
		}
	}
	if c.isMetaLeader() {
		peers := []string{c.cfg.ServerName}
		for _, p := range m.srv.ClusterPeers() {
			if p.JetStream {
				peers = append(peers, p.Name)
			}
		}
		groups = append(groups, led{jscluster.MetaGroup, peers})
	}
	if len(groups) == 0 {
		return
	}
	// Only the transfers Raft took are waited for: a group with no other
	// member up to date (the last server of a cluster going) has nobody
	// to hand over to.
	moving := groups[:0]
	for _, g := range groups {
		if e := c.transfer(g.id, g.peers, nil); e != nil {
			m.log.Debug("leadership not handed over", "group", g.id, "err", e)
			continue
		}
		moving = append(moving, g)
	}
	groups = moving
	if len(groups) == 0 {
		return
	}
	for {
		left := slices.DeleteFunc(slices.Clone(groups), func(g led) bool {
			st, err := c.status(g.id)
			return err != nil || st.Leader != c.node.ID
		})
		if len(left) == 0 {
			m.log.Info("JetStream cluster: leaderships handed over before stopping", "groups", len(groups))
			return
		}
		select {
		case <-ctx.Done():
			m.log.Warn("JetStream cluster: not every leadership handed over before stopping", "left", len(left))
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}
