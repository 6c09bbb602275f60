package test

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// varzCluster reads /varz's "cluster" object.
func varzCluster(t *testing.T, monitorURL string) map[string]any {
	t.Helper()
	var v struct {
		Cluster map[string]any `json:"cluster"`
	}
	getJSON(t, monitorURL+"/varz", &v)
	return v.Cluster
}

// clusteredServer runs a monitored server with cluster options c on
// loopback and random ports.
func clusteredServer(t *testing.T, name string, c server.ClusterOptions) *server.Server {
	t.Helper()
	c.Host = "127.0.0.1"
	c.Port = server.RandomPort
	return startServer(t, func(o *serverOptions) {
		o.ServerName = name
		o.HTTPPort = server.RandomPort
		o.Cluster = c
	})
}

func TestVarzCluster(t *testing.T) {
	t.Run("no cluster", func(t *testing.T) {
		if got := varzCluster(t, monitored(t).MonitorURL()); len(got) != 0 {
			t.Errorf("cluster %v, want {}", got)
		}
	})

	t.Run("configured", func(t *testing.T) {
		a := clusteredServer(t, "a", server.ClusterOptions{Name: "east"})
		peer := &url.URL{Scheme: "nats-route", User: url.UserPassword("ruser", "s3cret"), Host: a.ClusterAddr().String()}
		b := clusteredServer(t, "b", server.ClusterOptions{Name: "east", Routes: []*url.URL{peer}})
		eventually(t, 20*time.Second, func() bool { return a.NumRoutes() == 1 && b.NumRoutes() == 1 }, "the route")
		got := varzCluster(t, b.MonitorURL())
		want := map[string]any{
			"name":         "east",
			"addr":         "127.0.0.1",
			"cluster_port": float64(b.ClusterAddr().(*net.TCPAddr).Port),
			"auth_timeout": float64(2),
			"tls_timeout":  float64(2),
			"urls":         []any{a.ClusterAddr().String()}, // the credentials never show
			"pool_size":    float64(-1),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cluster\n got %v\nwant %v", got, want)
		}
	})

	t.Run("generated name is the one agreed", func(t *testing.T) {
		a := clusteredServer(t, "a", server.ClusterOptions{})
		b := clusteredServer(t, "b", server.ClusterOptions{Routes: []*url.URL{{Scheme: "nats-route", Host: a.ClusterAddr().String()}}})
		eventually(t, 20*time.Second, func() bool { return a.NumRoutes() == 1 && b.NumRoutes() == 1 }, "the route")
		eventually(t, 10*time.Second, func() bool {
			na, nb := varzCluster(t, a.MonitorURL())["name"], varzCluster(t, b.MonitorURL())["name"]
			return na != nil && na != "" && na == nb
		}, "both servers to report the same generated cluster name")
	})
}

// TestVarzClusterLikeNATSServer runs nats-server (when installed) with the
// cluster block a Starling server gets, and compares the two "cluster"
// objects: the same keys with the same values, except the random port and
// pool_size, which nats-server before 2.10 does not have.
func TestVarzClusterLikeNATSServer(t *testing.T) {
	bin := natsServerPath(t)
	routes := []string{"nats-route://ruser:s3cret@127.0.0.1:4", "nats://127.0.0.1:5"} // nothing listens there
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ports"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Every port is picked by nats-server and read back from its ports
	// file, which it writes once its cluster listener is up.
	conf := filepath.Join(dir, "n.conf")
	text := fmt.Sprintf("listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\nports_file_dir: %q\ncluster {\n  name: demo\n  listen: 127.0.0.1:-1\n  routes: [%s]\n}\n",
		filepath.Join(dir, "ports"), strings.Join(routes, ", "))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	proc, _ := launchNatsServer(t, t, bin, "n", dir, conf)
	if proc.monitorURL == "" {
		t.Fatal("nats-server's ports file names no monitoring port")
	}
	var theirs map[string]any
	eventually(t, 20*time.Second, func() bool {
		theirs = varzCluster(t, proc.monitorURL)
		p, _ := theirs["cluster_port"].(float64)
		return p > 0
	}, "nats-server's cluster listener")

	var us []*url.URL
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		us = append(us, u)
	}
	ours := varzCluster(t, clusteredServer(t, "s", server.ClusterOptions{Name: "demo", Routes: us}).MonitorURL())

	for _, m := range []map[string]any{theirs, ours} {
		if p, _ := m["cluster_port"].(float64); p <= 0 {
			t.Errorf("cluster_port %v in %v", m["cluster_port"], m)
		}
		delete(m, "cluster_port")
	}
	if _, ok := theirs["pool_size"]; !ok {
		delete(ours, "pool_size") // nats-server 2.9
	}
	if fmt.Sprint(ours) != fmt.Sprint(theirs) {
		t.Errorf("cluster differs from nats-server's:\nStarling    %v\nnats-server %v\nkeys %v vs %v",
			ours, theirs, slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(theirs)))
	}
}
