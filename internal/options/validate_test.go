package options

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"
)

func TestSetDefaults(t *testing.T) {
	var o Options
	o.SetDefaults()
	if o.Host != DefaultHost || o.Port != DefaultPort || o.HTTPHost != DefaultHost || o.Logger == nil ||
		o.AuthTimeout != DefaultAuthTimeout || o.StoreDir != "" {
		t.Fatalf("defaults: %+v", o)
	}
	// With TLS the auth timeout leaves room for the handshake.
	o = Options{TLSConfig: &tls.Config{}, TLSTimeout: 3 * time.Second}
	o.SetDefaults()
	if o.AuthTimeout != 4*time.Second {
		t.Fatalf("auth timeout with TLS: %v", o.AuthTimeout)
	}
}

func TestValidate(t *testing.T) {
	verify := &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert}
	tests := []struct {
		name string
		opts Options
		want string // "" = valid
	}{
		{"defaults", Options{}, ""},
		{"random ports", Options{Port: RandomPort, HTTPPort: RandomPort}, ""},
		{"bad port", Options{Port: 70000}, "port 70000 out of range"},
		{"bad http port", Options{HTTPPort: -2}, "http port -2 out of range"},
		{"https without tls", Options{HTTPSPort: 8443}, "https monitoring needs a tls configuration"},
		{"spaces in the name", Options{ServerName: "my server"}, "server_name cannot contain spaces"},
		{"payload over pending", Options{MaxPayload: 2 << 20, MaxPending: 1 << 20}, "must be at least max_payload"},
		{"payload over 64MB", Options{MaxPayload: 65 << 20, MaxPending: 128 << 20}, "between 1 and 64MB"},
		{"password without user", Options{Password: "x"}, "a password needs a user"},
		{"negative subs", Options{MaxSubscriptions: -1}, "max_subscriptions must not be negative"},
		{"negative sync", Options{SyncInterval: -time.Second}, "sync_interval must not be negative"},
		{"negative compaction", Options{JetStreamCompactEntries: -1}, "compact_entries must not be negative"},
		{"few open files", Options{JetStreamMaxOpenFiles: 8}, "at least 16"},
		{"grace over duration", Options{LameDuckDuration: time.Minute, LameDuckGracePeriod: time.Minute}, "shorter than lame_duck_duration"},
		{"map without verify", Options{TLSConfig: &tls.Config{}, TLSMap: true}, "verify_and_map"},
		{"map with verify", Options{TLSConfig: verify, TLSMap: true}, ""},
	}
	for _, tt := range tests {
		o := tt.opts
		o.SetDefaults()
		err := o.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestValidateReportsAll: every problem at once, not the first.
func TestValidateReportsAll(t *testing.T) {
	o := Options{Port: 70000, Password: "x", MaxSubscriptions: -1}
	o.SetDefaults()
	err := o.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want three problems, got %v", err)
	}
}
