package options

import (
	"crypto/tls"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/auth"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestClusterDefaults(t *testing.T) {
	// Off: nothing is filled in, as in nats-server.
	var o Options
	o.SetDefaults()
	if o.Cluster.Enabled() || o.Cluster.Host != "" || o.Cluster.PoolSize != 0 || o.Cluster.Compression.Mode != "" {
		t.Fatalf("cluster off: %+v", o.Cluster)
	}

	o = Options{Cluster: ClusterOptions{Port: 6222}}
	o.SetDefaults()
	c := o.Cluster
	if c.Host != DefaultHost || c.PoolSize != DefaultRoutePoolSize || c.Compression.Mode != CompressionAccept ||
		c.AuthTimeout != DefaultAuthTimeout || c.TLSTimeout != DefaultTLSTimeout || c.PinnedAccounts != nil {
		t.Fatalf("defaults: %+v", c)
	}
	// Route pings: the client settings, the interval capped at 30s.
	if c.PingInterval != MaxRoutePingInterval || c.PingMax != DefaultPingMax || c.WriteDeadline != DefaultWriteDeadline {
		t.Fatalf("pings and deadline: %v %v %v", c.PingInterval, c.PingMax, c.WriteDeadline)
	}

	o = Options{PingInterval: 10 * time.Second, PingMax: 5, WriteDeadline: 3 * time.Second,
		Cluster: ClusterOptions{Port: RandomPort, PingInterval: time.Hour, TLSConfig: &tls.Config{}, TLSTimeout: 3 * time.Second,
			Compression: Compression{Mode: "Disabled"}}}
	o.SetDefaults()
	c = o.Cluster
	if c.PingInterval != MaxRoutePingInterval || c.PingMax != 5 || c.WriteDeadline != 3*time.Second {
		t.Fatalf("from the client settings: %v %v %v", c.PingInterval, c.PingMax, c.WriteDeadline)
	}
	if c.AuthTimeout != 4*time.Second || c.Compression.Mode != CompressionOff {
		t.Fatalf("auth timeout with TLS %v, compression %q", c.AuthTimeout, c.Compression.Mode)
	}
	o = Options{PingInterval: 10 * time.Second, Cluster: ClusterOptions{Port: 6222}}
	o.SetDefaults()
	if o.Cluster.PingInterval != 10*time.Second {
		t.Fatalf("short client interval: %v", o.Cluster.PingInterval)
	}
}

// TestClusterValidate checks the cluster's own rules, and refuses what
// Starling does not run (route pooling, pinned accounts, s2 compression).
func TestClusterValidate(t *testing.T) {
	route := func(s string) []*url.URL { return []*url.URL{mustURL(t, s)} }
	tests := []struct {
		name string
		c    ClusterOptions
		want string // "" = valid
	}{
		{"off", ClusterOptions{}, ""},
		{"listen", ClusterOptions{Port: 6222}, ""},
		{"random port", ClusterOptions{Port: RandomPort}, ""},
		{"everything", ClusterOptions{Name: "east", Port: 6222, Advertise: "nats.example.com:16222", NoAdvertise: true,
			Routes: route("nats-route://u:p@10.0.0.2:6222"), ConnectRetries: 5, ConnectBackoff: true,
			Username: "u", Password: "p", Permissions: &RoutePermissions{Import: &auth.SubjectPermission{Allow: []string{"a.>"}},
				Export: &auth.SubjectPermission{Deny: []string{"b.*"}}},
			PoolSize: -1, Compression: Compression{Mode: "off"}}, ""},
		{"pinned global account", ClusterOptions{Port: 6222, PinnedAccounts: []string{"$G"}}, "pinned accounts): not implemented by Starling"},
		{"pooling", ClusterOptions{Port: 6222, PoolSize: 3}, "cluster pool_size 3: not implemented by Starling"},
		{"tls map", ClusterOptions{Port: 6222, TLSMap: true, TLSConfig: &tls.Config{}}, "verify_and_map: not implemented by Starling"},
		{"nats scheme", ClusterOptions{Port: 6222, Routes: route("nats://[::1]:6222")}, ""},
		{"port out of range", ClusterOptions{Port: 70000}, "cluster port 70000 out of range"},
		{"name with spaces", ClusterOptions{Port: 6222, Name: "my cluster"}, "cluster name cannot contain spaces"},
		{"reserved name", ClusterOptions{Port: 6222, Name: "_"}, "cluster name is reserved"},
		{"routes without a port", ClusterOptions{Routes: route("nats://10.0.0.2:6222")},
			"solicited routes require cluster capabilities, e.g. --cluster"},
		{"route without port", ClusterOptions{Port: 6222, Routes: route("nats-route://u:secret@10.0.0.2")},
			"route url nats-route://u:xxxxx@10.0.0.2: address 10.0.0.2: missing port in address"},
		{"route without host", ClusterOptions{Port: 6222, Routes: route("nats-route//10.0.0.2:6222")}, "missing port"},
		{"route port 0", ClusterOptions{Port: 6222, Routes: route("nats://h:0")}, `invalid port "0"`},
		{"nil route", ClusterOptions{Port: 6222, Routes: []*url.URL{nil}}, "route url is missing"},
		{"bad advertise", ClusterOptions{Port: 6222, Advertise: "a:b:c"}, "invalid Cluster.Advertise value of a:b:c"},
		{"advertise port", ClusterOptions{Port: 6222, Advertise: "h:x"}, "invalid Cluster.Advertise value of h:x"},
		{"negative retries", ClusterOptions{Port: 6222, ConnectRetries: -1}, "connect_retries must not be negative"},
		{"password without user", ClusterOptions{Port: 6222, Password: "p"}, "cluster authorization: a password needs a user"},
		{"map without tls", ClusterOptions{Port: 6222, TLSMap: true}, "verify_and_map needs a tls configuration"},
		{"pool size", ClusterOptions{Port: 6222, PoolSize: -2}, "pool_size -2"},
		{"negative ping", ClusterOptions{Port: 6222, PingMax: -1}, "cluster ping_max must not be negative"},
		{"import subject", ClusterOptions{Port: 6222, Permissions: &RoutePermissions{Import: &auth.SubjectPermission{Allow: []string{"a..b"}}}},
			`cluster import allow: subject "a..b" is not a valid subject`},
		{"export queue", ClusterOptions{Port: 6222, Permissions: &RoutePermissions{Export: &auth.SubjectPermission{Deny: []string{"a q"}}}},
			`cluster export deny: subject "a q" is not a valid subject`},
		{"pinned twice", ClusterOptions{Port: 6222, PinnedAccounts: []string{"$G", "$G"}}, `found duplicate account name "$G"`},
		{"pinned unknown account", ClusterOptions{Port: 6222, PinnedAccounts: []string{"A"}},
			`cluster accounts: "A" is not an account of this server`},
		{"compression s2", ClusterOptions{Port: 6222, Compression: Compression{Mode: "s2_fast"}},
			`cluster compression "s2_fast": not implemented by Starling`},
		{"compression on", ClusterOptions{Port: 6222, Compression: Compression{Mode: "on"}}, `"s2_fast": not implemented`},
		{"compression unknown", ClusterOptions{Port: 6222, Compression: Compression{Mode: "zstd"}}, `unsupported compression mode "zstd"`},
	}
	for _, tt := range tests {
		o := Options{Cluster: tt.c}
		o.SetDefaults()
		err := errors.Join(o.Cluster.validate()...)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the route password is in %q", tt.name, err)
		}
	}
}

func TestAdvertiseHostPort(t *testing.T) {
	tests := []struct {
		adv, host string
		port      int
	}{
		{"10.0.0.1:16222", "10.0.0.1", 16222},
		{"nats.example.com", "nats.example.com", 6222},
		{"[::1]:7000", "::1", 7000},
		{"h:0", "h", 6222},
		{"h:-1", "h", 6222},
	}
	for _, tt := range tests {
		c := ClusterOptions{Port: 6222, Advertise: tt.adv}
		h, p, err := c.AdvertiseHostPort()
		if err != nil || h != tt.host || p != tt.port {
			t.Errorf("%s: %s %d %v", tt.adv, h, p, err)
		}
	}
}

func TestParseCompressionMode(t *testing.T) {
	for in, want := range map[string]string{
		"off": CompressionOff, "Disabled": CompressionOff, "false": CompressionOff, "accept": CompressionAccept,
		"not_supported": CompressionNotSupported, "on": CompressionS2Fast, "enabled": CompressionS2Fast,
		"fast": CompressionS2Fast, "auto": CompressionS2Auto, "better": CompressionS2Better, "S2_Best": CompressionS2Best,
	} {
		if got, err := ParseCompressionMode(in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := ParseCompressionMode("s2_uncompressed"); err == nil {
		t.Error("s2_uncompressed is not a mode one can configure")
	}
	if err := CheckCompression("s2_auto"); !errors.Is(err, ErrCompressionNotImplemented) {
		t.Errorf("s2_auto: %v", err)
	}
}

func TestClusterReload(t *testing.T) {
	base := Options{Cluster: ClusterOptions{Port: 6222, Routes: []*url.URL{mustURL(t, "nats://a:6222")}}}
	base.SetDefaults()
	tests := []struct {
		name   string
		change func(*ClusterOptions)
		want   string // "" = the reload applies
	}{
		{"host", func(c *ClusterOptions) { c.Host = "127.0.0.1" }, "config reload not supported for cluster host: old=0.0.0.0, new=127.0.0.1"},
		{"port", func(c *ClusterOptions) { c.Port = 6333 }, "config reload not supported for cluster port: old=6222, new=6333"},
		{"clustering off", func(c *ClusterOptions) { c.Port = 0 }, "config reload not supported for cluster port: old=6222, new=0"},
		{"routes", func(c *ClusterOptions) { c.Routes = []*url.URL{mustURL(t, "nats://u:p@b:6222")} }, ""},
		{"name", func(c *ClusterOptions) { c.Name = "west" }, ""},
		{"authorization", func(c *ClusterOptions) {
			c.Username, c.Password, c.AuthTimeout = "u", "p", time.Second
			c.Permissions = &RoutePermissions{Import: &auth.SubjectPermission{Allow: []string{"x"}}}
		}, ""},
		{"tls on", func(c *ClusterOptions) { c.TLSConfig = &tls.Config{} }, ""},
		{"the rest", func(c *ClusterOptions) {
			c.Advertise, c.NoAdvertise, c.ConnectRetries, c.ConnectBackoff = "h:1", true, 3, true
			c.PingInterval, c.PingMax, c.WriteDeadline, c.PoolSize = time.Second, 3, time.Second, 5
			c.PinnedAccounts, c.Compression.Mode = []string{"$G"}, CompressionOff
		}, ""},
	}
	for _, tt := range tests {
		old := base
		next := base
		tt.change(&next.Cluster)
		err := CheckReload(&old, &next)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
