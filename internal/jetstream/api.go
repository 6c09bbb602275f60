package jetstream

import (
	"encoding/json"
	"strings"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
)

// request is an API request copied out of the publisher's read buffer.
type request struct {
	subject string
	reply   string
	data    []byte
	client  uint64 // the requesting connection, 0 in-process
	routed  bool   // from another server of the cluster
	handler apiHandler
	role    apiRole
}

type apiHandler func(m *jsAccount, r *request) any

// routes maps each API subject pattern to its handler. Only these are
// subscribed, so a request for an API this server lacks gets the usual
// no-responders status instead of silence.
var routes = []struct {
	subject string
	handler apiHandler
	role    apiRole
}{
	{jsapi.SubjInfo, (*jsAccount).accountInfo, roleMeta},
	{jsapi.SubjStreamCreate, (*jsAccount).streamCreate, roleMeta},
	{jsapi.SubjStreamUpdate, (*jsAccount).streamUpdate, roleMeta},
	{jsapi.SubjStreamInfo, (*jsAccount).streamInfo, roleStream4},
	{jsapi.SubjStreamDelete, (*jsAccount).streamDelete, roleMeta},
	{jsapi.SubjStreamNames, (*jsAccount).streamNames, roleMeta},
	{jsapi.SubjStreamList, (*jsAccount).streamList, roleMeta},
	{jsapi.SubjStreamPurge, (*jsAccount).streamPurge, roleStream4},
	{jsapi.SubjSnapshot, (*jsAccount).streamSnapshot, roleStream4},
	{jsapi.SubjRestore, (*jsAccount).streamRestore, roleMeta},
	{jsapi.SubjMsgGet, (*jsAccount).msgGet, roleStream5},
	{jsapi.SubjMsgDelete, (*jsAccount).msgDelete, roleStream5},
	{jsapi.SubjConsumerCreate, (*jsAccount).consumerCreate, roleStream4},
	{jsapi.SubjConsumerDurableCreate, (*jsAccount).consumerDurableCreate, roleStream5},
	{jsapi.SubjConsumerInfo, (*jsAccount).consumerInfo, roleStream4},
	{jsapi.SubjConsumerDelete, (*jsAccount).consumerDelete, roleStream4},
	{jsapi.SubjConsumerNames, (*jsAccount).consumerNames, roleStream4},
	{jsapi.SubjConsumerList, (*jsAccount).consumerList, roleStream4},
	{jsapi.SubjConsumerPause, (*jsAccount).consumerPause, roleStream4},
	{jsapi.SubjConsumerUnpin, (*jsAccount).consumerUnpin, roleStream4},
	{jsapi.SubjStreamLeaderStepDown, (*jsAccount).streamStepDown, roleStream5},
	{jsapi.SubjConsumerLeaderStepDown, (*jsAccount).consumerStepDown, roleStream5},
	{jsapi.SubjStreamPeerRemove, (*jsAccount).streamPeerRemove, roleMeta},
}

func (m *jsAccount) subscribeAPI() error {
	for _, rt := range routes {
		h, role := rt.handler, rt.role
		_, err := m.api.Subscribe(rt.subject, "", func(msg *core.Msg) {
			m.enqueue(msg, h, role)
		})
		if err != nil {
			return err
		}
	}
	// Pull requests and acks are frequent and cheap: each stream
	// subscribes its consumers' subjects to the inbound workers (started
	// with the account: consumer_subs.go), never served on the
	// publisher's goroutine.
	return nil
}

// enqueue hands a request to the workers; it runs on the publisher's
// goroutine, so it never blocks. A full queue drops the request, as
// nats-server does, and the client's request times out.
func (m *jsAccount) enqueue(msg *core.Msg, h apiHandler, role apiRole) {
	if len(msg.Reply) == 0 {
		return // nobody to answer
	}
	r := &request{
		subject: string(msg.Subject),
		reply:   string(msg.Reply),
		data:    append([]byte(nil), msg.Data...),
		client:  msg.Client,
		routed:  msg.Routed,
		handler: h,
		role:    role,
	}
	select {
	case m.work <- r:
	default:
		m.dropped.Add(1)
		m.log.Warn("JetStream API queue full, request dropped", "subject", r.subject)
	}
}

func (m *jsAccount) worker() {
	defer m.wg.Done()
	for {
		select {
		case <-m.quit:
			return
		case r := <-m.work:
			m.serve(r)
		}
	}
}

// serve runs one request and sends its JSON response.
func (m *jsAccount) serve(r *request) {
	h := r.handler
	if m.yieldedAPI() {
		return // the cluster's nats-server JetStream answers (mixed.go)
	}
	if m.cl != nil && m.cl.standalone.Load() {
		m.cl.lateJetStream()
	}
	if m.cl != nil && !m.cl.checkStandalone() {
		// In a cluster every server hears the request: one answers.
		if h = m.clusterHandler(r); h == nil {
			return
		}
	}
	resp := h(m, r)
	// Counted once served, so $JS.API.INFO does not count itself.
	m.apiTotal.Add(1)
	if resp == nil {
		return
	}
	if e, ok := resp.(interface{ APIError() *jsapi.ApiError }); ok && e.APIError() != nil {
		m.apiErrors.Add(1)
		m.scrubPaths(e.APIError())
	}
	b, err := json.Marshal(resp)
	if err != nil {
		m.log.Error("API response not encoded", "subject", r.subject, "err", err)
		return
	}
	if _, err := m.api.Publish(r.reply, "", nil, b); err != nil {
		m.log.Debug("API response not sent", "err", err)
	}
	m.audit(r, b)
}

// token returns the subject token at index i (0-based) or "".
func token(subject string, i int) string {
	for range i {
		j := strings.IndexByte(subject, '.')
		if j < 0 {
			return ""
		}
		subject = subject[j+1:]
	}
	if j := strings.IndexByte(subject, '.'); j >= 0 {
		return subject[:j]
	}
	return subject
}

// streamName is the stream named by the last token of a request subject
// such as $JS.API.STREAM.INFO.<name>.
func streamName(subject string) string {
	return subject[strings.LastIndexByte(subject, '.')+1:]
}

// decode unmarshals a request body; an empty body leaves v as is.
func decode(data []byte, v any) *jsapi.ApiError {
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return jsapi.NewError(jsapi.ErrInvalidJSON, err)
	}
	return nil
}

// page is one page of a listing.
type page struct {
	paged    jsapi.ApiPaged
	from, to int
}

// paginate picks the page of n items starting at offset, as the listing
// APIs (STREAM.NAMES, CONSUMER.LIST, …) page them.
func paginate(n, offset, size int) page {
	from := min(max(offset, 0), n)
	return page{paged: jsapi.ApiPaged{Total: n, Offset: from, Limit: size}, from: from, to: min(from+size, n)}
}
