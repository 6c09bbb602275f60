package servercmd

import (
	"io"
	"strings"
	"testing"
	"time"
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
		{nil, func(c *Config) bool { return c.LogTime && c.Opts.Port == 0 }},
	}
	for _, tt := range tests {
		cfg, err := Parse(tt.args, io.Discard)
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
		{[]string{"-c", "nats.conf"}, "configuration files is not supported"},
		{[]string{"-js"}, "JetStream is not supported"},
		{[]string{"--tls"}, "TLS is not supported"},
		{[]string{"--routes", "nats://x:6222"}, "clustering is not supported"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tt.args, err, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"1024": 1024, "1KB": 1024, "64kb": 64 << 10, "1MB": 1 << 20, "1m": 1 << 20, "2G": 2 << 30, "512B": 512} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "1.5MB", "1TB", "99999999999GB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
