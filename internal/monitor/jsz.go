package monitor

import (
	"fmt"
	"net/http"
	"time"

	"github.com/starling-mq/starling/internal/jetstream"
)

// SetJetStream gives /jsz (and /healthz's JetStream checks) the manager to
// report on. Without one, /jsz says JetStream is disabled.
func (m *Server) SetJetStream(js *jetstream.Manager) {
	m.mu.Lock()
	m.js = js
	m.mu.Unlock()
}

func (m *Server) jetStream() *jetstream.Manager {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.js
}

// jszDisabled is /jsz when JetStream is off, as nats-server answers.
type jszDisabled struct {
	ServerID string    `json:"server_id"`
	Now      time.Time `json:"now"`
	Disabled bool      `json:"disabled"`
}

func (m *Server) handleJsz(w http.ResponseWriter, r *http.Request) {
	var o JszOptions
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"accounts", &o.Accounts}, {"streams", &o.Streams}, {"consumers", &o.Consumer}, {"config", &o.Config}, {"raft", &o.Raft}} {
		v, err := queryBool(r, p.name)
		if err != nil {
			badRequest(w, err.Error())
			return
		}
		*p.dst = v
	}
	leader, err := queryBool(r, "leader-only")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	o.LeaderOnly = leader
	o.Account = r.URL.Query().Get("acc")
	m.count("/jsz")
	rep, err := m.jsz(&o)
	if err != nil {
		// nats-server refuses a leader-only /jsz on a server that does
		// not lead with 400 and the reason as text.
		badRequest(w, err.Error())
		return
	}
	writeJSON(w, r, rep)
}

func jszOptions(o *JszOptions) jetstream.JSZOptions {
	return jetstream.JSZOptions{Account: o.Account, Accounts: o.Accounts, Streams: o.Streams, Config: o.Config, Consumers: o.Consumer, Raft: o.Raft, LeaderOnly: o.LeaderOnly}
}

// errNotLeader is a leader-only report asked of a server that does not
// lead the meta group (or has no JetStream): over $SYS it sends nothing,
// so the one reply a requester gets is the leader's (nats server check
// meta relies on that).
var errNotLeader = fmt.Errorf("%w: not leader", ErrNoReply)

// jsz is JetStream's report, or that it is disabled.
func (m *Server) jsz(o *JszOptions) (any, error) {
	js := m.jetStream()
	if js == nil {
		if o.LeaderOnly {
			return nil, errNotLeader
		}
		return &jszDisabled{ServerID: m.core.ID(), Now: time.Now().UTC(), Disabled: true}, nil
	}
	info := js.JSZ(m.core.ID(), jszOptions(o))
	if info == nil {
		return nil, errNotLeader
	}
	if info.Disabled {
		// Left to the cluster's nats-server JetStream: off here.
		if o.LeaderOnly {
			return nil, errNotLeader
		}
		return &jszDisabled{ServerID: m.core.ID(), Now: info.Now, Disabled: true}, nil
	}
	return info, nil
}

// jszAccount is one account's part of JetStream's report, as nats-server
// answers $SYS.REQ.ACCOUNT.<account>.JSZ; an error when the account does
// not use JetStream.
func (m *Server) jszAccount(acc string, o *JszOptions) (*jetstream.AccountDetail, error) {
	notEnabled := badOption(fmt.Errorf("account %q not jetstream enabled", acc))
	js := m.jetStream()
	if js == nil {
		return nil, notEnabled
	}
	o.Account = acc
	o.LeaderOnly = false // nats-server answers an account's report from every server
	for _, d := range js.JSZ(m.core.ID(), jszOptions(o)).AccountDetails {
		if d.Name == acc {
			return d, nil
		}
	}
	return nil, notEnabled
}
