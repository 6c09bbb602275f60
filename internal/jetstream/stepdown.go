package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/raftnode"
)

// Leader step-downs, as nats-server's API asks for them: the leader hands
// its group to another member that is up to date (the one the request
// prefers, when it names one). A consumer is led by its stream's leader
// (replica.go), so stepping a consumer's leader down steps its stream's
// down.

func (m *jsAccount) streamStepDown(r *request) any {
	resp := &jsapi.SuccessResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamLeaderStepDownResponse}}
	if !m.clustered() {
		resp.Error = jsapi.NewError(jsapi.ErrClusterRequired)
		return resp
	}
	ent := m.lookup(token(r.subject, 5))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	resp.Error = m.stepDown(ent, r.data)
	resp.Success = resp.Error == nil
	return resp
}

func (m *jsAccount) consumerStepDown(r *request) any {
	resp := &jsapi.SuccessResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerLeaderStepDownResponse}}
	if !m.clustered() {
		resp.Error = jsapi.NewError(jsapi.ErrClusterRequired)
		return resp
	}
	ent := m.lookup(token(r.subject, 5))
	switch {
	case ent == nil:
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
	case ent.consumer(token(r.subject, 6)) == nil:
		resp.Error = jsapi.NewError(jsapi.ErrConsumerNotFound)
	default:
		resp.Error = m.stepDown(ent, r.data)
		resp.Success = resp.Error == nil
	}
	return resp
}

// stepDown hands the stream's group to another current member. A stream
// of one replica has no one to hand it to, and reports success, as
// nats-server does.
func (m *jsAccount) stepDown(ent *entry, body []byte) *jsapi.ApiError {
	if ent.rep == nil || ent.rep.group() == nil {
		return nil
	}
	return m.cl.transfer(ent.rep.group().ID(), ent.rep.assigned().Group.Peers, body)
}

// stepDownWait bounds a step-down's look at the group.
const stepDownWait = 2 * time.Second

// transfer moves the leadership of group (members peers, by name) from
// this server to the member body prefers, or to the most up to date one.
func (c *cluster) transfer(group uint64, peers []string, body []byte) *jsapi.ApiError {
	var req jsapi.LeaderStepDownRequest
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		if err := json.Unmarshal(body, &req); err != nil {
			return jsapi.NewError(jsapi.ErrInvalidJSON, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepDownWait)
	defer cancel()
	st, err := c.node.Host.Status(ctx, group)
	if err != nil {
		return jsapi.NewError(jsapi.ErrRaftGeneral, err)
	}
	var to uint64
	if req.Placement != nil && req.Placement.Preferred != "" {
		name := req.Placement.Preferred
		if name == c.cfg.ServerName || !slices.Contains(peers, name) {
			return jsapi.NewError(jsapi.ErrRaftGeneral, errors.New("preferred server "+name+" is not another member of the group"))
		}
		to = jscluster.NodeID(name)
	} else {
		var best uint64
		for id, pr := range st.Progress {
			// Learners cannot lead: Raft ignores a transfer to one.
			if id != c.node.ID && slices.Contains(st.Members.Voters, id) && pr.RecentActive && pr.Match >= best {
				to, best = id, pr.Match
			}
		}
	}
	if to == 0 {
		return jsapi.NewError(jsapi.ErrClusterNoPeers, errors.New("no other member is up to date"))
	}
	if err := c.node.Host.TransferLeadership(ctx, group, to); err != nil {
		var nl *raftnode.NotLeaderError
		if errors.As(err, &nl) {
			return jsapi.NewError(jsapi.ErrClusterNotAvail)
		}
		return jsapi.NewError(jsapi.ErrRaftGeneral, err)
	}
	return nil
}

// answerMetaStepDown subscribes, in the system account, to the meta
// leader's step-down and to SERVER.REMOVE, which nats-server takes from
// the system account alone; the meta leader answers.
func (c *cluster) answerMetaStepDown() error {
	name := c.m.cfg.SystemAccount
	if name == "" {
		return nil
	}
	acc := c.m.srv.LookupAccount(name)
	if acc == nil {
		return nil
	}
	ic := c.m.srv.NewInternalClientIn(acc, "jetstream-meta")
	stepDown := func(body []byte) *jsapi.ApiError {
		var peers []string
		for _, p := range c.m.srv.ClusterPeers() {
			if p.JetStream {
				peers = append(peers, p.Name)
			}
		}
		return c.transfer(jscluster.MetaGroup, peers, body)
	}
	for _, h := range []struct {
		subject, typ string
		do           func(body []byte) *jsapi.ApiError
	}{
		{jsapi.SubjMetaLeaderStepDown, jsapi.TypeMetaLeaderStepDownResponse, stepDown},
		{subjServerRemove, typeServerRemoveResponse, c.serverRemove},
	} {
		if err := c.answerSystem(ic, h.subject, h.typ, h.do); err != nil {
			ic.Close()
			return err
		}
	}
	c.sys = ic
	return nil
}

// answerSystem answers subject on the meta leader with do's outcome as a
// success response of type typ (answerAsLeader).
func (c *cluster) answerSystem(ic *core.InternalClient, subject, typ string, do func(body []byte) *jsapi.ApiError) error {
	return c.answerAsLeader(ic, subject, func(body []byte) any {
		resp := &jsapi.SuccessResponse{ApiResponse: jsapi.ApiResponse{Type: typ}}
		resp.Error = do(body)
		resp.Success = resp.Error == nil
		return resp
	})
}

// answerAsLeader answers requests on subject, on the meta leader, with
// do's response as JSON, off the publisher's goroutine, one request at a
// time (a request arriving meanwhile is dropped and times out, as a busy
// nats-server's would).
func (c *cluster) answerAsLeader(ic *core.InternalClient, subject string, do func(body []byte) any) error {
	var busy atomic.Bool
	_, err := ic.Subscribe(subject, "", func(msg *core.Msg) {
		if len(msg.Reply) == 0 || !c.isMetaLeader() || !busy.CompareAndSwap(false, true) {
			return
		}
		reply, body := string(msg.Reply), append([]byte(nil), msg.Data...)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer busy.Store(false)
			b, _ := json.Marshal(do(body))
			_, _ = ic.Publish(reply, "", nil, b)
		}()
	})
	return err
}
