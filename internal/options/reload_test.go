package options

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/auth"
)

func TestCheckReload(t *testing.T) {
	base := Options{JetStream: true, StoreDir: "/data", Logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name   string
		change func(*Options)
		want   string // the whole error; "" = the reload applies
	}{
		{"host", func(o *Options) { o.Host = "127.0.0.1" }, "config reload not supported for host: old=0.0.0.0, new=127.0.0.1"},
		{"port", func(o *Options) { o.Port = 4333 }, "config reload not supported for port: old=4222, new=4333"},
		{"server_name", func(o *Options) { o.ServerName = "b" }, "config reload not supported for server_name: old=, new=b"},
		{"http_host", func(o *Options) { o.HTTPHost = "::1" }, "config reload not supported for http_host: old=0.0.0.0, new=::1"},
		{"http_port", func(o *Options) { o.HTTPPort = 8222 }, "config reload not supported for http_port: old=0, new=8222"},
		{"https_port", func(o *Options) { o.HTTPSPort = 8443; o.TLSConfig = &tls.Config{} },
			"config reload not supported for https_port: old=0, new=8443\nconfig reload not supported for tls: old=off, new=on"},
		{"tls on", func(o *Options) { o.TLSConfig = &tls.Config{} }, "config reload not supported for tls: old=off, new=on"},
		{"no_header_support", func(o *Options) { o.NoHeaderSupport = true }, "config reload not supported for no_header_support: old=false, new=true"},
		{"jetstream off", func(o *Options) { o.JetStream = false }, "config reload not supported for jetstream: old=on, new=off"},
		{"store_dir", func(o *Options) { o.StoreDir = "/other" }, "config reload not supported for store_dir: old=/data, new=/other"},
		{"logger", func(o *Options) { o.Logger = slog.New(slog.DiscardHandler) }, "config reload not supported for logger"},
		{"sync_interval", func(o *Options) { o.SyncInterval = time.Minute }, "config reload not supported for jetstream sync_interval: old=0s, new=1m0s"},
		{"max_memory_store", func(o *Options) { o.JetStreamMaxMemory = 1 << 20 }, "config reload not supported for jetstream max_memory_store: old=0, new=1048576"},
		{"max_file_store", func(o *Options) { o.JetStreamMaxStore = 1 << 30 }, "config reload not supported for jetstream max_file_store: old=0, new=1073741824"},
		{"domain", func(o *Options) { o.JetStreamDomain = "hub" }, "config reload not supported for jetstream domain: old=, new=hub"},
		{"max_open_files", func(o *Options) { o.JetStreamMaxOpenFiles = 100 }, "config reload not supported for jetstream max_open_files: old=0, new=100"},

		{"system_account", func(o *Options) { o.SystemAccount = "SYS" }, "config reload not supported for system_account: old=$SYS, new=SYS"},
		{"system_account left out is $SYS", func(o *Options) { o.SystemAccount = DefaultSystemAccount }, ""},
		{"accounts and mappings", func(o *Options) {
			o.Accounts = []AccountOptions{{Name: "A"}}
			o.Mappings = []Mapping{{Subject: "a", Destinations: []MapDest{{Subject: "b", Weight: 100}}}}
		}, ""},

		{"max_payload", func(o *Options) { o.MaxPayload = 2048 }, ""},
		{"limits and timeouts", func(o *Options) {
			o.MaxConnections, o.MaxSubscriptions, o.PingInterval, o.PingMax = 5, 5, time.Second, 5
			o.WriteDeadline, o.AuthTimeout, o.TLSTimeout = time.Second, time.Second, time.Second
			o.LameDuckDuration, o.LameDuckGracePeriod, o.Trace = time.Hour, time.Minute, true
		}, ""},
		{"authorization", func(o *Options) {
			o.Users = []*auth.User{{Username: "a", Password: "b"}}
			o.DefaultPermissions = &auth.Permissions{}
			o.NoAuthUser = "a"
		}, ""},
	}
	for _, tt := range tests {
		old := base
		old.SetDefaults()
		next := old
		tt.change(&next)
		err := CheckReload(&old, &next)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want == "":
		case err == nil:
			t.Errorf("%s: applied, want %q", tt.name, tt.want)
		case !strings.HasPrefix(err.Error(), tt.want):
			t.Errorf("%s:\n got %q\nwant %q", tt.name, err, tt.want)
		case !errors.Is(err, ErrReloadUnsupported):
			t.Errorf("%s: %v does not match ErrReloadUnsupported", tt.name, err)
		}
	}
}

// TestJetStreamSettingsWhileOff: nothing reads JetStream's settings while
// it is off, so changing them then is no reason to refuse a reload.
func TestJetStreamSettingsWhileOff(t *testing.T) {
	var old Options
	old.SetDefaults()
	next := old
	next.SyncInterval, next.JetStreamMaxStore, next.JetStreamDomain = time.Second, 1<<30, "hub"
	if err := CheckReload(&old, &next); err != nil {
		t.Fatal(err)
	}
}

// TestEveryOptionHasAReloadRule: a new field must be declared reloadable
// (and applied by the engine) or fixed (and refused by name); it cannot be
// silently kept at its old value.
func TestEveryOptionHasAReloadRule(t *testing.T) {
	rules := map[string]int{}
	for _, f := range fixedOptions {
		rules[f.field]++
	}
	for _, f := range fixedWhileJetStream {
		rules[f.field]++
	}
	for _, f := range reloadable {
		rules[f]++
	}
	// The cluster block's fields each have a rule of their own, as in
	// nats-server, which refuses some of them and applies the rest.
	var fields []string
	typ := reflect.TypeFor[Options]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type != reflect.TypeFor[ClusterOptions]() {
			fields = append(fields, f.Name)
			continue
		}
		for j := range f.Type.NumField() {
			fields = append(fields, f.Name+"."+f.Type.Field(j).Name)
		}
	}
	for _, name := range fields {
		if n := rules[name]; n != 1 {
			t.Errorf("field %s has %d reload rules, want 1", name, n)
		}
		delete(rules, name)
	}
	for name := range rules {
		t.Errorf("reload rule for %s, which is not a field", name)
	}
}

// TestDocsListRefusedOptions: docs/operations.md names every option a
// reload refuses.
func TestDocsListRefusedOptions(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(doc), "## Reload")
	if i < 0 {
		t.Fatal("docs/operations.md has no Reload section")
	}
	section, _, _ := strings.Cut(string(doc[i+1:]), "\n## ")
	for _, f := range append(append([]fixedOption{}, fixedOptions...), fixedWhileJetStream...) {
		if !strings.Contains(section, "`"+f.name+"`") {
			t.Errorf("the Reload section of docs/operations.md does not name `%s`", f.name)
		}
	}
}
