package servercmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/config"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args  []string
		check func(*Config) bool
	}{
		{[]string{"-p", "4333", "-a", "127.0.0.1"}, func(c *Config) bool { return c.Opts.Port == 4333 && c.Opts.Host == "127.0.0.1" }},
		{[]string{"--port=4333", "--addr", "::1"}, func(c *Config) bool { return c.Opts.Port == 4333 && c.Opts.Host == "::1" }},
		{[]string{"--net", "10.0.0.1"}, func(c *Config) bool { return c.Opts.Host == "10.0.0.1" }},
		{[]string{"-n", "alpha"}, func(c *Config) bool { return c.Opts.ServerName == "alpha" }},
		{[]string{"--server_name", "alpha"}, func(c *Config) bool { return c.Opts.ServerName == "alpha" }},
		{[]string{"-m", "8222"}, func(c *Config) bool { return c.Opts.HTTPPort == 8222 }},
		{[]string{"-DV"}, func(c *Config) bool { return c.Debug && c.Trace && c.Opts.Trace }},
		{[]string{"-D"}, func(c *Config) bool { return c.Debug && !c.Trace }},
		{[]string{"-V"}, func(c *Config) bool { return c.Trace && !c.Debug }},
		{[]string{"--user", "u", "--pass", "p"}, func(c *Config) bool { return c.Opts.Username == "u" && c.Opts.Password == "p" }},
		{[]string{"--auth", "tok"}, func(c *Config) bool { return c.Opts.Authorization == "tok" }},
		{[]string{"--max_payload", "2MB"}, func(c *Config) bool { return c.Opts.MaxPayload == 2<<20 }},
		{[]string{"--max_pending", "128MB", "--max_connections", "10"}, func(c *Config) bool {
			return c.Opts.MaxPending == 128<<20 && c.Opts.MaxConnections == 10
		}},
		{[]string{"--ping_interval", "30s", "--ping_max", "3"}, func(c *Config) bool {
			return c.Opts.PingInterval == 30*time.Second && c.Opts.PingMax == 3
		}},
		{[]string{"-T=false", "-l", "/tmp/x.log"}, func(c *Config) bool { return !c.LogTime && c.LogFile == "/tmp/x.log" }},
		{[]string{"--version"}, func(c *Config) bool { return c.Version }},
		{[]string{"-h"}, func(c *Config) bool { return c.Help }},
		{[]string{"--help_tls"}, func(c *Config) bool { return c.HelpTLS }},
		{[]string{"-js", "-sd", "/data"}, func(c *Config) bool { return c.Opts.JetStream && c.Opts.StoreDir == "/data" }},
		{[]string{"--jetstream", "--store_dir=/data"}, func(c *Config) bool { return c.Opts.JetStream && c.Opts.StoreDir == "/data" }},
		{[]string{"-ms", "8443"}, func(c *Config) bool { return c.Opts.HTTPSPort == 8443 }},
		{[]string{"--log_size_limit", "10MB", "--logtime_utc"}, func(c *Config) bool { return c.LogSizeLimit == 10<<20 && c.LogTimeUTC }},
		{[]string{"-DVV"}, func(c *Config) bool { return c.Debug && c.Trace }},
		{[]string{"-VV"}, func(c *Config) bool { return c.Trace && !c.Debug }},
		{[]string{"--auth_timeout", "3s", "--write_deadline", "1s"}, func(c *Config) bool {
			return c.Opts.AuthTimeout == 3*time.Second && c.Opts.WriteDeadline == time.Second
		}},
		{nil, func(c *Config) bool { return c.LogTime && c.Opts.Port == 0 }},
		{[]string{"--cluster", "nats://127.0.0.1:6222"}, func(c *Config) bool {
			cl := c.Opts.Cluster
			return cl.Host == "127.0.0.1" && cl.Port == 6222 && cl.Username == "" && cl.Enabled()
		}},
		{[]string{"--cluster_listen", "nats://ruser:s3cr3t@0.0.0.0:-1"}, func(c *Config) bool {
			cl := c.Opts.Cluster
			return cl.Host == "0.0.0.0" && cl.Port == -1 && cl.Username == "ruser" && cl.Password == "s3cr3t"
		}},
		{[]string{"--cluster", "nats://[::1]:6222", "--routes", "nats-route://a:6222, nats://u:p@b:6222", "--cluster_name", "east",
			"--no_advertise", "--cluster_advertise", "h:16222", "--connect_retries", "3"}, func(c *Config) bool {
			cl := c.Opts.Cluster
			return cl.Host == "::1" && len(cl.Routes) == 2 && cl.Routes[1].String() == "nats://u:p@b:6222" && cl.Name == "east" &&
				cl.NoAdvertise && cl.Advertise == "h:16222" && cl.ConnectRetries == 3
		}},
		{[]string{"--routes", ""}, func(c *Config) bool { return c.Opts.Cluster.Routes == nil }},
	}
	for _, tt := range tests {
		cfg, err := Parse(tt.args)
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if !tt.check(cfg) {
			t.Errorf("%v: unexpected %+v", tt.args, cfg)
		}
	}
}

func TestParseFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-p", "abc"}, `invalid value "abc" for flag -p`},
		{[]string{"--max_payload", "lots"}, `invalid value "lots"`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-c", "/nonexistent/nats.conf"}, "nonexistent/nats.conf"},
		{[]string{"--tls"}, "TLS needs --tlscert and --tlskey"},
		{[]string{"--tlscert", "/nonexistent.pem", "--tlskey", "/nonexistent.key"}, "load TLS certificate"},
		{[]string{"--cluster", "nats://u@127.0.0.1:6222"}, "expected cluster password to be set"},
		{[]string{"--cluster", "nats://127.0.0.1"}, "missing port in address"},
		{[]string{"--cluster", "nats://127.0.0.1:99999"}, `port "99999" out of range`},
		{[]string{"--cluster_name", "a b"}, "cluster name cannot contain spaces"},
		{[]string{"--connect_retries", "-1"}, "cluster connect_retries must not be negative, got -1"},
		{[]string{"--routes", "nats://x"}, "route url nats://x: address x: missing port in address"},
		{[]string{"--cluster_advertise", "a:b:c"}, "invalid Cluster.Advertise value of a:b:c"},
		{[]string{"--client_advertise", "h:4222"}, "client advertise is not supported"},
		{[]string{"-s"}, "syslog is not supported"},
		{[]string{"--ports_file_dir", "/tmp"}, "ports files is not supported"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tt.args, err, tt.want)
		}
	}
}

func TestConfigFileAndFlagOverride(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.conf")
	os.WriteFile(path, []byte("port: 4999\nserver_name: from-file\nmax_payload: 64KB\ndebug: true\nlogtime_utc: true\n"), 0o600)
	cfg, err := Parse([]string{"-c", path, "-p", "5000"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Opts.Port != 5000 || cfg.Opts.ServerName != "from-file" || cfg.Opts.MaxPayload != 64<<10 || !cfg.Debug || !cfg.LogTimeUTC {
		t.Errorf("flags over file: %+v", cfg)
	}
	// An unknown key fails the parse (and so the start and -t).
	os.WriteFile(path, []byte("port: 4999\nmax_paylod: 64KB\n"), 0o600)
	if _, err := Parse([]string{"-c", path}); err == nil || !strings.Contains(err.Error(), `nats.conf:2:1: unknown field "max_paylod" (did you mean max_payload?)`) {
		t.Errorf("typo: %v", err)
	}
}

// TestFlagsNamedLikeKeysUseThem: a flag spelled like a configuration key
// sets that key through its setting, so the two cannot drift apart; and
// every key a flag names is a setting (newFlagSet panics otherwise).
func TestFlagsNamedLikeKeysUseThem(t *testing.T) {
	for _, f := range flagTable {
		if f.refused != "" {
			continue
		}
		for _, name := range f.names {
			if key, ok := config.SettingKey(name); ok && f.bind.key != key {
				t.Errorf("flag %s is spelled like configuration key %s but bound to %q", name, key, f.bind.key)
			}
		}
		if f.bind.key == "" && f.bind.field == nil && f.bind.value == nil {
			t.Errorf("flag %v sets nothing", f.names)
		}
	}
	parsedFlags() // every bound key exists
}

// TestFlagErrorsNameTheKeyRule: a flag refuses what its key refuses, with
// the key's message.
func TestFlagErrorsNameTheKeyRule(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-p", "70000"}, "invalid value \"70000\" for flag -p: port 70000 out of range"},
		{[]string{"-n", "a b"}, "server_name cannot contain spaces"},
		{[]string{"--max_connections", "-1"}, "max_connections must not be negative"},
		{[]string{"--ping_interval", "-1s"}, "ping_interval must not be negative"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestClusterFlagsOverrideTheFile: as in nats-server, --routes replaces the
// file's routes, --cluster its listen address and credentials (clearing
// them when the URL has none), and an empty --cluster turns clustering off.
func TestClusterFlagsOverrideTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nats.conf")
	conf := "cluster {\n  listen: 127.0.0.1:6222\n  name: east\n  routes: [nats://a:6222, nats://b:6222]\n" +
		"  authorization { user: ruser, password: rpass }\n}\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		check func(*Config) bool
	}{
		{nil, func(c *Config) bool {
			cl := c.Opts.Cluster
			return cl.Port == 6222 && len(cl.Routes) == 2 && cl.Username == "ruser" && cl.Name == "east"
		}},
		{[]string{"--routes", "nats://c:6222"}, func(c *Config) bool {
			return len(c.Opts.Cluster.Routes) == 1 && c.Opts.Cluster.Routes[0].Host == "c:6222"
		}},
		{[]string{"--cluster", "nats://0.0.0.0:7222"}, func(c *Config) bool {
			cl := c.Opts.Cluster
			return cl.Host == "0.0.0.0" && cl.Port == 7222 && cl.Username == "" && cl.Password == "" && len(cl.Routes) == 2
		}},
		{[]string{"--cluster", "nats://u:p@0.0.0.0:7222"}, func(c *Config) bool {
			return c.Opts.Cluster.Username == "u" && c.Opts.Cluster.Password == "p"
		}},
		{[]string{"--cluster", ""}, func(c *Config) bool { return !c.Opts.Cluster.Enabled() }},
		{[]string{"--cluster_name", "west"}, func(c *Config) bool { return c.Opts.Cluster.Name == "west" }},
	}
	for _, tt := range tests {
		cfg, err := Parse(append([]string{"-c", path}, tt.args...))
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if !tt.check(cfg) {
			t.Errorf("%v: unexpected %+v", tt.args, cfg.Opts.Cluster)
		}
	}
}
