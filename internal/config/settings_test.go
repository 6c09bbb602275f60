package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSettingsAreKnownKeys: every spelling of a setting is in its block's
// list of keys Starling reads (keys.go), which drives suggestions and the
// nats-server coverage tests.
func TestSettingsAreKnownKeys(t *testing.T) {
	blocks := map[string]*block{"": &topBlock, "authorization": &authorizationBlock, "cluster": &clusterBlock}
	for name := range settingFor {
		blockName, key, inBlock := strings.Cut(name, ".")
		if !inBlock {
			blockName, key = "", name
		}
		b := blocks[blockName]
		if b == nil || !contains(b.known, key) {
			t.Errorf("setting %q is not a known key of block %q", name, blockName)
		}
	}
}

// TestFlagAndKeyAgree: a flag and the key it stands for set the same field
// to the same value, and refuse the same values with the same message.
func TestFlagAndKeyAgree(t *testing.T) {
	tests := []struct {
		key, file, flag string
		want            string // error both give; "" for none
	}{
		{"host", "127.0.0.1", "127.0.0.1", ""},
		{"port", "4333", "4333", ""},
		{"port", "70000", "70000", "port 70000 out of range"},
		{"port", "-1", "-1", ""},
		{"server_name", `"alpha"`, "alpha", ""},
		{"server_name", `"a b"`, "a b", "server_name cannot contain spaces"},
		{"http_port", "8222", "8222", ""},
		{"https_port", "8443", "8443", ""},
		{"max_payload", "64KB", "64KB", ""},
		{"max_payload", "0", "0", ""},
		{"max_payload", "-1", "-1", "max_payload: size -1 out of range"},
		{"max_pending", "128MB", "128MB", ""},
		{"max_control_line", "8KB", "8KB", ""},
		{"max_connections", "10", "10", ""},
		{"max_connections", "0", "0", ""},
		{"max_connections", "-1", "-1", "max_connections must not be negative, got -1"},
		{"max_subscriptions", "0", "0", ""},
		{"max_subscriptions", "-1", "-1", "max_subscriptions must not be negative, got -1"},
		{"ping_interval", `"30s"`, "30s", ""},
		{"ping_interval", `"0s"`, "0s", ""},
		{"ping_interval", `"-1s"`, "-1s", "ping_interval must not be negative"},
		{"ping_max", "3", "3", ""},
		{"write_deadline", `"1s"`, "1s", ""},
		{"jetstream", "true", "true", ""},
		{"store_dir", `"/data"`, "/data", ""},
		{"authorization.user", "u", "u", ""},
		{"authorization.password", `"p#w"`, "p#w", ""},
		{"authorization.token", "tok", "tok", ""},
		{"authorization.timeout", "3", "3s", ""},
		{"authorization.timeout", `"0s"`, "0s", ""},
		{"authorization.timeout", `"-1s"`, "-1s", "authorization timeout must not be negative"},
		{"cluster.name", "east", "east", ""},
		{"cluster.name", `"a b"`, "a b", "cluster name cannot contain spaces"},
		{"cluster.name", `"_"`, "_", "cluster name is reserved"},
		{"cluster.host", "127.0.0.1", "127.0.0.1", ""},
		{"cluster.port", "6222", "6222", ""},
		{"cluster.advertise", `"nats.example.com:16222"`, "nats.example.com:16222", ""},
		{"cluster.advertise", `"a:b:c"`, "a:b:c", "invalid Cluster.Advertise value of a:b:c, err=address a:b:c: too many colons in address"},
		{"cluster.no_advertise", "true", "true", ""},
		{"cluster.routes", `["nats-route://u:p@10.0.0.2:6222", "nats://10.0.0.3:6222"]`, "nats-route://u:p@10.0.0.2:6222, nats://10.0.0.3:6222", ""},
		{"cluster.routes", `["nats://10.0.0.2"]`, "nats://10.0.0.2", "route url nats://10.0.0.2: address 10.0.0.2: missing port in address (want scheme://host:port, e.g. nats-route://10.0.0.2:6222)"},
		{"cluster.connect_retries", "5", "5", ""},
		{"cluster.connect_retries", "-1", "-1", "cluster connect_retries must not be negative, got -1"},
		{"cluster.connect_backoff", "true", "true", ""},
		{"cluster.pool_size", "-1", "-1", ""},
		{"cluster.pool_size", "-2", "-2", "cluster pool_size -2: -1 turns pooling off, no other negative value is valid"},
		{"cluster.accounts", `["$G"]`, "$G", ""},
		{"cluster.accounts", `["ACC"]`, "ACC", `cluster accounts: "ACC" is not an account of this server (Starling has only the global account, $G)`},
		{"cluster.ping_max", "3", "3", ""},
		{"cluster.write_deadline", `"5s"`, "5s", ""},
		{"debug", "true", "true", ""},
		{"trace", "true", "true", ""},
		{"logtime", "false", "false", ""},
		{"logtime_utc", "true", "true", ""},
		{"log_file", `"/var/log/s.log"`, "/var/log/s.log", ""},
		{"logfile_size_limit", "10MB", "10MB", ""},
		{"logfile_size_limit", "0", "0", ""},
		{"pid_file", `"/run/s.pid"`, "/run/s.pid", ""},
	}
	for _, tt := range tests {
		text := tt.key + ": " + tt.file
		if block, key, ok := strings.Cut(tt.key, "."); ok {
			text = block + " { " + key + ": " + tt.file + " }"
		}
		fromFile, fileErr := load(t, text)
		fromFlag := Defaults()
		flagErr := fromFlag.Flag(tt.key).Set(tt.flag)
		if tt.want != "" {
			if fileErr == nil || !strings.Contains(fileErr.Error(), tt.want) {
				t.Errorf("%s: file %s: %v, want %q", tt.key, tt.file, fileErr, tt.want)
			}
			if flagErr == nil || flagErr.Error() != tt.want {
				t.Errorf("%s: flag %s: %v, want %q", tt.key, tt.flag, flagErr, tt.want)
			}
			continue
		}
		if fileErr != nil || flagErr != nil {
			t.Errorf("%s: file %v, flag %v", tt.key, fileErr, flagErr)
			continue
		}
		if !reflect.DeepEqual(fromFile.Opts, fromFlag.Opts) || fromFile.Process != fromFlag.Process {
			t.Errorf("%s: file sets %+v %+v, flag %+v %+v", tt.key, fromFile.Opts, fromFile.Process, fromFlag.Opts, fromFlag.Process)
		}
		// A zero stands for the default, so it leaves the options as
		// they were.
		zero := tt.flag == "0" || tt.flag == "0s"
		if reflect.DeepEqual(fromFlag, Defaults()) && !zero {
			t.Errorf("%s: the flag changed nothing", tt.key)
		}
	}
}

func TestFlagParseErrors(t *testing.T) {
	tests := []struct{ key, text, want string }{
		{"port", "abc", "parse error"},
		{"jetstream", "maybe", "parse error"},
		{"ping_interval", "soon", "parse error"},
		{"max_payload", "lots", `invalid integer "lots"`},
	}
	for _, tt := range tests {
		c := Defaults()
		if err := c.Flag(tt.key).Set(tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %s: %v, want %q", tt.key, tt.text, err, tt.want)
		}
	}
	c := Defaults()
	if !c.Flag("debug").IsBoolFlag() || c.Flag("port").IsBoolFlag() {
		t.Error("IsBoolFlag")
	}
	if err := c.Flag("authorization.timeout").Set("1500ms"); err != nil || c.Opts.AuthTimeout != 1500*time.Millisecond {
		t.Errorf("auth timeout: %v %v", err, c.Opts.AuthTimeout)
	}
}
