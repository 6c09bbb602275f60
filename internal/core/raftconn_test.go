package core

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/testcert"
)

// raftEcho takes Raft connections and echoes what they carry, after
// sending "hello <peer id>\n".
func raftEcho(t *testing.T, s *Server) chan string {
	peers := make(chan string, 4)
	s.SetRaftHandler(func(conn net.Conn, peerID string) {
		peers <- peerID
		go func() {
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(conn, "hello "+peerID+"\n"); err != nil {
				return
			}
			_, _ = io.Copy(conn, conn)
		}()
	})
	return peers
}

// TestRaftConnection: a Raft connection dialled to the cluster port is
// handed to the Raft handler with the dialler's ID and carries bytes both
// ways, while routes between the same servers still form.
func TestRaftConnection(t *testing.T) {
	b := clusterServer(t, nil)
	peers := raftEcho(t, b)
	a := clusterServer(t, []string{routeURLOf(b)})
	waitMesh(t, a, b)

	conn, err := a.DialRaft(context.Background(), b.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	select {
	case id := <-peers:
		if id != a.ID() {
			t.Fatalf("peer id %q, want %q", id, a.ID())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never got the connection")
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	want := "hello " + a.ID() + "\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != want {
		t.Fatalf("greeting %q %v", got, err)
	}
	if _, err := io.WriteString(conn, "ping"); err != nil {
		t.Fatal(err)
	}
	echo := make([]byte, 4)
	if _, err := io.ReadFull(conn, echo); err != nil || string(echo) != "ping" {
		t.Fatalf("echo %q %v", echo, err)
	}
	if a.NumRoutes() != 1 || b.NumRoutes() != 1 {
		t.Fatalf("routes: %d and %d, want 1 each", a.NumRoutes(), b.NumRoutes())
	}
}

// TestRaftConnectionRefused: wrong cluster credentials or another
// cluster's name get the route's -ERR, and no handler call.
func TestRaftConnectionRefused(t *testing.T) {
	b := clusterServer(t, nil, func(o *Options) { o.Cluster.Username, o.Cluster.Password = "ruser", "secret" })
	peers := raftEcho(t, b)
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"bad password", func(o *Options) { o.Cluster.Username, o.Cluster.Password = "ruser", "wrong" }, "Authorization Violation"},
		{"other cluster", func(o *Options) {
			o.Cluster.Username, o.Cluster.Password = "ruser", "secret"
			o.Cluster.Name = "elsewhere"
		}, "cluster name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := clusterServer(t, nil, tt.mutate)
			_, err := a.DialRaft(context.Background(), b.ClusterAddr().String())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DialRaft: %v, want %q", err, tt.want)
			}
		})
	}
	select {
	case id := <-peers:
		t.Fatalf("a refused connection reached the handler (%s)", id)
	default:
	}
}

// TestRaftHandlerSilentRoutePeer: with a Raft handler set, a peer that
// says nothing at first is still served as a route (INFO after the peek).
func TestRaftHandlerSilentRoutePeer(t *testing.T) {
	b := clusterServer(t, nil)
	raftEcho(t, b)
	conn, err := net.DialTimeout("tcp", b.ClusterAddr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "INFO " {
		t.Fatalf("first bytes %q %v, want the route INFO", buf, err)
	}
}

// TestRaftConnectionTLS: over a cluster with TLS, the Raft connection is
// a TLS connection verified as routes are, and routes still form.
func TestRaftConnectionTLS(t *testing.T) {
	ca, err := testcert.NewCA("cluster")
	if err != nil {
		t.Fatal(err)
	}
	withTLS := func(o *Options) { o.Cluster.TLSConfig = routeTLSConfig(t, ca) }
	b := clusterServer(t, nil, withTLS)
	peers := raftEcho(t, b)
	a := clusterServer(t, []string{routeURLOf(b)}, withTLS)
	waitMesh(t, a, b)
	conn, err := a.DialRaft(context.Background(), b.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if id := <-peers; id != a.ID() {
		t.Fatalf("peer id %q", id)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	want := "hello " + a.ID() + "\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != want {
		t.Fatalf("greeting %q %v", got, err)
	}
}
