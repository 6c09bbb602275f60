package config

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/options"
)

// A cluster block as nats-server's documentation writes one, every key.
const clusterConf = `
cluster {
  name: "east"
  listen: "0.0.0.0:6222"
  advertise: "nats-1.example.com:16222"
  no_advertise: true
  routes: [
    "nats-route://ruser:T0pS3cr3t@nats-2.example.com:6222"
    nats://nats-3.example.com:6222
  ]
  connect_retries: 10
  connect_backoff: true
  authorization {
    user: ruser
    password: T0pS3cr3t
    timeout: 3
  }
  permissions {
    import: {allow: ["orders.>"], deny: "orders.secret"}
    export: ["public.>"]
  }
  ping_interval: "20s"
  ping_max: 4
  write_deadline: "3s"
  pool_size: 5
  accounts: ["$G"]
  compression: off
}
`

func TestClusterBlock(t *testing.T) {
	c := mustLoad(t, clusterConf)
	cl := c.Opts.Cluster
	routes := make([]string, len(cl.Routes))
	for i, u := range cl.Routes {
		routes[i] = u.String()
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"name", cl.Name == "east"},
		{"listen", cl.Host == "0.0.0.0" && cl.Port == 6222 && cl.Enabled()},
		{"advertise", cl.Advertise == "nats-1.example.com:16222" && cl.NoAdvertise},
		{"routes", slices.Equal(routes, []string{"nats-route://ruser:T0pS3cr3t@nats-2.example.com:6222", "nats://nats-3.example.com:6222"})},
		{"connect", cl.ConnectRetries == 10 && cl.ConnectBackoff},
		{"authorization", cl.Username == "ruser" && cl.Password == "T0pS3cr3t" && cl.AuthTimeout == 3*time.Second},
		{"import", cl.Permissions != nil && slices.Equal(cl.Permissions.Import.Allow, []string{"orders.>"}) &&
			slices.Equal(cl.Permissions.Import.Deny, []string{"orders.secret"})},
		{"export", cl.Permissions != nil && slices.Equal(cl.Permissions.Export.Allow, []string{"public.>"})},
		{"pings", cl.PingInterval == 20*time.Second && cl.PingMax == 4 && cl.WriteDeadline == 3*time.Second},
		{"pool", cl.PoolSize == 5 && slices.Equal(cl.PinnedAccounts, []string{"$G"})},
		{"compression", cl.Compression.Mode == options.CompressionOff},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: %+v", ch.name, cl)
		}
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	// Pooling and pinned accounts are what Starling refuses.
	o := c.Opts
	o.SetDefaults()
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "pool_size 5") ||
		!strings.Contains(err.Error(), "pinned accounts") {
		t.Errorf("validate: %v", err)
	}
}

func TestClusterForms(t *testing.T) {
	tests := []struct {
		text  string
		check func(*Config) bool
	}{
		{"cluster { port: 6222 }", func(c *Config) bool { return c.Opts.Cluster.Port == 6222 && c.Opts.Cluster.Host == "" }},
		{"cluster { listen: 6222 }", func(c *Config) bool { return c.Opts.Cluster.Port == 6222 }},
		{"cluster { listen: \"127.0.0.1:-1\" }", func(c *Config) bool {
			return c.Opts.Cluster.Port == options.RandomPort && c.Opts.Cluster.Host == "127.0.0.1"
		}},
		{"cluster { host: 10.0.0.1, port: 6222 }", func(c *Config) bool { return c.Opts.Cluster.Host == "10.0.0.1" }},
		{"cluster { net: 10.0.0.1 }", func(c *Config) bool { return c.Opts.Cluster.Host == "10.0.0.1" && !c.Opts.Cluster.Enabled() }},
		{"cluster { cluster_advertise: \"h:1\" }", func(c *Config) bool { return c.Opts.Cluster.Advertise == "h:1" }},
		{"cluster { name: east }", func(c *Config) bool { return c.Opts.Cluster.Name == "east" && !c.Opts.Cluster.Enabled() }},
		{"cluster { routes: [] }", func(c *Config) bool { return len(c.Opts.Cluster.Routes) == 0 }},
		{"cluster { routes: [\"nats://a:1\", \"nats://a:1\"] }", func(c *Config) bool {
			return len(c.Opts.Cluster.Routes) == 1 && len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "nats.conf:1:34: Duplicate route entry detected")
		}},
		{"cluster { accounts: \"$G\" }", func(c *Config) bool { return slices.Equal(c.Opts.Cluster.PinnedAccounts, []string{"$G"}) }},
		{"cluster { pool_size: -1 }", func(c *Config) bool { return c.Opts.Cluster.PoolSize == -1 }},
		{"cluster { compression: false }", func(c *Config) bool { return c.Opts.Cluster.Compression.Mode == options.CompressionOff }},
		{"cluster { compression: accept }", func(c *Config) bool { return c.Opts.Cluster.Compression.Mode == options.CompressionAccept }},
		{"cluster { compression: \"Disabled\" }", func(c *Config) bool { return c.Opts.Cluster.Compression.Mode == options.CompressionOff }},
		{"cluster { compression: {mode: accept, rtt_thresholds: [\"10ms\", \"50ms\"]} }", func(c *Config) bool {
			cm := c.Opts.Cluster.Compression
			return cm.Mode == options.CompressionAccept && slices.Equal(cm.RTTThresholds, []time.Duration{10 * time.Millisecond, 50 * time.Millisecond})
		}},
		{"cluster { compression: {} }", func(c *Config) bool { return c.Opts.Cluster.Compression.Mode == "" }},
		{"cluster { ping_interval: \"2m\" }", func(c *Config) bool {
			// nats-server's warning; the value is capped by SetDefaults.
			return c.Opts.Cluster.PingInterval == 2*time.Minute && len(c.Warnings) == 1 &&
				strings.Contains(c.Warnings[0], "Cluster 'ping_interval' will reset to 30s which is the max for routes")
		}},
		{"cluster { ping_interval: 20 }", func(c *Config) bool {
			return c.Opts.Cluster.PingInterval == 20*time.Second && len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "read as seconds")
		}},
		{"cluster { authorization { user: u, pass: p, timeout: \"500ms\" } }", func(c *Config) bool {
			cl := c.Opts.Cluster
			return cl.Username == "u" && cl.Password == "p" && cl.AuthTimeout == 500*time.Millisecond && cl.Permissions == nil
		}},
		{"cluster { authorization { user: u, permissions: {import: \"a\"} } }", func(c *Config) bool {
			p := c.Opts.Cluster.Permissions
			return p != nil && p.Import.Allow[0] == "a" && len(c.Warnings) == 1 &&
				strings.Contains(c.Warnings[0], `setting "permissions" within cluster authorization block is deprecated`)
		}},
		// The block's permissions win over the deprecated ones, before or after.
		{"cluster { permissions: {import: \"b\"}, authorization { permissions: {import: \"a\"} } }", func(c *Config) bool {
			return c.Opts.Cluster.Permissions.Import.Allow[0] == "b"
		}},
		{"cluster { authorization { permissions: {import: \"a\"} }, permissions: {publish: \"b\", subscribe: \"c\"} }", func(c *Config) bool {
			p := c.Opts.Cluster.Permissions
			return p.Import.Allow[0] == "b" && p.Export.Allow[0] == "c"
		}},
		// The client settings stay apart.
		{"port: 4333\ncluster { port: 6222, ping_max: 7 }\nping_max: 3", func(c *Config) bool {
			return c.Opts.Port == 4333 && c.Opts.PingMax == 3 && c.Opts.Cluster.PingMax == 7
		}},
	}
	for _, tt := range tests {
		c, err := load(t, tt.text)
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("%q: unexpected %+v (warnings %v)", tt.text, c.Opts.Cluster, c.Warnings)
		}
	}
}

func TestClusterErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"cluster: 6222", "nats.conf:1:10: "},
		{"cluster {\n  listen: \"0.0.0.0\"\n}", `nats.conf:2:11: could not parse address string "0.0.0.0"`},
		{"cluster {\n  port: 70000\n}", "nats.conf:2:9: port 70000 out of range"},
		{"cluster {\n  routes: [\n    \"nats://a:1\"\n    \"nats://b\"\n  ]\n}", "nats.conf:4:5: route url nats://b: address b: missing port in address"},
		{"cluster { routes: [\"nats://a b:1\"] }", `nats.conf:1:20: error parsing route url ["nats://a b:1"]`},
		{"cluster { routes: \"nats://a:1\" }", "nats.conf:1:19: cluster routes: expected an array of route URLs"},
		{"cluster { connect_retries: -1 }", "nats.conf:1:28: cluster connect_retries must not be negative, got -1"},
		{"cluster { ping_interval: \"-1s\" }", "cluster ping_interval must not be negative"},
		{"cluster { accounts: [\"$G\", \"$G\"] }", `found duplicate account name "$G" in pinned accounts list ["$G" "$G"]`},
		{"cluster { accounts: [\"$SYS\"] }", `cluster accounts: "$SYS" is not an account of this server`},
		{"cluster { accounts: 5 }", "cluster accounts: expected an array of strings"},
		{"cluster {\n  authorization {\n    token: x\n  }\n}", "nats.conf:3:5: Cluster authorization does not support tokens"},
		{"cluster { authorization { users: [ {user: a, password: b} ] } }", "Cluster authorization does not allow multiple users"},
		{"cluster { authorization { auth_callout: {} } }", "Cluster authorization does not support callouts"},
		{"cluster { authorization { timeout: \"-1s\" } }", "cluster authorization timeout must not be negative"},
		{"cluster { permissions: { import: \"a\", allow_responses: true } }", "Cluster permissions do not support dynamic responses"},
		{"cluster { permissions: { export: \"a q\" } }", `cluster export allow: subject "a q" is not a valid subject`},
		{"cluster { permissions: { import: \"a..b\" } }", `cluster import allow: subject "a..b" is not a valid subject`},
		{"cluster { compression: true }", `not implemented by Starling: "compression" in cluster (route compression s2_fast;`},
		{"cluster { compression: {mode: s2_auto, rtt_thresholds: [\"10ms\"]} }", `(route compression s2_auto;`},
		{"cluster {\n  compression: {mode: zstd}\n}", `nats.conf:2:23: unsupported compression mode "zstd"`},
		{"cluster { compression: 1 }", `field "compression" should be a boolean or a structure`},
		{"cluster { compression: {rtt: [ 10 ]} }", `rtt_thresholds: expected a duration string`},
		{"cluster { compression: {rtt: [\"soon\"]} }", `invalid duration "soon"`},
		{"cluster { tls { verify: true } }", "cluster tls needs cert_file and key_file"},
		{"tls { insecure: true, cert_file: a, key_file: b }", `not implemented by Starling: "insecure" in tls`},
	}
	for _, tt := range tests {
		_, err := load(t, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to contain %q", tt.text, err, tt.want)
		}
	}
}

// TestClusterTLS: routes are always verified, in both directions, with the
// ca_file as the roots of the peers this server dials.
func TestClusterTLS(t *testing.T) {
	certFile, keyFile, caFile := tlsFiles(t)
	c := mustLoad(t, `cluster {
  port: 6222
  tls {
    cert_file: "`+certFile+`"
    key_file: "`+keyFile+`"
    ca_file: "`+caFile+`"
    timeout: 3
    insecure: true
  }
}`)
	cl := c.Opts.Cluster
	tc := cl.TLSConfig
	if tc == nil || len(tc.Certificates) != 1 || tc.ClientAuth != tls.RequireAndVerifyClientCert || tc.ClientCAs == nil ||
		tc.RootCAs != tc.ClientCAs || !tc.InsecureSkipVerify || cl.TLSTimeout != 3*time.Second {
		t.Fatalf("cluster tls %+v timeout %v", tc, cl.TLSTimeout)
	}
	if c.Opts.TLSConfig != nil {
		t.Error("the cluster's tls block set the clients' TLS")
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "will not be verified. DO NOT USE IN PRODUCTION!") {
		t.Errorf("warnings: %v", c.Warnings)
	}
	// Without verify, routes are verified all the same (as in nats-server).
	c = mustLoad(t, `cluster { tls { cert_file: "`+certFile+`", key_file: "`+keyFile+`", verify_and_map: true } }`)
	if tc := c.Opts.Cluster.TLSConfig; tc == nil || tc.ClientAuth != tls.RequireAndVerifyClientCert || !c.Opts.Cluster.TLSMap || c.Opts.TLSMap {
		t.Fatalf("cluster tls %+v map %v", tc, c.Opts.Cluster.TLSMap)
	}
}
