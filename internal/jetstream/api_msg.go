package jetstream

import (
	"context"
	"errors"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// loadFor finds the message a get request names: by sequence, the last on
// a subject, or the first on a subject at or after a sequence.
func loadFor(st store.Store, req *jsapi.MsgGetRequest) (*store.Msg, error) {
	switch {
	case req.NextFor != "":
		return st.LoadNext(req.NextFor, req.Seq)
	case req.LastFor != "":
		return st.LoadLast(req.LastFor)
	default:
		return st.Load(req.Seq)
	}
}

func (m *jsAccount) msgGet(r *request) any {
	resp := &jsapi.MsgGetResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeMsgGetResponse}}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	var req jsapi.MsgGetRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	// Exactly one way of choosing the message.
	if (req.Seq > 0 && req.LastFor != "") || (req.Seq == 0 && req.LastFor == "" && req.NextFor == "") ||
		(req.LastFor != "" && req.NextFor != "") {
		resp.Error = jsapi.NewError(jsapi.ErrBadRequest)
		return resp
	}
	if !ent.leased() {
		// A leader cut off from its group may be behind the one
		// elected meanwhile: no read, rather than a stale one.
		resp.Error = jsapi.NewError(jsapi.ErrClusterNotAvail)
		return resp
	}
	// A leader's read waits for the subject's publishes in flight
	// (stream.Settle): compare-and-set checks already count them.
	ent.s.Settle(req.LastFor, req.Seq, settleWait)
	msg, err := loadFor(ent.s.Store(), &req)
	if err != nil {
		resp.Error = jsapi.NewError(jsapi.ErrNoMessageFound)
		return resp
	}
	resp.Message = &jsapi.StoredMsg{
		Subject:  msg.Subject,
		Sequence: msg.Seq,
		Header:   msg.Header,
		Data:     msg.Data,
		Time:     time.Unix(0, msg.Time).UTC(),
	}
	return resp
}

func (m *jsAccount) msgDelete(r *request) any {
	resp := &jsapi.MsgDeleteResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeMsgDeleteResponse}}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	var req jsapi.MsgDeleteRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	cfg := ent.s.Config()
	switch {
	case cfg.Sealed:
		resp.Error = jsapi.NewError(jsapi.ErrStreamSealed)
		return resp
	case cfg.DenyDelete:
		resp.Error = jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, errors.New("message delete not permitted"))
		return resp
	}
	if ent.rep != nil {
		ctx, cancel := context.WithTimeout(context.Background(), groupWait)
		defer cancel()
		var ae *jsapi.ApiError
		switch err := ent.rep.group().Delete(ctx, req.Seq, !req.NoErase); {
		case errors.As(err, &ae):
			resp.Error = ae
		case err != nil:
			resp.Error = jsapi.NewError(jsapi.ErrClusterNotAvail)
		default:
			resp.Success = true
		}
		return resp
	}
	removed, err := ent.s.DeleteMsg(req.Seq, !req.NoErase)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		resp.Error = m.failed(jsapi.ErrStreamMsgDeleteFailed, err)
	case !removed:
		resp.Error = jsapi.NewError(jsapi.ErrSequenceNotFound, req.Seq)
	default:
		resp.Success = true
	}
	return resp
}

// settleWait bounds a read's wait for the publishes in flight it must
// see.
const settleWait = 2 * time.Second
