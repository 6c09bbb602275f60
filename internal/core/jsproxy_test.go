package core

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestJetStreamProxy: a server that wants the JetStream API proxied sends
// its clients' requests to the system account of a route peer that is a
// nats-server announcing JetStream, with the requester's identity; not
// to a peer without JetStream, nor to a Starling peer.
func TestJetStreamProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		info    string // the peer's INFO fields after server_id
		wanted  bool   // ProxyJetStream called
		proxied bool
	}{
		{"nats-server with JetStream", `"jetstream":true`, true, true},
		{"nats-server without JetStream", `"jetstream":false`, true, false},
		{"Starling with JetStream", `"jetstream":true,"git_commit":"` + starlingMark + `x","starling_jetstream":true`, true, false},
		{"not wanted", `"jetstream":true`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := clusterServer(t, nil)
			if tc.wanted {
				s.ProxyJetStream()
			}
			peer, err := net.Dial("tcp", s.ClusterAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			hello := "CONNECT {\"name\":\"NPEER\",\"cluster\":\"test\",\"headers\":true}\r\n" +
				"INFO {\"server_id\":\"NPEER\",\"server_name\":\"peer\",\"cluster\":\"test\",\"headers\":true,\"port\":1," + tc.info + "}\r\n" +
				"RS+ $SYS $JS.API.>\r\nRS+ $G done.x\r\n"
			if _, err := peer.Write([]byte(hello)); err != nil {
				t.Fatal(err)
			}
			remoteInterest(t, s, "done.x", true)
			if got := s.JetStreamProxied(); got != tc.proxied {
				t.Fatalf("proxied %v, want %v", got, tc.proxied)
			}
			nc := natsConn(t, s)
			if err := nc.PublishRequest("$JS.API.INFO", "_INBOX.me", nil); err != nil {
				t.Fatal(err)
			}
			// The end mark follows the request on the same route.
			if err := nc.Publish("done.x", nil); err != nil {
				t.Fatal(err)
			}
			got := readUntil(t, peer, "RMSG $G done.x")
			sent := strings.Contains(got, "HMSG $SYS $JS.API.INFO _R_.") // with the request info header
			if sent != tc.proxied {
				t.Fatalf("request sent to the peer's system account: %v, want %v; the peer read:\n%s", sent, tc.proxied, got)
			}
			if sent && !strings.Contains(got, RequestInfoHeader+`: {"acc":"$G"`) {
				t.Errorf("no request info for $G in:\n%s", got)
			}
			// An account a reload adds later imports the API too.
			later := s.RegisterAccount("LATER")
			if got := importsAPI(later); got != tc.proxied {
				t.Errorf("a later account imports the API: %v, want %v", got, tc.proxied)
			}
		})
	}
}

// readUntil reads what the server sends the raw peer, answering its
// PINGs, until a line starting with mark, within a bound.
func readUntil(t *testing.T, conn net.Conn, mark string) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var b strings.Builder
	for range 10_000 {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			if err == io.EOF {
				break
			}
			t.Fatalf("reading the route: %v; read:\n%s", err, b.String())
		}
		if strings.HasPrefix(line, "PING") {
			if _, err := conn.Write([]byte("PONG\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		if strings.HasPrefix(line, mark) {
			return b.String()
		}
	}
	t.Fatalf("no %q from the server; read:\n%s", mark, b.String())
	return ""
}

// importsAPI reports whether acc imports the JetStream API.
func importsAPI(acc *Account) bool {
	for _, sub := range acc.sl.Match("$JS.API.INFO").Plain {
		if sub.imp != nil && sub.imp.kind == importService {
			return true
		}
	}
	return false
}
