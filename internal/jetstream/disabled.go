package jetstream

import (
	"encoding/json"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/subject"
)

// Accounts without JetStream on a server that runs it are answered, as
// nats-server answers them: every API request it knows gets its usual
// response type carrying "JetStream not enabled for account" (503, 10039),
// other $JS.API subjects get no answer. The system account answers only
// $JS.API.INFO. The subscription is on $JS.API.> so a request never gets
// "no responders" there, as with nats-server, whose accounts import the
// whole API.

// disabledQueueLen bounds the requests waiting for their refusal; more are
// dropped, and time out, as a full API queue does.
const disabledQueueLen = 1024

// answerDisabled starts the sender of refusals and subscribes the API of
// every account of Config.Disabled.
func (m *Manager) answerDisabled() error {
	queue := make(chan disabledRequest, disabledQueueLen)
	done := make(chan struct{})
	m.accMu.Lock()
	m.disabledQ, m.disabledDone = queue, done
	m.accMu.Unlock()
	go func() {
		for {
			select {
			case <-done:
				return
			case r := <-queue:
				b, err := json.Marshal(r.resp)
				if err == nil {
					_, _ = r.ic.Publish(r.reply, "", nil, b)
				}
			}
		}
	}()
	for _, name := range m.cfg.Disabled {
		if err := m.refuseIn(name); err != nil {
			return err
		}
	}
	return nil
}

// refuseIn subscribes the API of account name to the refusal, once.
func (m *Manager) refuseIn(name string) error {
	acc := m.srv.LookupAccount(name)
	m.accMu.Lock()
	queue := m.disabledQ
	_, done := m.disabled[name]
	m.accMu.Unlock()
	if acc == nil || done || queue == nil {
		return nil
	}
	ic := m.srv.NewInternalClientIn(acc, "jetstream-disabled")
	system := name == m.cfg.SystemAccount
	_, err := ic.Subscribe(jsapi.Prefix+">", "", func(msg *core.Msg) {
		if len(msg.Reply) == 0 || m.yieldedAPI() {
			return
		}
		resp := notEnabledResponse(string(msg.Subject), system)
		if resp == nil {
			return
		}
		select {
		case queue <- disabledRequest{ic: ic, reply: string(msg.Reply), resp: resp}:
		default:
		}
	})
	if err != nil {
		ic.Close()
		return err
	}
	m.accMu.Lock()
	m.disabled[name] = ic
	m.accMu.Unlock()
	return nil
}

// stopRefusing ends the refusal in account name (it gained JetStream, or
// went away).
func (m *Manager) stopRefusing(name string) {
	m.accMu.Lock()
	ic := m.disabled[name]
	delete(m.disabled, name)
	m.accMu.Unlock()
	if ic != nil {
		ic.Close()
	}
}

// disabledRequest is a refusal waiting to be sent.
type disabledRequest struct {
	ic    *core.InternalClient
	reply string
	resp  any
}

// notEnabledResponse is the refusal of an API request in an account
// without JetStream, nil when nats-server sends none.
func notEnabledResponse(subj string, system bool) any {
	e := jsapi.NewError(jsapi.ErrNotEnabledForAccount)
	r := func(typ string) jsapi.ApiResponse { return jsapi.ApiResponse{Type: typ, Error: e} }
	if system {
		if subj == jsapi.SubjInfo {
			return &jsapi.AccountInfoResponse{ApiResponse: r(jsapi.TypeAccountInfoResponse)}
		}
		return nil
	}
	for _, c := range []struct {
		pattern string
		resp    func() any
	}{
		{jsapi.SubjInfo, func() any { return &jsapi.AccountInfoResponse{ApiResponse: r(jsapi.TypeAccountInfoResponse)} }},
		{jsapi.SubjStreamCreate, func() any { return &jsapi.StreamCreateResponse{ApiResponse: r(jsapi.TypeStreamCreateResponse)} }},
		{jsapi.SubjStreamUpdate, func() any { return &jsapi.StreamUpdateResponse{ApiResponse: r(jsapi.TypeStreamUpdateResponse)} }},
		{jsapi.SubjStreamInfo, func() any { return &jsapi.StreamInfoResponse{ApiResponse: r(jsapi.TypeStreamInfoResponse)} }},
		{jsapi.SubjStreamDelete, func() any { return &jsapi.StreamDeleteResponse{ApiResponse: r(jsapi.TypeStreamDeleteResponse)} }},
		{jsapi.SubjStreamNames, func() any { return &jsapi.StreamNamesResponse{ApiResponse: r(jsapi.TypeStreamNamesResponse)} }},
		{jsapi.SubjStreamList, func() any {
			return &jsapi.StreamListResponse{ApiResponse: r(jsapi.TypeStreamListResponse), Streams: []*jsapi.StreamInfo{}}
		}},
		{jsapi.SubjStreamPurge, func() any { return &jsapi.StreamPurgeResponse{ApiResponse: r(jsapi.TypeStreamPurgeResponse)} }},
		{jsapi.SubjMsgGet, func() any { return &jsapi.MsgGetResponse{ApiResponse: r(jsapi.TypeMsgGetResponse)} }},
		{jsapi.SubjMsgDelete, func() any { return &jsapi.MsgDeleteResponse{ApiResponse: r(jsapi.TypeMsgDeleteResponse)} }},
		{jsapi.SubjSnapshot, func() any { return &jsapi.ApiResponse{Type: jsapi.TypeSnapshotResponse, Error: e} }},
		{jsapi.SubjRestore, func() any { return &jsapi.ApiResponse{Type: jsapi.TypeRestoreResponse, Error: e} }},
		{jsapi.SubjConsumerCreate, func() any { return &jsapi.ConsumerCreateResponse{ApiResponse: r(jsapi.TypeConsumerCreateResponse)} }},
		{jsapi.SubjConsumerDurableCreate, func() any {
			return &jsapi.ConsumerCreateResponse{ApiResponse: r(jsapi.TypeConsumerCreateResponse)}
		}},
		{jsapi.SubjConsumerInfo, func() any { return &jsapi.ConsumerInfoResponse{ApiResponse: r(jsapi.TypeConsumerInfoResponse)} }},
		{jsapi.SubjConsumerDelete, func() any { return &jsapi.ConsumerDeleteResponse{ApiResponse: r(jsapi.TypeConsumerDeleteResponse)} }},
		{jsapi.SubjConsumerNames, func() any {
			return &jsapi.ConsumerNamesResponse{ApiResponse: r(jsapi.TypeConsumerNamesResponse), Consumers: []string{}}
		}},
		{jsapi.SubjConsumerList, func() any {
			return &jsapi.ConsumerListResponse{ApiResponse: r(jsapi.TypeConsumerListResponse), Consumers: []*jsapi.ConsumerInfo{}}
		}},
		{jsapi.SubjConsumerPause, func() any { return &jsapi.ConsumerPauseResponse{ApiResponse: r(jsapi.TypeConsumerPauseResponse)} }},
		{jsapi.SubjConsumerUnpin, func() any { return &jsapi.ApiResponse{Type: jsapi.TypeConsumerUnpinResponse, Error: e} }},
	} {
		if subject.Matches(c.pattern, subj) {
			return c.resp()
		}
	}
	return nil
}
