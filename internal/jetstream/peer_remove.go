package jetstream

import (
	"context"
	"math/rand/v2"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
)

// streamPeerRemove takes a server out of a stream's group
// ($JS.API.STREAM.PEER.REMOVE.<stream>, answered by the meta leader): the
// meta group assigns the stream a replacement when one can be placed,
// and the group's leader carries the change out (replica_members.go).
// With no replacement the group shrinks and the answer says the remap
// failed, as nats-server answers; a stream's only copy is never removed.
func (m *jsAccount) streamPeerRemove(r *request) any {
	resp := &jsapi.SuccessResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamRemovePeerResponse}}
	if !m.clustered() {
		resp.Error = jsapi.NewError(jsapi.ErrClusterRequired)
		return resp
	}
	if len(r.data) == 0 {
		resp.Error = jsapi.NewError(jsapi.ErrBadRequest)
		return resp
	}
	var req peerRemoveRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	if req.Peer == "" {
		resp.Error = jsapi.NewError(jsapi.ErrBadRequest)
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	var (
		op       jsmeta.Op
		replaced bool
		e        *jsapi.ApiError
	)
	m.cl.read(func(st *jsmeta.State) {
		m.cl.decide(func(rng *rand.Rand) {
			op, replaced, e = jsmeta.PlanRemoveStreamPeer(st, m.cl.placementCluster(), m.name, streamName(r.subject), req.Peer, req.Repair, rng)
		})
	})
	if e != nil {
		resp.Error = e
		return resp
	}
	if op.Kind != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
		defer cancel()
		if _, err := m.cl.propose(ctx, op); err != nil {
			resp.Error = proposeError(err, jsapi.ErrPeerRemap)
			return resp
		}
	}
	if !replaced {
		resp.Error = jsapi.NewError(jsapi.ErrPeerRemap)
		return resp
	}
	resp.Success = true
	return resp
}
