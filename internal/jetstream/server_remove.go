package jetstream

import (
	"context"
	"encoding/json"
	"math/rand/v2"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
)

// SERVER.REMOVE ($JS.API.SERVER.REMOVE, system account, the meta leader
// answers) takes a server out of the JetStream cluster for good, as an
// operator does with a server that will not come back: every stream
// group it was in gets a replacement where one can be placed (or
// shrinks), and it leaves the meta group. The meta leader does not add it
// back while the servers that applied the removal run.

const (
	subjServerRemove         = "$JS.API.SERVER.REMOVE"
	typeServerRemoveResponse = "io.nats.jetstream.api.v1.meta_server_remove_response"
)

// serverRemoveRequest names the server by name, or by peer id (which
// takes precedence).
type serverRemoveRequest struct {
	Server string `json:"peer"`
	Peer   string `json:"peer_id"`
}

func (c *cluster) serverRemove(body []byte) *jsapi.ApiError {
	if len(body) == 0 {
		return jsapi.NewError(jsapi.ErrBadRequest)
	}
	var req serverRemoveRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return jsapi.NewError(jsapi.ErrInvalidJSON, err)
	}
	st, err := c.status(jscluster.MetaGroup)
	if err != nil {
		return jsapi.NewError(jsapi.ErrClusterNotAvail)
	}
	var id uint64
	var name string
	for _, v := range st.Members.Voters {
		switch n := c.nameOf(v); {
		case req.Peer != "":
			if n != "" && peerHash(n) == req.Peer {
				id, name = v, n
			}
		case req.Server != "" && v == jscluster.NodeID(req.Server):
			id, name = v, req.Server
		}
	}
	if id == 0 {
		return jsapi.NewError(jsapi.ErrClusterServerNotMember)
	}
	c.removed.Store(name, true)
	var op jsmeta.Op
	c.read(func(st *jsmeta.State) {
		c.decide(func(rng *rand.Rand) { op = jsmeta.PlanRemovePeer(st, c.placementCluster(), name, rng) })
	})
	ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
	defer cancel()
	if _, err := c.propose(ctx, op); err != nil {
		return proposeError(err, jsapi.ErrClusterNotAvail)
	}
	prop, err := c.node.Host.RemoveMember(ctx, jscluster.MetaGroup, id)
	if err == nil {
		_, err = prop.Wait(ctx)
	}
	if err != nil {
		return jsapi.NewError(jsapi.ErrClusterNotAvail)
	}
	c.m.log.Info("JetStream cluster: server removed", "server_name", name)
	return nil
}
