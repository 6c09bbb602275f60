package jetstream

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
)

// Direct get answers with the message itself: its headers plus
// Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp, or a
// status-only reply. It runs on the requester's goroutine, as in
// nats-server, since it only reads.

var (
	statusNotFound     = []byte("NATS/1.0 404 Message Not Found\r\n\r\n")
	statusNoResults    = []byte("NATS/1.0 404 No Results\r\n\r\n")
	statusEmptyRequest = []byte("NATS/1.0 408 Empty Request\r\n\r\n")
	statusMalformed    = []byte("NATS/1.0 408 Malformed Request\r\n\r\n")
	statusBadRequest   = []byte("NATS/1.0 408 Bad Request\r\n\r\n")
	statusTooMany      = []byte("NATS/1.0 413 Too Many Results\r\n\r\n")
	statusUnavailable  = []byte("NATS/1.0 503\r\n\r\n")
)

// maxMultiLast bounds the messages one multi_last request may select, as
// nats-server does (413 past it).
const maxMultiLast = 1024

// directStatus checks a DIRECT.GET request body as nats-server 2.11 does
// and returns the status to answer with, or nil when it is well formed.
func directStatus(req *jsapi.MsgGetRequest) []byte {
	if req.Seq == 0 && req.LastFor == "" && req.NextFor == "" && len(req.MultiLastFor) == 0 && req.StartTime == nil {
		return statusEmptyRequest
	}
	if (req.Seq > 0 && req.LastFor != "") ||
		(req.Seq > 0 && req.StartTime != nil) ||
		(req.StartTime != nil && req.LastFor != "") ||
		(req.LastFor != "" && req.NextFor != "") ||
		(req.LastFor != "" && req.Batch > 0) ||
		(req.LastFor != "" && len(req.MultiLastFor) > 0) ||
		(req.NextFor != "" && len(req.MultiLastFor) > 0) ||
		(req.UpToSeq > 0 && req.UpToTime != nil) {
		return statusBadRequest
	}
	return nil
}

// directHandler serves direct gets addressed to name (the stream's own, or
// its origin's for a mirror with mirror_direct) from s.
func (m *jsAccount) directHandler(s *stream.Stream, name string, leased func() bool) func(*core.Msg) {
	return func(msg *core.Msg) {
		if len(msg.Reply) == 0 {
			return
		}
		reply := string(msg.Reply)
		if !leased() {
			// A leader cut off from its group may be behind the one
			// elected meanwhile: no read, rather than a stale one.
			m.sendStatus(reply, statusUnavailable)
			return
		}
		var req jsapi.MsgGetRequest
		if key := strings.TrimPrefix(string(msg.Subject), jsapi.DirectGetPrefix+name); key != "" {
			// $JS.API.DIRECT.GET.<stream>.<subject>: the last message on
			// subject; this form takes no body.
			if len(msg.Data) > 0 || len(key) < 2 {
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
			if st := directStatus(&req); st != nil {
				m.sendStatus(reply, st)
				return
			}
		}
		d := directGetter{m: m, st: s.Store(), name: s.Name(), reply: reply, req: &req}
		if s.InFlight(req.LastFor, req.Seq) {
			// Not on the publisher's goroutine: a goroutine waits for the
			// publishes in flight, within a bound of such waits.
			select {
			case m.settling <- struct{}{}:
				go func() {
					defer func() { <-m.settling }()
					s.Settle(req.LastFor, req.Seq, settleWait)
					d.serve()
				}()
				return
			default:
			}
		}
		d.serve()
	}
}

func (m *jsAccount) sendStatus(reply string, hdr []byte) {
	if _, err := m.api.Publish(reply, "", hdr, nil); err != nil {
		m.log.Debug("direct get reply not sent", "err", err)
	}
}

// directGetter answers one direct get request.
type directGetter struct {
	m     *jsAccount
	st    store.Store
	name  string
	reply string
	req   *jsapi.MsgGetRequest
}

func (d *directGetter) serve() {
	switch {
	case len(d.req.MultiLastFor) > 0:
		d.multiLast()
	case d.req.Batch > 0:
		d.batch()
	default:
		d.single()
	}
}

// start is the first sequence a request reads from.
func (d *directGetter) start() uint64 {
	if d.req.StartTime != nil {
		return store.SeqAtTime(d.st, d.req.StartTime.UnixNano())
	}
	return d.req.Seq
}

// maxBytes is the request's byte budget, the server's max_pending when
// unset (as nats-server).
func (d *directGetter) maxBytes() int {
	if d.req.MaxBytes > 0 {
		return d.req.MaxBytes
	}
	return d.m.srv.Options().MaxPending
}

func (d *directGetter) single() {
	var msg *store.Msg
	var err error
	switch {
	case d.req.LastFor != "":
		msg, err = d.st.LoadLast(d.req.LastFor)
	case d.req.NextFor != "":
		msg, err = d.st.LoadNext(d.req.NextFor, d.start())
	case d.req.StartTime != nil:
		msg, err = d.st.LoadNext(">", d.start())
	default:
		msg, err = d.st.Load(d.req.Seq)
	}
	if err != nil {
		d.m.sendStatus(d.reply, statusNotFound)
		return
	}
	d.send(msg, nil)
}

// batch sends up to req.Batch messages from the start sequence, then a
// 204 EOB status with what is left.
func (d *directGetter) batch() {
	filter := d.req.NextFor
	if filter == "" {
		filter = ">"
	}
	seq := d.start()
	pending := d.st.NumPending(seq, filter, false)
	budget := d.maxBytes()
	var last uint64
	sent := 0
	for i := 0; i < d.req.Batch; i++ {
		msg, err := d.st.LoadNext(filter, seq)
		if err != nil {
			if i == 0 {
				d.m.sendStatus(d.reply, statusNotFound)
				return
			}
			break
		}
		seq = msg.Seq + 1
		if pending > 0 {
			pending--
		}
		d.send(msg, &batchInfo{pending: pending, last: last})
		last = msg.Seq
		sent += len(msg.Subject) + len(msg.Header) + len(msg.Data)
		if sent >= budget {
			break
		}
	}
	pending = d.st.NumPending(seq, filter, false)
	d.m.sendStatus(d.reply, eobHeader(pending, last, 0))
}

// multiLast sends the last message of every subject matching the
// request's filters, as of up_to_seq or up_to_time, in sequence order,
// then a 204 EOB status naming the sequence it was taken at.
func (d *directGetter) multiLast() {
	upTo := d.req.UpToSeq
	state := d.st.State()
	if d.req.UpToTime != nil {
		upTo = store.SeqAtTime(d.st, d.req.UpToTime.UnixNano())
		// The first sequence at or after the time bounds from above.
		if upTo <= state.FirstSeq {
			d.m.sendStatus(d.reply, statusNoResults)
			return
		}
		upTo--
	}
	if upTo == 0 {
		upTo = state.LastSeq
	}
	seqs, ok := store.LastSeqs(d.st, d.req.MultiLastFor, upTo, maxMultiLast)
	if !ok {
		d.m.sendStatus(d.reply, statusTooMany)
		return
	}
	if len(seqs) == 0 {
		d.m.sendStatus(d.reply, statusNoResults)
		return
	}
	pending, last := uint64(len(seqs)-1), uint64(0)
	budget, used, sent := d.maxBytes(), 0, 0
	for _, seq := range seqs {
		if seq < d.req.Seq {
			if pending > 0 {
				pending--
			}
			continue
		}
		msg, err := d.st.Load(seq)
		if err != nil {
			d.m.sendStatus(d.reply, statusNotFound)
			return
		}
		d.send(msg, &batchInfo{pending: pending, last: last})
		if pending > 0 {
			pending--
		}
		last = msg.Seq
		used += len(msg.Subject) + len(msg.Header) + len(msg.Data)
		sent++
		if used >= budget || (d.req.Batch > 0 && sent >= d.req.Batch) {
			break
		}
	}
	d.m.sendStatus(d.reply, eobHeader(pending, last, upTo))
}

// eobHeader is the 204 status ending a batch; upTo is set for multi_last.
func eobHeader(pending, last, upTo uint64) []byte {
	h := proto.NewHeader(204, "EOB").
		Add(jsapi.HdrNumPending, strconv.FormatUint(pending, 10)).
		Add(jsapi.HdrLastSequence, strconv.FormatUint(last, 10))
	if upTo > 0 {
		h = h.Add(jsapi.HdrUpToSequence, strconv.FormatUint(upTo, 10))
	}
	return h.Bytes()
}

func (d *directGetter) send(msg *store.Msg, b *batchInfo) {
	hdr := msg.Header
	if d.req.NoHeaders {
		hdr = nil
	}
	if _, err := d.m.api.Publish(d.reply, "", directHeader(d.name, msg.Subject, msg.Seq, msg.Time, hdr, b), msg.Data); err != nil {
		d.m.log.Debug("direct get reply not sent", "err", err)
	}
}

type batchInfo struct{ pending, last uint64 }

// directHeader is a message's own header block with the stream's
// description of it appended.
func directHeader(stream, subject string, seq uint64, ts int64, own []byte, b *batchInfo) []byte {
	var out []byte
	if len(own) >= 4 {
		out = append(out, own[:len(own)-2]...) // drop the final blank line
	} else {
		out = append(out, proto.HeaderPrefix+"\r\n"...)
	}
	add := func(k, v string) {
		out = append(out, k...)
		out = append(out, ": "...)
		out = append(out, v...)
		out = append(out, "\r\n"...)
	}
	add(jsapi.HdrStream, stream)
	add(jsapi.HdrSubject, subject)
	add(jsapi.HdrSequence, strconv.FormatUint(seq, 10))
	add(jsapi.HdrTimeStamp, time.Unix(0, ts).UTC().Format(time.RFC3339Nano))
	if b != nil {
		add(jsapi.HdrNumPending, strconv.FormatUint(b.pending, 10))
		add(jsapi.HdrLastSequence, strconv.FormatUint(b.last, 10))
	}
	return append(out, "\r\n"...)
}
