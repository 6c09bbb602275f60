package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starling-mq/starling/server"
)

// jsCluster is three embedded servers running clustered JetStream.
type jsCluster struct {
	t       *testing.T
	opts    []*server.Options
	servers []*server.Server
}

func startJSCluster(t *testing.T) *jsCluster { return startJSClusterRouted(t, false) }

// startJSClusterRouted starts the three servers; with seed, the first
// names no route and the others only a route to it (a seed server).
func startJSClusterRouted(t *testing.T, seed bool) *jsCluster { return startJSClusterOf(t, 3, seed) }

// startJSClusterOf starts n servers, routed as startJSClusterRouted.
func startJSClusterOf(t *testing.T, n int, seed bool) *jsCluster {
	t.Helper()
	return startJSClusterWith(t, n, seed, nil)
}

// startJSClusterWith starts n servers with edit, when set, run on each
// server's options first.
func startJSClusterWith(t *testing.T, n int, seed bool, edit func(*server.Options)) *jsCluster {
	t.Helper()
	c := &jsCluster{t: t}
	var ports []int
	for range n {
		ports = append(ports, freePort(t))
	}
	for i := range ports {
		var routes []*url.URL
		for j, p := range ports {
			if j != i && (!seed || j == 0) {
				u, _ := url.Parse(fmt.Sprintf("nats-route://127.0.0.1:%d", p))
				routes = append(routes, u)
			}
		}
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("S%d", i+1), Host: "127.0.0.1", Port: server.RandomPort,
			JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOptions{Name: "JSC", Host: "127.0.0.1", Port: ports[i], Routes: routes},
			Logger:  debugLogger(i),
		})
		if edit != nil {
			edit(c.opts[i])
		}
	}
	c.servers = make([]*server.Server, len(ports))
	for i := range ports {
		c.start(i)
	}
	return c
}

// withMonitor gives a cluster's servers HTTP monitoring on a free port
// (startJSClusterWith's edit).
func withMonitor(o *server.Options) { o.HTTPHost, o.HTTPPort = "127.0.0.1", server.RandomPort }

// start starts server i. A port picked as free may be taken by the time
// the server binds it (an outgoing connection's ephemeral port): the
// start is tried again for a while, as the other servers' routes name
// the port.
func (c *jsCluster) start(i int) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := server.New(c.opts[i])
		if err != nil {
			c.t.Fatal(err)
		}
		err = s.Start()
		if err == nil {
			c.servers[i] = s
			c.t.Cleanup(func() { s.Shutdown(context.Background()) })
			return
		}
		s.Shutdown(context.Background())
		if !strings.Contains(err.Error(), "address already in use") || time.Now().After(deadline) {
			c.t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *jsCluster) stop(i int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.servers[i].Shutdown(ctx)
}

func (c *jsCluster) connect(i int) (*nats.Conn, jetstream.JetStream) {
	c.t.Helper()
	nc, err := nats.Connect(c.servers[i].ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		c.t.Fatal(err)
	}
	return nc, js
}

// eventually polls fn until it returns nil, for up to d.
func eventually(t *testing.T, d time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReady waits until the cluster's JetStream answers.
func (c *jsCluster) waitReady(js jetstream.JetStream) {
	c.t.Helper()
	eventually(c.t, 30*time.Second, func() error {
		_, err := js.AccountInfo(context.Background())
		return err
	})
}

func debugLogger(i int) *slog.Logger {
	if os.Getenv("JSC_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("srv", i)
}

// currentR3 creates a stream of three replicas on subject and waits until
// every replica is current; it returns the stream and its leader then.
func currentR3(t *testing.T, js jetstream.JetStream, name, subject string) (jetstream.Stream, string) {
	t.Helper()
	ctx := context.Background()
	var st jetstream.Stream
	eventually(t, 20*time.Second, func() error {
		var err error
		st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Replicas: 3})
		return err
	})
	var leader string
	eventually(t, 20*time.Second, func() error {
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				return fmt.Errorf("replica %s not current", r.Name)
			}
		}
		leader = info.Cluster.Leader
		return nil
	})
	return st, leader
}
