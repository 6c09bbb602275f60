package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/raftnode"
)

// A member whose log of a stream's group is refused (a record failed its
// checksum, or the log lost entries the member had acknowledged) is
// repaired from its peers, without an operator:
//
//  1. it drops its copy (store and group log) and quarantines the stream:
//     while the assignment still names it, it does not host it again,
//     for it would found a new log as if it had never voted or
//     acknowledged anything;
//  2. it asks the meta leader to take it out of the stream's group
//     (STREAM.PEER.REMOVE with "repair"), again until the assignment no
//     longer names it: another server takes its place where one can, or
//     the group shrinks and is marked to grow back (Group.Regrow);
//  3. the stream's leader removes it from the group's Raft configuration
//     (replica_members.go) and, the group being as assigned, asks for
//     the stream to grow back to its replicas (a stream update with its
//     own configuration): the member, or another server, is added as a
//     joiner and replays the leader's log.
//
// The quarantine lasts until this server sees an assignment without it;
// any later assignment naming it names it as a joiner, so it starts
// empty, after the group's configuration excluded it.

// repairRetry is how often a damaged member asks again to be taken out,
// and repairFor how long it keeps asking.
const (
	repairRetry = 2 * time.Second
	repairFor   = 10 * time.Minute
)

// peerRemoveRequest is STREAM.PEER.REMOVE's request with Starling's
// "repair" flag, which only a member asking for its own repair sets.
type peerRemoveRequest struct {
	jsapi.StreamRemovePeerRequest
	Repair bool `json:"repair,omitempty"`
}

// refusedLog reports whether err means this member's log of the group
// cannot be used.
func refusedLog(err error) bool {
	return errors.Is(err, raftlog.ErrDamaged) || errors.Is(err, raftnode.ErrLogLost)
}

// quarantineKey names a stream in cluster.quarantine.
func quarantineKey(account, name string) string { return account + "\x00" + name }

// splitKey reads a quarantine key back.
func splitKey(k string) [2]string {
	a, n, _ := strings.Cut(k, "\x00")
	return [2]string{a, n}
}

// quarantined reports whether this server must not host the stream now.
func (c *cluster) quarantined(account, name string) bool {
	_, ok := c.quarantine.Load(quarantineKey(account, name))
	return ok
}

// repairMember drops this member's copy of a stream whose group log was
// refused and asks to be taken out of the group (see above). adminMu
// held.
func (m *jsAccount) repairMember(ent *entry, cause error) {
	name := ent.s.Name()
	if _, loaded := m.cl.quarantine.LoadOrStore(quarantineKey(m.name, name), true); loaded {
		return
	}
	m.log.Error("stream group log refused; dropping this copy and asking to be replaced", "stream", name, "err", cause)
	if _, err := m.unhostStream(name); err != nil {
		m.log.Error("damaged stream copy not removed", "stream", name, "err", err)
	}
	m.cl.wg.Add(1)
	go func() {
		defer m.cl.wg.Done()
		body, _ := json.Marshal(peerRemoveRequest{StreamRemovePeerRequest: jsapi.StreamRemovePeerRequest{Peer: m.cl.cfg.ServerName}, Repair: true})
		deadline := time.Now().Add(repairFor)
		for time.Now().Before(deadline) {
			named := false
			m.cl.read(func(st *jsmeta.State) {
				if sa := st.Stream(m.name, name); sa != nil {
					named = m.cl.hosting.mine(sa.Group)
				}
			})
			if !named {
				return
			}
			// The meta leader answers an inbox nobody reads: the
			// assignment is the answer.
			if _, err := m.api.Publish(strings.TrimSuffix(jsapi.SubjStreamPeerRemove, "*")+name, "_INBOX.starling.repair", nil, body); err != nil {
				m.log.Debug("repair request not sent", "stream", name, "err", err)
			}
			select {
			case <-time.After(repairRetry):
			case <-m.cl.done:
				return
			}
		}
		m.log.Error("damaged stream copy: not taken out of its group in time", "stream", name)
	}()
}

// askRegrow asks the meta leader to grow a stream that shrank for a
// repair back to its replicas, once its group is as assigned (the
// repaired member is out of the Raft configuration).
func (m *jsAccount) askRegrow(ent *entry) {
	rep := ent.rep
	sa := rep.assigned()
	if sa == nil || !sa.Group.Regrow || len(sa.Group.Peers) >= max(sa.Config.Replicas, 1) {
		return
	}
	if last := rep.regrowAsked.Load(); last != 0 && time.Since(time.Unix(0, last)) < repairRetry {
		return
	}
	rep.regrowAsked.Store(time.Now().UnixNano())
	body, err := json.Marshal(sa.Config)
	if err != nil {
		return
	}
	if _, err := m.api.Publish(strings.TrimSuffix(jsapi.SubjStreamUpdate, "*")+sa.Config.Name, "_INBOX.starling.regrow", nil, body); err != nil {
		m.log.Debug("regrow request not sent", "stream", sa.Config.Name, "err", err)
	}
}

// groupLost reports whether the Raft host no longer runs group because
// its log cannot be used: stopped for lost entries, or gone from a host
// that still runs. A host that failed (its log's writes failed: a full
// disk) drops every group too, but its log is whole: the server resumes
// from it once restarted, and nothing is repaired meanwhile.
func (c *cluster) groupLost(group uint64) bool {
	_, err := c.status(group)
	switch {
	case errors.Is(err, raftnode.ErrLogLost):
		return true
	case !errors.Is(err, raftnode.ErrNoGroup):
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthWait)
	defer cancel()
	return c.node.Host.Err(ctx) == nil
}

// checkGroupRuns notices, on the member's own loop, a group the Raft host
// stopped because its log lost acknowledged entries, and repairs the
// member (off the loop: repairing stops it).
func (m *jsAccount) checkGroupRuns(ent *entry) {
	g := ent.rep.group()
	if g == nil {
		return
	}
	if !m.cl.groupLost(g.ID()) {
		return
	}
	if !ent.rep.repairing.CompareAndSwap(false, true) {
		return // a repair is on its way (it waits for adminMu)
	}
	m.cl.wg.Add(1)
	go func() {
		defer m.cl.wg.Done()
		defer ent.rep.repairing.Store(false)
		m.adminMu.Lock()
		defer m.adminMu.Unlock()
		if m.lookup(ent.s.Name()) == ent {
			m.repairMember(ent, raftnode.ErrLogLost)
		}
	}()
}
