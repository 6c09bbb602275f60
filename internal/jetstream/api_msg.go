package jetstream

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
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

func (m *Manager) msgGet(r *request) any {
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

func (m *Manager) msgDelete(r *request) any {
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
	removed, err := ent.s.DeleteMsg(req.Seq, !req.NoErase)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		resp.Error = jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, err)
	case !removed:
		resp.Error = jsapi.NewError(jsapi.ErrSequenceNotFound, req.Seq)
	default:
		resp.Success = true
	}
	return resp
}

// Direct get answers with the message itself: its headers plus
// Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp, or a
// status-only reply. It runs on the requester's goroutine, as in
// nats-server, since it only reads.

var (
	statusNotFound     = []byte("NATS/1.0 404 Message Not Found\r\n\r\n")
	statusEmptyRequest = []byte("NATS/1.0 408 Empty Request\r\n\r\n")
	statusMalformed    = []byte("NATS/1.0 408 Malformed Request\r\n\r\n")
	statusBadRequest   = []byte("NATS/1.0 408 Bad Request\r\n\r\n")
)

// directHandler serves direct gets addressed to name (the stream's own, or
// its origin's for a mirror with mirror_direct) from s.
func (m *Manager) directHandler(s *stream.Stream, name string) func(*core.Msg) {
	return func(msg *core.Msg) {
		if len(msg.Reply) == 0 {
			return
		}
		reply := string(msg.Reply)
		subj := string(msg.Subject)
		var req jsapi.MsgGetRequest
		if key := strings.TrimPrefix(subj, jsapi.DirectGetPrefix+name); key != "" {
			// $JS.API.DIRECT.GET.<stream>.<subject>: last message on subject.
			if len(msg.Data) > 0 && json.Unmarshal(msg.Data, &req) != nil {
				m.sendStatus(reply, statusMalformed)
				return
			}
			if req.LastFor != "" || req.NextFor != "" || req.Seq != 0 || req.Batch != 0 || len(req.MultiLastFor) > 0 {
				m.sendStatus(reply, statusBadRequest)
				return
			}
			req.LastFor = key[1:]
		} else {
			if len(msg.Data) == 0 {
				m.sendStatus(reply, statusEmptyRequest)
				return
			}
			if json.Unmarshal(msg.Data, &req) != nil {
				m.sendStatus(reply, statusMalformed)
				return
			}
			if req.Seq == 0 && req.LastFor == "" && req.NextFor == "" {
				m.sendStatus(reply, statusEmptyRequest)
				return
			}
			if (req.Seq > 0 && req.LastFor != "") || (req.LastFor != "" && req.NextFor != "") ||
				(req.LastFor != "" && req.Batch > 0) || len(req.MultiLastFor) > 0 {
				m.sendStatus(reply, statusBadRequest)
				return
			}
		}
		m.directGet(s.Store(), s.Name(), &req, reply)
	}
}

func (m *Manager) sendStatus(reply string, hdr []byte) {
	if _, err := m.api.Publish(reply, "", hdr, nil); err != nil {
		m.log.Debug("direct get reply not sent", "err", err)
	}
}

// directGet sends one message, or a batch of them ended by a 204 EOB
// status when req.Batch is set.
func (m *Manager) directGet(st store.Store, name string, req *jsapi.MsgGetRequest, reply string) {
	if req.Batch <= 0 {
		msg, err := loadFor(st, req)
		if err != nil {
			m.sendStatus(reply, statusNotFound)
			return
		}
		m.sendDirect(reply, directHeader(name, msg, nil), msg.Data)
		return
	}
	filter := req.NextFor
	if filter == "" {
		filter = ">"
	}
	seq := req.Seq
	pending := st.NumPending(seq, filter, false)
	maxBytes := req.MaxBytes
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	var last uint64
	sent := 0
	for i := 0; i < req.Batch; i++ {
		msg, err := st.LoadNext(filter, seq)
		if err != nil {
			if i == 0 {
				m.sendStatus(reply, statusNotFound)
				return
			}
			break
		}
		seq = msg.Seq + 1
		if pending > 0 {
			pending--
		}
		m.sendDirect(reply, directHeader(name, msg, &batchInfo{pending: pending, last: last}), msg.Data)
		last = msg.Seq
		sent += len(msg.Subject) + len(msg.Header) + len(msg.Data)
		if sent >= maxBytes {
			break
		}
	}
	pending = st.NumPending(seq, filter, false)
	eob := proto.NewHeader(204, "EOB").
		Add("Nats-Num-Pending", strconv.FormatUint(pending, 10)).
		Add("Nats-Last-Sequence", strconv.FormatUint(last, 10)).
		Bytes()
	m.sendStatus(reply, eob)
}

type batchInfo struct{ pending, last uint64 }

// directHeader is the message's own header block with the stream's
// description of it appended.
func directHeader(stream string, msg *store.Msg, b *batchInfo) []byte {
	var out []byte
	if len(msg.Header) >= 4 {
		out = append(out, msg.Header[:len(msg.Header)-2]...) // drop the final blank line
	} else {
		out = append(out, proto.HeaderPrefix+"\r\n"...)
	}
	add := func(k, v string) {
		out = append(out, k...)
		out = append(out, ": "...)
		out = append(out, v...)
		out = append(out, "\r\n"...)
	}
	add("Nats-Stream", stream)
	add("Nats-Subject", msg.Subject)
	add("Nats-Sequence", strconv.FormatUint(msg.Seq, 10))
	add("Nats-Time-Stamp", time.Unix(0, msg.Time).UTC().Format(time.RFC3339Nano))
	if b != nil {
		add("Nats-Num-Pending", strconv.FormatUint(b.pending, 10))
		add("Nats-Last-Sequence", strconv.FormatUint(b.last, 10))
	}
	return append(out, "\r\n"...)
}

func (m *Manager) sendDirect(reply string, hdr, data []byte) {
	if _, err := m.api.Publish(reply, "", hdr, data); err != nil {
		m.log.Debug("direct get reply not sent", "err", err)
	}
}
