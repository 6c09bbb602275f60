package chaos

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/config"
)

func TestPairs(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []Pair
	}{
		{1, nil},
		{2, []Pair{{0, 1}}},
		{3, []Pair{{0, 1}, {0, 2}, {1, 2}}},
		{4, []Pair{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}}},
	} {
		if got := Pairs(tc.n); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Pairs(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if PairOf(2, 0) != (Pair{0, 2}) || PairOf(0, 2) != (Pair{0, 2}) {
		t.Error("PairOf depends on the order of its arguments")
	}
}

// TestSpecConfig: the rendered file is read by the configuration package
// as the Spec means it.
func TestSpecConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec Spec
	}{
		{"last server: no routes, no timings", Spec{
			Name: "chaos-2", ClusterName: "chaos", ClientPort: 4001, ClusterPort: 5001, HTTPPort: 6001,
			Advertise: "127.0.0.1:7001",
		}},
		{"first server: routes, timings, JetStream", Spec{
			Name: "chaos-0", ClusterName: "c", ClientPort: 4000, ClusterPort: 5000, HTTPPort: 6000,
			Advertise: "127.0.0.1:7000", Routes: []string{"127.0.0.1:8001", "127.0.0.1:8002"},
			StoreDir: `/tmp/a "quoted" \ dir`, PingInterval: 1500 * time.Millisecond, PingMax: 3, WriteDeadline: 2 * time.Second,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "server.conf")
			if err := os.WriteFile(path, []byte(tc.spec.Config()), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("%v\n%s", err, tc.spec.Config())
			}
			o, s := cfg.Opts, tc.spec
			c := o.Cluster
			var routes []string
			for _, u := range c.Routes {
				routes = append(routes, u.Host)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"server name", o.ServerName, s.Name},
				{"client address", [2]any{o.Host, o.Port}, [2]any{"127.0.0.1", s.ClientPort}},
				{"monitoring port", o.HTTPPort, s.HTTPPort},
				{"cluster name", c.Name, s.ClusterName},
				{"cluster address", [2]any{c.Host, c.Port}, [2]any{"127.0.0.1", s.ClusterPort}},
				{"advertise", c.Advertise, s.Advertise},
				{"connect retries", c.ConnectRetries, 0},
				{"routes", routes, s.Routes},
				{"store dir", o.StoreDir, s.StoreDir},
				{"jetstream", o.JetStream, s.StoreDir != ""},
				{"ping interval", o.PingInterval, s.PingInterval},
				{"route ping interval", c.PingInterval, s.PingInterval},
				{"write deadline", o.WriteDeadline, s.WriteDeadline},
				{"ping max", o.PingMax, s.PingMax},
			}
			for _, ck := range checks {
				if !reflect.DeepEqual(ck.got, ck.want) {
					t.Errorf("%s: got %v, want %v", ck.what, ck.got, ck.want)
				}
			}
		})
	}
}
