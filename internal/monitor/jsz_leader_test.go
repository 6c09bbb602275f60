package monitor

import (
	"errors"
	"net/http"
	"testing"

	"github.com/starling-mq/starling/internal/jetstream"
)

// A leader-only JSZ is answered by the meta leader alone: a server that
// runs JetStream by itself leads itself, and one without JetStream sends
// nothing over $SYS (nats-server skips the reply) and 400 over HTTP. The
// clustered case, where followers stay silent, is driven by natscli's
// `server check meta` in the test package.
func TestJSZLeaderOnly(t *testing.T) {
	withJS := accountsServer(t)
	withoutJS := accountsServer(t)
	withoutJS.SetJetStream(nil)
	tests := []struct {
		name      string
		m         *Server
		body      string
		wantReply bool
	}{
		{"standalone leads itself", withJS, `{"leader_only":true}`, true},
		{"standalone, any server", withJS, `{}`, true},
		{"no JetStream, leader only", withoutJS, `{"leader_only":true}`, false},
		{"no JetStream, any server", withoutJS, `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Report("JSZ", "", []byte(tt.body))
			if !tt.wantReply {
				if !errors.Is(err, ErrNoReply) || got != nil {
					t.Fatalf("report %v, err %v; want no reply", got, err)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("report %v, err %v; want a report", got, err)
			}
			if _, ok := got.(*jetstream.JSInfo); tt.m == withJS && !ok {
				t.Fatalf("report %T, want *jetstream.JSInfo", got)
			}
		})
	}
	if code, body := serveHTTP(t, withJS, "/jsz?leader-only=true"); code != http.StatusOK {
		t.Errorf("/jsz?leader-only=true standalone: %d %s", code, body)
	}
	if code, body := serveHTTP(t, withoutJS, "/jsz?leader-only=true"); code != http.StatusBadRequest {
		t.Errorf("/jsz?leader-only=true without JetStream: %d %s, want 400", code, body)
	}
}
