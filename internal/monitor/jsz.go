package monitor

import (
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
	var o jetstream.JSZOptions
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"accounts", &o.Accounts}, {"streams", &o.Streams}, {"config", &o.Config}} {
		v, err := queryBool(r, p.name)
		if err != nil {
			badRequest(w, err.Error())
			return
		}
		*p.dst = v
	}
	m.count("/jsz")
	js := m.jetStream()
	if js == nil {
		writeJSON(w, r, &jszDisabled{ServerID: m.core.ID(), Now: time.Now().UTC(), Disabled: true})
		return
	}
	writeJSON(w, r, js.JSZ(m.core.ID(), o))
}
