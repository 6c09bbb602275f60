package monitor

import (
	"encoding/json"
	"net/http"
)

// HealthStatus is /healthz's body.
type HealthStatus struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

func (m *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	m.count("/healthz")
	var o HealthzOptions
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"js-enabled-only", &o.JSEnabledOnly}, {"js-enabled", &o.JSEnabled}, {"js-server-only", &o.JSServerOnly}} {
		v, err := queryBool(r, p.name)
		if err != nil {
			body, _ := json.Marshal(HealthStatus{Status: "error", Error: err.Error()})
			writeBody(w, r, http.StatusBadRequest, body)
			return
		}
		*p.dst = v
	}
	qs := r.URL.Query()
	o.Account, o.Stream, o.Consumer = qs.Get("account"), qs.Get("stream"), qs.Get("consumer")
	st, code := m.healthz(&o)
	body, _ := json.Marshal(st) // compact, unlike the other endpoints
	writeBody(w, r, code, body)
}

// healthz says whether the server takes clients, with the HTTP status
// that goes with it, and in a JetStream cluster whether its JetStream has
// caught up (jetstream.Manager.Health). The JetStream options are
// accepted for nats-server's probes; a server on its own is ready before
// clients are accepted.
func (m *Server) healthz(*HealthzOptions) (*HealthStatus, int) {
	if m.core.Addr() == nil {
		return &HealthStatus{Status: "error", Error: "server is not accepting client connections"}, http.StatusServiceUnavailable
	}
	if js := m.jetStream(); js != nil {
		// In a JetStream cluster: unavailable until caught up.
		if err := js.Health(); err != nil {
			return &HealthStatus{Status: "unavailable", Error: err.Error()}, http.StatusServiceUnavailable
		}
	}
	return &HealthStatus{Status: "ok"}, http.StatusOK
}
