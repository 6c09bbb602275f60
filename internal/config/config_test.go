package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/conf"
	"github.com/starling-mq/starling/internal/testcert"
)

func load(t *testing.T, text string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

func mustLoad(t *testing.T, text string) *Config {
	t.Helper()
	c, err := load(t, text)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return c
}

// A configuration as operators write them for nats-server.
const production = `
# Production NATS server
server_name: "nats-prod-1"
listen: 0.0.0.0:4333
http: 8222

max_payload: 2MB
max_pending: 128MB
max_control_line: 8KB
max_connections: 10000
max_subscriptions: 1000
ping_interval: "30s"
ping_max: 3
write_deadline: "5s"
lame_duck_duration: "1m"
lame_duck_grace_period: "5s"

debug: false
trace: false
logtime: true
log_file: "/var/log/nats/nats.log"
logfile_size_limit: 100MB
logfile_max_num: 5
pid_file: "/var/run/nats.pid"

SERVICE_PASS = "s3rv1ce"

authorization {
  timeout: 3
  default_permissions {
    publish: "public.>"
    subscribe: ["public.>", "_INBOX.>"]
  }
  users: [
    {user: admin, password: "$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy"}
    {user: service, password: $SERVICE_PASS, permissions: {
      publish: {allow: ["orders.>"], deny: ["orders.internal.>"]}
      subscribe: {allow: "requests.*"}
      allow_responses: {max: 5, expires: "1m"}
    }}
    {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}
  ]
}
no_auth_user: service
`

func TestProduction(t *testing.T) {
	c := mustLoad(t, production)
	o := c.Opts
	checks := []struct {
		name string
		ok   bool
	}{
		{"server_name", o.ServerName == "nats-prod-1"},
		{"listen", o.Host == "0.0.0.0" && o.Port == 4333},
		{"http", o.HTTPPort == 8222},
		{"max_payload", o.MaxPayload == 2<<20},
		{"max_pending", o.MaxPending == 128<<20},
		{"max_control_line", o.MaxControlLine == 8<<10},
		{"max_connections", o.MaxConnections == 10000},
		{"max_subscriptions", o.MaxSubscriptions == 1000},
		{"ping_interval", o.PingInterval == 30*time.Second},
		{"ping_max", o.PingMax == 3},
		{"write_deadline", o.WriteDeadline == 5*time.Second},
		{"lame duck", o.LameDuckDuration == time.Minute && o.LameDuckGracePeriod == 5*time.Second},
		{"auth timeout", o.AuthTimeout == 3*time.Second},
		{"users", len(o.Users) == 2 && o.Users[0].Username == "admin" && o.Users[1].Password == "s3rv1ce"},
		{"nkeys", len(o.Nkeys) == 1 && strings.HasPrefix(o.Nkeys[0].Nkey, "UDXU")},
		{"no_auth_user", o.NoAuthUser == "service"},
		{"default permissions", o.DefaultPermissions != nil && o.DefaultPermissions.Publish.Allow[0] == "public.>" &&
			len(o.DefaultPermissions.Subscribe.Allow) == 2},
		{"process", c.Process.LogFile == "/var/log/nats/nats.log" && c.Process.LogSizeLimit == 100<<20 &&
			c.Process.LogMaxFiles == 5 && c.Process.PidFile == "/var/run/nats.pid" && c.Process.LogTime},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: %+v", ch.name, o)
		}
	}
	svc := o.Users[1].Permissions
	if svc == nil || svc.Publish.Deny[0] != "orders.internal.>" || svc.Subscribe.Allow[0] != "requests.*" ||
		svc.Response == nil || svc.Response.MaxMsgs != 5 || svc.Response.Expires != time.Minute {
		t.Errorf("service permissions %+v", svc)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	// The options are acceptable to the server's own validation.
	if _, err := auth.New(auth.Config{Users: o.Users, Nkeys: o.Nkeys, NoAuthUser: o.NoAuthUser, DefaultPermissions: o.DefaultPermissions}); err != nil {
		t.Errorf("auth: %v", err)
	}
}

func TestForms(t *testing.T) {
	tests := []struct {
		text  string
		check func(*Config) bool
	}{
		{"port: 4222", func(c *Config) bool { return c.Opts.Port == 4222 }},
		{"port = 4222\nhost = 127.0.0.1", func(c *Config) bool { return c.Opts.Port == 4222 && c.Opts.Host == "127.0.0.1" }},
		{"net 10.0.0.1", func(c *Config) bool { return c.Opts.Host == "10.0.0.1" }},
		{"listen: 4333", func(c *Config) bool { return c.Opts.Port == 4333 }},
		{"listen: \"[::1]:4333\"", func(c *Config) bool { return c.Opts.Host == "::1" && c.Opts.Port == 4333 }},
		{"listen: \"127.0.0.1:-1\"", func(c *Config) bool { return c.Opts.Host == "127.0.0.1" && c.Opts.Port == -1 }},
		{"monitor_port: 8223", func(c *Config) bool { return c.Opts.HTTPPort == 8223 }},
		{"http: 127.0.0.1:8224", func(c *Config) bool { return c.Opts.HTTPHost == "127.0.0.1" && c.Opts.HTTPPort == 8224 }},
		{"max_payload: 65536", func(c *Config) bool { return c.Opts.MaxPayload == 65536 }},
		{"max_payload: 64KB", func(c *Config) bool { return c.Opts.MaxPayload == 64<<10 }},
		{"max_subs: 7", func(c *Config) bool { return c.Opts.MaxSubscriptions == 7 }},
		{"ping_interval: 60", func(c *Config) bool { return c.Opts.PingInterval == time.Minute && len(c.Warnings) == 1 }},
		{"ping_interval: \"2m\"", func(c *Config) bool { return c.Opts.PingInterval == 2*time.Minute }},
		{"authorization { token: \"s3cr3t\" }", func(c *Config) bool { return c.Opts.Authorization == "s3cr3t" }},
		{"authorization { user: a, password: b, timeout: \"500ms\" }", func(c *Config) bool {
			return c.Opts.Username == "a" && c.Opts.Password == "b" && c.Opts.AuthTimeout == 500*time.Millisecond
		}},
		{"authorization { users = [ {user: a, password: b, permissions: {publish: \"x\", allow_responses: true}} ] }", func(c *Config) bool {
			p := c.Opts.Users[0].Permissions
			return p.Response != nil && p.Response.MaxMsgs == 1 && p.Publish.Allow[0] == "x"
		}},
		{"authorization { users = [ {user: a, password: b, permissions: {subscribe: \"x\", allow_responses: true}} ] }", func(c *Config) bool {
			// Responses only: publishing elsewhere is off.
			p := c.Opts.Users[0].Permissions
			return p.Publish != nil && p.Publish.Allow != nil && len(p.Publish.Allow) == 0
		}},
		{"A = 4555\nport: $A", func(c *Config) bool { return c.Opts.Port == 4555 && len(c.Warnings) == 0 }},
		{"debug: true\ntrace: true\nlogtime: false", func(c *Config) bool {
			return c.Process.Debug && c.Process.Trace && !c.Process.LogTime
		}},
		{"jetstream: enabled", func(c *Config) bool { return c.Opts.JetStream }},
		{"jetstream { store_dir: \"/data/js\", max_mem: \"1G\", max_file: 10GB, sync_interval: always }", func(c *Config) bool {
			o := c.Opts
			return o.JetStream && o.StoreDir == "/data/js" && o.JetStreamMaxMemory == 1<<30 && o.JetStreamMaxStore == 10<<30 && o.SyncInterval == 0
		}},
		{"jetstream { max_open_files: 500 }", func(c *Config) bool { return c.Opts.JetStreamMaxOpenFiles == 500 }},
		{"jetstream { compact_entries: 1000 }", func(c *Config) bool { return c.Opts.JetStreamCompactEntries == 1000 }},
		{"jetstream { sync_interval: \"2m\" }", func(c *Config) bool {
			return c.Opts.SyncInterval == 2*time.Minute && len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "can be lost")
		}},
		{"storedir: /d\nlogfile: /l\npidfile: /p\nlogtime_utc: true", func(c *Config) bool {
			return c.Opts.StoreDir == "/d" && c.Process.LogFile == "/l" && c.Process.PidFile == "/p" && c.Process.LogTimeUTC
		}},
		{"disable_sublist_cache: false\nno_system_account: true\nconnect_error_reports: 10", func(c *Config) bool { return len(c.Warnings) == 0 }},
		{"authorization { users = [ {user: a, password: b, allowed_connection_types: [\"STANDARD\", \"websocket\"]} ] }", func(c *Config) bool {
			return len(c.Opts.Users) == 1
		}},
	}
	for _, tt := range tests {
		c, err := load(t, tt.text)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("%q: unexpected %+v (warnings %v)", tt.text, c.Opts, c.Warnings)
		}
	}
}

func TestErrorsHavePositions(t *testing.T) {
	tests := []struct{ text, want string }{
		{"port: \"x\"", "nats.conf:1:7: "},
		{"max_payload: \"lots\"", "nats.conf:1:14: max_payload: expected a size"},
		{"\n\nmax_connections: -1", "nats.conf:3:18: max_connections must not be negative"},
		{"jetstream { max_open_files: 0 }", "nats.conf:1:29: max_open_files must be positive"},
		{"jetstream { compact_entries: 0 }", "nats.conf:1:30: compact_entries must be positive"},
		{"jetstream { max_open_files: \"many\" }", "nats.conf:1:29: "},
		{"ping_interval: \"soon\"", "nats.conf:1:16: invalid duration"},
		{"lame_duck_duration: \"5s\"", "minimum is 30 seconds"},
		{"authorization {\n  tokn: x\n}", `nats.conf:2:3: unknown field "tokn" in authorization`},
		{"authorization { token: a, user: b }", "can not have a token and a user/password"},
		{"authorization { users: [ {user: a, permissions: {publish: {allw: x}}} ] }", `unknown field "allw"`},
		{"authorization { users: [ {user: a, permissions: {publish: \"a..b\"}} ] }", "a..b"},
		{"jetstream { store_dir: a, store: b }", "duplicate 'store_dir'"},
		{"jetstream: maybe", "expected 'enabled' or 'disabled'"},
		{"cluster {\n  name: \"a b\"\n}", "nats.conf:2:9: cluster name cannot contain spaces"},
		{"gateway { port: 7222 }", `nats.conf:1:1: not implemented by Starling: "gateway" (gateways (superclusters))`},
		{"accounts {\n  A { limits { max_connections: 5 } }\n}", `nats.conf:2:7: not implemented by Starling: "limits" in account`},
		{"some_future_option: 1", `nats.conf:1:1: unknown field "some_future_option"`},
		{"tls { cert_file: \"/nonexistent.pem\", key_file: \"/nonexistent.key\" }", "error loading tls certificate"},
		{"tls { verify: true }", "tls needs cert_file and key_file"},
		{"port: 4222\nhttp: {", "nats.conf:2:"},
	}
	for _, tt := range tests {
		_, err := load(t, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.text, err, tt.want)
		}
	}
}

// tlsFiles writes a CA and a server certificate signed by it.
func tlsFiles(t *testing.T) (certFile, keyFile, caFile string) {
	t.Helper()
	ca, err := testcert.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile, err = srv.WriteFiles(dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.PEM, 0o600)
	return certFile, keyFile, caFile
}

func TestTLSCiphersAndCurves(t *testing.T) {
	certFile, keyFile, _ := tlsFiles(t)
	files := `cert_file: "` + certFile + `", key_file: "` + keyFile + `"`
	tests := []struct {
		block string
		want  string // error, "" for none
		check func(*tls.Config) bool
	}{
		{`curve_preferences: ["X25519", "CurveP256", "X25519MLKEM768"]`, "", func(c *tls.Config) bool {
			return len(c.CurvePreferences) == 3 && c.CurvePreferences[0] == tls.X25519 && c.CurvePreferences[2] == tls.X25519MLKEM768
		}},
		{`curve_preferences: ["P-999"]`, "unrecognized curve preference P-999", nil},
		{`curve_preferences: []`, "'curve_preferences' must be a non-empty list", nil},
		{`cipher_suites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]`, "", func(c *tls.Config) bool {
			return len(c.CipherSuites) == 1 && c.CipherSuites[0] == tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		}},
		{`cipher_suites: ["TLS_RSA_WITH_RC4_128_SHA"]`, "insecure cipher suites configured without 'allow_insecure_cipher_suites' option set: TLS_RSA_WITH_RC4_128_SHA", nil},
		{`cipher_suites: ["TLS_RSA_WITH_RC4_128_SHA"], allow_insecure_cipher_suites: true`, "", func(c *tls.Config) bool {
			return len(c.CipherSuites) == 1 && c.CipherSuites[0] == tls.TLS_RSA_WITH_RC4_128_SHA
		}},
	}
	for _, tt := range tests {
		c, err := load(t, "tls { "+files+", "+tt.block+" }")
		switch {
		case tt.want != "":
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want %q", tt.block, err, tt.want)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.block, err)
		case !tt.check(c.Opts.TLSConfig):
			t.Errorf("%s: %+v", tt.block, c.Opts.TLSConfig)
		}
	}
}

func TestTLSBlock(t *testing.T) {
	certFile, keyFile, caFile := tlsFiles(t)
	c := mustLoad(t, `tls {
  cert_file: "`+certFile+`"
  key_file: "`+keyFile+`"
  ca_file: "`+caFile+`"
  verify_and_map: true
  timeout: 0.5
  min_version: "1.3"
}`)
	tc := c.Opts.TLSConfig
	if tc == nil || len(tc.Certificates) != 1 || tc.ClientCAs == nil || tc.ClientAuth != tls.RequireAndVerifyClientCert ||
		!c.Opts.TLSMap || c.Opts.TLSTimeout != 500*time.Millisecond || tc.MinVersion != tls.VersionTLS13 {
		t.Fatalf("tls options %+v map=%v timeout=%v", tc, c.Opts.TLSMap, c.Opts.TLSTimeout)
	}
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "auth.conf"), []byte("authorization { token: from-include }\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "main.conf"), []byte("port: 4999\ninclude ./auth.conf\n"), 0o600)
	c, err := Load(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Opts.Port != 4999 || c.Opts.Authorization != "from-include" {
		t.Fatalf("%+v", c.Opts)
	}
}

func FuzzFromMap(f *testing.F) {
	f.Add(production)
	f.Add("port: 1\nauthorization { users: [ {user: a, password: b} ] }")
	f.Add("tls { timeout: 1 }")
	f.Add(clusterConf)
	f.Add(accountsConf)
	f.Add("accounts { A { exports: [{service: a}], imports: [{service: {account: B, subject: b}, to: a}] }, B { exports: [{service: b}], imports: [{service: {account: A, subject: a}, to: b}] } }")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := conf.Parse(text)
		if err != nil {
			return
		}
		// Mapping never panics; errors are positioned.
		_, err = FromMap("fuzz.conf", m)
		if err != nil && !strings.Contains(err.Error(), ":") {
			t.Fatalf("error without position: %v", err)
		}
	})
}
