package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/raftnode"
)

// The request a rejoining server sends the meta leader (rejoin.go, step
// 2), and the leader's side of it. The subject is in the system account,
// nats-server's $SYS when none is configured (a cluster without accounts
// registers it for this): no client of another account can ask for a
// healthy server's removal or forge an answer.

const (
	subjRejoin = "$JSC.META.REJOIN"
	// rejoinWait bounds one request (the leader looks for a few heartbeats
	// whether it hears from the server and commits twice before it
	// answers); rejoinRetry is the pause between requests unanswered or
	// answered "not yet". A request the leader finishes after the asker
	// gave up is answered again, at once, the next time.
	rejoinWait  = 4 * time.Second
	rejoinRetry = time.Second
	releasePoll = 100 * time.Millisecond
)

type rejoinRequest struct {
	Server string `json:"server"`
}

type rejoinResponse struct {
	// Out is the meta log index as of which the server is in no group
	// that runs Raft, the meta group included (0: not out yet).
	Out   uint64 `json:"out,omitempty"`
	Error string `json:"error,omitempty"`
}

// startRejoinClient makes the internal client both sides use, and
// subscribes the leader's side.
func (c *cluster) startRejoinClient() error {
	name := c.m.cfg.SystemAccount
	if name == "" {
		name = options.DefaultSystemAccount
	}
	ic := c.m.srv.NewInternalClientIn(c.m.srv.RegisterAccount(name), "jetstream-rejoin")
	err := c.answerAsLeader(ic, subjRejoin, func(body []byte) any {
		var resp rejoinResponse
		out, err := c.takeOut(body)
		if err != nil {
			resp.Error = err.Error()
		}
		resp.Out = out
		return resp
	})
	if err != nil {
		ic.Close()
		return err
	}
	c.rejoinIC = ic
	return nil
}

// takeOut, on the meta leader, takes a rejoining server out of every
// group that runs Raft and then out of the meta group, and returns the
// meta log index as of which it is out. The assignments' change is
// proposed even when there is nothing left to change: its commit shows
// this server still leads, and the configuration read after it includes
// every membership change committed before it, so "out" is never
// answered from a stale leader's view.
func (c *cluster) takeOut(body []byte) (uint64, error) {
	var req rejoinRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Server == "" {
		return 0, errors.New("bad rejoin request")
	}
	if req.Server == c.cfg.ServerName {
		return 0, errors.New("the meta leader cannot rejoin")
	}
	ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
	defer cancel()
	// Only a server the leader does not hear from as a member can be
	// the one asking, since a rejoining server does not run the group:
	// a request naming a healthy server (a stale one, or forged by
	// anything that can publish in the system account) is refused.
	id := jscluster.NodeID(req.Server)
	if heard, err := c.heardFrom(ctx, id); err != nil || heard {
		if err == nil {
			err = errors.New("the server runs the meta group: it is not rejoining")
		}
		return 0, err
	}
	var op jsmeta.Op
	c.read(func(st *jsmeta.State) {
		c.decide(func(rng *rand.Rand) { op = jsmeta.PlanRejoin(st, c.placementCluster(), req.Server, rng) })
	})
	if _, err := c.propose(ctx, op); err != nil {
		return 0, err
	}
	st, err := c.node.Host.Status(ctx, jscluster.MetaGroup)
	if err != nil {
		return 0, err
	}
	if slices.Contains(st.Members.Voters, id) || slices.Contains(st.Members.Learners, id) || slices.Contains(st.Members.Outgoing, id) {
		prop, err := c.node.Host.RemoveMember(ctx, jscluster.MetaGroup, id)
		if err == nil {
			_, err = prop.Wait(ctx)
		}
		if err != nil {
			return 0, err
		}
		c.m.log.Info("JetStream cluster: server taken out of the meta group to rejoin", "server_name", req.Server)
		if st, err = c.node.Host.Status(ctx, jscluster.MetaGroup); err != nil {
			return 0, err
		}
	}
	return st.Applied, nil
}

// heardFrom reports whether the meta leader hears from member id. Raft's
// CheckQuorum clears every follower's RecentActive once an election
// timeout, and a healthy follower sets it again with its next heartbeat
// answer: a member found silent is looked at again for a few heartbeats
// before it counts as silent (one look right after the clearing took a
// healthy server out of every group).
func (c *cluster) heardFrom(ctx context.Context, id uint64) (bool, error) {
	look := max(4*c.node.Host.HeartbeatInterval(), 200*time.Millisecond)
	deadline := time.Now().Add(look)
	for {
		st, err := c.node.Host.Status(ctx, jscluster.MetaGroup)
		if err != nil {
			return false, err
		}
		if activeMember(st, id) {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-time.After(look / 8):
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// activeMember reports whether the leader's status shows id as a member
// of the group that answered its appends and was heard from within the
// last election timeout (Raft's CheckQuorum resets RecentActive). A
// member just added, which never answered, has matched nothing.
func activeMember(st raftnode.Status, id uint64) bool {
	m := st.Members
	if !slices.Contains(m.Voters, id) && !slices.Contains(m.Learners, id) && !slices.Contains(m.Outgoing, id) {
		return false
	}
	pr, ok := st.Progress[id]
	return ok && pr.RecentActive && pr.Match > 0
}

// askOut sends one rejoin request and returns the index the leader
// answered this server is out by, 0 when it is not (yet).
func (c *cluster) askOut() uint64 {
	inbox := "_INBOX.starling.rejoin." + nuidish()
	got := make(chan rejoinResponse, 1)
	sub, err := c.rejoinIC.Subscribe(inbox, "", func(msg *core.Msg) {
		var resp rejoinResponse
		if json.Unmarshal(msg.Data, &resp) == nil {
			select {
			case got <- resp:
			default:
			}
		}
	})
	if err != nil {
		return 0
	}
	defer sub.Unsubscribe()
	body, _ := json.Marshal(rejoinRequest{Server: c.cfg.ServerName})
	if _, err := c.rejoinIC.Publish(subjRejoin, inbox, nil, body); err != nil {
		return 0
	}
	select {
	case resp := <-got:
		if resp.Error != "" {
			c.m.log.Warn("JetStream cluster: the meta leader did not take this server out yet", "err", resp.Error)
		}
		return resp.Out
	case <-time.After(rejoinWait):
		return 0
	case <-c.done:
		return 0
	}
}

// metaStopped starts a rejoin when the meta group stopped while running
// (its log lost acknowledged entries, raftnode.ErrLogLost): the marker
// first, then the group's records go, and founding looks again, now as a
// rejoin. Called from watchMembers.
func (c *cluster) metaStopped() {
	meta := c.meta.Load()
	if meta == nil {
		return // not joined: founding, or a rejoin waiting to be invited
	}
	// A meta group lost again before a rejoin's hosting was released
	// starts the rejoin over: the marker below replaces the last one.
	if !c.groupLost(jscluster.MetaGroup) {
		return
	}
	mark := &rejoinMark{Since: time.Now().UTC(), Why: "the meta group's log lost entries this server had acknowledged"}
	c.m.log.Error("JetStream cluster: the meta group stopped; this server rejoins from its peers", "why", mark.Why)
	if err := writeRejoinMark(c.m.fs, c.m.cfg.StoreDir, mark); err != nil {
		c.m.log.Error("JetStream cluster: rejoin marker not written", "err", err)
		return
	}
	c.hosting.held.Store(true)
	c.rejoin.Store(mark)
	c.invite.Store(false)
	c.meta.Store(nil)
	meta.Close()
	ctx, cancel := context.WithTimeout(context.Background(), metaStartTimeout)
	err := c.node.Host.RemoveGroup(ctx, jscluster.MetaGroup)
	cancel()
	if err != nil {
		c.m.log.Error("JetStream cluster: the stopped meta group's log not dropped", "err", err)
	}
	c.wg.Add(1)
	go c.found(false)
}

// releaseHosting, once this server's new meta log is applied past the
// index it was taken out by, hands hosting the whole state (nothing from
// before that index names it in a group that runs Raft any more) and
// ends the rejoin.
func (c *cluster) releaseHosting(meta *jscluster.Meta, out uint64) {
	defer c.wg.Done()
	for {
		if c.meta.Load() != meta {
			return // lost again: metaStopped started the rejoin over
		}
		if st, err := c.status(jscluster.MetaGroup); err == nil && st.Applied >= out {
			break
		}
		select {
		case <-time.After(releasePoll):
		case <-c.done:
			return
		}
	}
	err := meta.Reconcile(func() { c.hosting.held.Store(false) }, func() {
		if err := removeRejoinMark(c.m.fs, c.m.cfg.StoreDir); err != nil {
			c.m.log.Error("JetStream cluster: rejoin marker not removed", "err", err)
			return
		}
		c.rejoin.Store(nil)
		c.m.log.Info("JetStream cluster: rejoined the meta group; hosting this server's assignments again")
	})
	if err != nil {
		c.m.log.Error("JetStream cluster: assignments not reconciled after the rejoin", "err", err)
	}
}
