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
	for _, p := range []string{"js-enabled-only", "js-enabled", "js-server-only"} {
		if _, err := queryBool(r, p); err != nil {
			body, _ := json.Marshal(HealthStatus{Status: "error", Error: err.Error()})
			writeBody(w, r, http.StatusBadRequest, body)
			return
		}
	}
	st, code := HealthStatus{Status: "ok"}, http.StatusOK
	if m.core.Addr() == nil {
		st, code = HealthStatus{Status: "error", Error: "server is not accepting client connections"}, http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(st) // compact, unlike the other endpoints
	writeBody(w, r, code, body)
}
