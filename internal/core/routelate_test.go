package core

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

// latePeer is a raw route peer of s that has sent hello after its
// CONNECT and INFO; it returns the connection and the route s made for it.
func latePeer(t *testing.T, s *Server, hello string) (net.Conn, *route) {
	t.Helper()
	peer, err := net.Dial("tcp", s.ClusterAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	go io.Copy(io.Discard, peer)
	start := "CONNECT {\"name\":\"NPEER\",\"cluster\":\"test\",\"headers\":true}\r\n" +
		"INFO {\"server_id\":\"NPEER\",\"server_name\":\"peer\",\"cluster\":\"test\",\"headers\":true,\"port\":1}\r\n"
	// The $G interest last: once it is in, everything before was read.
	if _, err := peer.Write([]byte(start + hello + "RS+ $G done.x\r\n")); err != nil {
		t.Fatal(err)
	}
	remoteInterest(t, s, "done.x", true)
	routes := s.routeList()
	if len(routes) != 1 {
		t.Fatalf("%d routes, want 1", len(routes))
	}
	return peer, routes[0]
}

func (r *route) lateCounts() (kept int, dropped uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lateN, r.lateDropped
}

// TestLateAccountInterest: a peer's interest in an account this server
// does not have yet takes effect when the account is made, less what the
// peer took back meanwhile; removing the account keeps it aside again.
func TestLateAccountInterest(t *testing.T) {
	s := clusterServer(t, nil)
	_, r := latePeer(t, s, "RS+ LATE l.x\r\nRS+ LATE l.q workers 3\r\nRS+ LATE l.y\r\nRS- LATE l.y\r\n")
	if kept, _ := r.lateCounts(); kept != 2 {
		t.Fatalf("kept %d subjects, want 2", kept)
	}
	acc := s.RegisterAccount("LATE")
	if !routeInterestIn(acc, "l.x") || !routeInterestIn(acc, "l.q") || routeInterestIn(acc, "l.y") {
		t.Fatal("late interest not applied as the peer left it")
	}
	if routeInterestIn(s.gacc, "l.x") {
		t.Fatal("late interest in the global account")
	}
	if kept, _ := r.lateCounts(); kept != 0 {
		t.Fatalf("still %d kept after the account came", kept)
	}

	s.removeAccount("LATE")
	if kept, _ := r.lateCounts(); kept != 2 {
		t.Fatalf("kept %d subjects after removal, want 2", kept)
	}
	again := s.RegisterAccount("LATE")
	if again == acc || !routeInterestIn(again, "l.x") || !routeInterestIn(again, "l.q") {
		t.Fatal("the peer's interest did not come back with the account")
	}
}

// TestLateAccountInterestBounded: what a route keeps for unknown accounts
// is bounded; the rest is dropped and counted, and closing the route
// discards what was kept.
func TestLateAccountInterestBounded(t *testing.T) {
	s := clusterServer(t, nil)
	var b strings.Builder
	for i := range maxLateInterest + 5 {
		fmt.Fprintf(&b, "RS+ BIG s.%d\r\n", i)
	}
	b.WriteString("RS+ BIG s.0\r\n") // again: kept already, not dropped
	peer, r := latePeer(t, s, b.String())
	if kept, dropped := r.lateCounts(); kept != maxLateInterest || dropped != 5 {
		t.Fatalf("kept %d, dropped %d; want %d and 5", kept, dropped, maxLateInterest)
	}
	peer.Close()
	waitUntil(t, "the route to close", func() bool { return s.NumRoutes() == 0 })
	if kept, _ := r.lateCounts(); kept != 0 {
		t.Fatalf("a closed route keeps %d", kept)
	}
	r.mu.Lock()
	late := r.late
	r.mu.Unlock()
	if late != nil {
		t.Fatal("a closed route keeps late interest")
	}
}
