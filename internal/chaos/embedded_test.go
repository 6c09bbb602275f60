package chaos

import (
	"reflect"
	"testing"
	"time"
)

// TestSpecServerOptions: an embedded server gets the settings its
// configuration file would give a process.
func TestSpecServerOptions(t *testing.T) {
	s := Spec{
		Name: "chaos-0", ClusterName: "c", ClientPort: 4000, ClusterPort: 5000, HTTPPort: 6000,
		Advertise: "127.0.0.1:7000", Routes: []string{"127.0.0.1:8001", "127.0.0.1:8002"},
		StoreDir: "/tmp/store", PingInterval: time.Second, PingMax: 3, WriteDeadline: 2 * time.Second,
	}
	o, err := s.ServerOptions()
	if err != nil {
		t.Fatal(err)
	}
	c := o.Cluster
	var routes []string
	for _, u := range c.Routes {
		if u.Scheme != "nats-route" {
			t.Errorf("route %v: scheme %q", u, u.Scheme)
		}
		routes = append(routes, u.Host)
	}
	for _, ck := range []struct {
		what      string
		got, want any
	}{
		{"server name", o.ServerName, "chaos-0"},
		{"client address", [2]any{o.Host, o.Port}, [2]any{"127.0.0.1", 4000}},
		{"monitoring port", o.HTTPPort, 6000},
		{"cluster", [3]any{c.Name, c.Host, c.Port}, [3]any{"c", "127.0.0.1", 5000}},
		{"advertise", c.Advertise, "127.0.0.1:7000"},
		{"connect retries", c.ConnectRetries, 0},
		{"routes", routes, s.Routes},
		{"jetstream", [2]any{o.JetStream, o.StoreDir}, [2]any{true, "/tmp/store"}},
		{"timings", [3]any{o.PingInterval, o.PingMax, o.WriteDeadline}, [3]any{time.Second, 3, 2 * time.Second}},
		{"route timings", [3]any{c.PingInterval, c.PingMax, c.WriteDeadline}, [3]any{time.Second, 3, 2 * time.Second}},
	} {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: got %v, want %v", ck.what, ck.got, ck.want)
		}
	}
	if _, err := (&Spec{Routes: []string{"bad host:1:2"}}).ServerOptions(); err == nil {
		t.Error("a route that is no URL was accepted")
	}
}
