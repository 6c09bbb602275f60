package test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// Route transcripts: this test dials a server's cluster port as a peer
// server would, and raw client connections to its client port, and checks
// the exact bytes that come back. Every transcript runs against Debian's
// nats-server 2.9.10 (the reference, when installed) and against
// Starling, and the two recordings are compared after normalising what
// legitimately differs (IDs, versions, ports).
//
// A transcript is a list of lines, one operation each, on named
// connections (c1, c2: clients; r1, r2: route peers; x1: a bare
// connection to the cluster port):
//
//	c1 connect            dial the client port, send CONNECT (headers, no_responders, protocol 1)
//	c1 connect noheaders  the same for a client without header support
//	r1 connect [k=v...]   dial the cluster port, send CONNECT and INFO as server NPEER1 would
//	                      (cluster=, user=, pass= override the defaults; urls adds
//	                      connect_urls to the INFO)
//	x1 dial               dial the cluster port and only read its INFO
//	r1> text              send text and CRLF
//	r1< text              expect this line; consecutive lines form a block, read up
//	                      to the PONG of a PING the runner sends (or to the close)
//	r1<* text             a block whose lines may come in any order
//	r1< (nothing)         expect no line before the PONG
//	r1<~ text             wait for these lines (for what follows a close)
//	r1 closed             expect the server to close the connection
//	r1 close              close it
//	r1 noinfo             drop INFO lines on this connection from now on
//
// The server's own PINGs are answered and left out. INFO lines are
// compared as JSON: an expected INFO lists only the keys checked, with
// arrays compared as sets and $SELF standing for the server's client
// host:port. The queue names of RMSG and HMSG lines are compared as a set.

// transcriptCluster is the cluster name of the servers under test.
const transcriptCluster = "T"

// routeTarget is a server the transcripts run against.
type routeTarget struct {
	kind  string
	start func(t *testing.T, setup func(*nodeConfig)) *clusterNode
}

// withRouteAuth gives the cluster an authorization block.
func withRouteAuth(c *nodeConfig) { c.user, c.pass = "ruser", "s3cret" }

// withRoutePerms gives the cluster permissions: peers may not subscribe
// to secret.> here (export), and this server does not ask peers for
// private.> (import).
func withRoutePerms(c *nodeConfig) {
	c.routePerms = &server.RoutePermissions{
		Import: &server.SubjectPermission{Deny: []string{"private.>"}},
		Export: &server.SubjectPermission{Deny: []string{"secret.>"}},
	}
}

// routeTargets are nats-server 2.9.10 when installed, then Starling.
func routeTargets(t *testing.T) []routeTarget {
	cfg := func(setup func(*nodeConfig)) nodeConfig {
		c := nodeConfig{name: "target", cluster: transcriptCluster, natsConf: "no_system_account: true\n"}
		if setup != nil {
			setup(&c)
		}
		return c
	}
	var out []routeTarget
	if bin, ok := optionalNatsServer(t); ok {
		out = append(out, routeTarget{"nats-server", func(t *testing.T, setup func(*nodeConfig)) *clusterNode {
			return startNatsServerNode(t, bin, cfg(setup))
		}})
	}
	return append(out, routeTarget{"starling", func(t *testing.T, setup func(*nodeConfig)) *clusterNode {
		return startStarlingNode(t, cfg(setup))
	}})
}

// optionalNatsServer is the reference nats-server when installed; without
// it the transcripts check Starling alone, unless
// STARLING_REQUIRE_NATSSERVER=1.
func optionalNatsServer(t testing.TB) (string, bool) {
	t.Helper()
	if p := findNatsServer(); p != "" {
		return p, true
	}
	if os.Getenv("STARLING_REQUIRE_NATSSERVER") == "1" {
		t.Fatal("nats-server is missing: apt-get install nats-server")
	}
	t.Log("nats-server is missing: checking Starling against the transcripts only")
	return "", false
}

// TestRouteTranscripts runs every transcript against every target and
// compares the recordings.
func TestRouteTranscripts(t *testing.T) {
	targets := routeTargets(t)
	for _, tr := range routeTranscripts {
		t.Run(tr.name, func(t *testing.T) {
			recs := make([][]string, len(targets))
			for i, tg := range targets {
				t.Run(tg.kind, func(t *testing.T) {
					recs[i] = runTranscript(t, tg.start(t, tr.setup), tr.script)
				})
			}
			if len(targets) == 2 && recs[0] != nil && recs[1] != nil {
				if d := diffLines(recs[0], recs[1]); d != "" {
					t.Errorf("Starling differs from nats-server (- nats-server, + Starling):\n%s", d)
				}
			}
		})
	}
}

// diffLines is a line-by-line difference, "" when equal.
func diffLines(a, b []string) string {
	if slices.Equal(a, b) {
		return ""
	}
	var sb strings.Builder
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x == y {
			fmt.Fprintf(&sb, "  %s\n", x)
			continue
		}
		if i < len(a) {
			fmt.Fprintf(&sb, "- %s\n", x)
		}
		if i < len(b) {
			fmt.Fprintf(&sb, "+ %s\n", y)
		}
	}
	return sb.String()
}

// transcriptOp is one line of a transcript.
type transcriptOp struct {
	line int
	conn string
	op   string // ">", "<", "<*", "<~", or a word: connect, dial, close, closed, noinfo
	arg  string
}

var transcriptLine = regexp.MustCompile(`^([a-z]+[0-9]*)(>|<\*|<~|<| )(.*)$`)

func parseTranscript(t testing.TB, script string) []transcriptOp {
	t.Helper()
	var ops []transcriptOp
	for i, l := range strings.Split(script, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		m := transcriptLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("transcript line %d: cannot parse %q", i, l)
		}
		op := transcriptOp{line: i, conn: m[1], op: m[2], arg: strings.TrimPrefix(m[3], " ")}
		if op.op == " " {
			op.op, op.arg, _ = strings.Cut(m[3], " ")
		}
		ops = append(ops, op)
	}
	return ops
}

// rawPeer is one connection of a transcript.
type rawPeer struct {
	t         testing.TB
	name      string
	conn      net.Conn
	r         *bufio.Reader
	noInfo    bool
	firstInfo string // the server's INFO on connect
}

// runTranscript plays script against node and returns what the server
// sent, normalised, for comparison with another server's recording.
func runTranscript(t *testing.T, node *clusterNode, script string) []string {
	t.Helper()
	ops := parseTranscript(t, script)
	self := strings.TrimPrefix(node.clientURL, "nats://")
	peers := map[string]*rawPeer{}
	noInfo := map[string]bool{}
	var rec []string
	peer := func(op transcriptOp) *rawPeer {
		p := peers[op.conn]
		if p == nil {
			t.Fatalf("line %d: %s is not connected", op.line, op.conn)
		}
		return p
	}
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		switch op.op {
		case "connect", "dial":
			peers[op.conn] = dialPeer(t, node, op)
			peers[op.conn].noInfo = noInfo[op.conn]
		case "noinfo":
			noInfo[op.conn] = true
			if p := peers[op.conn]; p != nil {
				p.noInfo = true
			}
		case ">":
			peer(op).send(op.arg + "\r\n")
		case "close":
			peer(op).conn.Close()
		case "closed":
			p := peer(op)
			p.expectEOF(op.line)
			rec = append(rec, op.conn+" closed")
		case "<", "<*", "<~":
			// A block: this and the following lines of the same kind on
			// the same connection.
			j := i
			var want []string
			unordered := false
			for ; j < len(ops) && ops[j].conn == op.conn && strings.HasPrefix(ops[j].op, "<") && (ops[j].op == "<~") == (op.op == "<~"); j++ {
				unordered = unordered || ops[j].op == "<*"
				if ops[j].arg != "(nothing)" {
					want = append(want, ops[j].arg)
				}
			}
			p := peer(op)
			var got []string
			switch {
			case op.op == "<~":
				got = p.await(op.line, want, self)
				unordered = true
			case j < len(ops) && ops[j].conn == op.conn && ops[j].op == "closed":
				got = p.readN(op.line, len(want))
			default:
				got = p.sync(op.line)
			}
			checkBlock(t, op, want, got, unordered, self)
			for _, g := range got {
				rec = append(rec, op.conn+"< "+normaliseLine(g, self))
			}
			if unordered {
				slices.Sort(rec[len(rec)-len(got):])
			}
			i = j - 1
		default:
			t.Fatalf("line %d: unknown operation %q", op.line, op.op)
		}
		if t.Failed() {
			return nil
		}
	}
	return rec
}

// dialPeer opens a transcript connection: a client, a route peer, or a
// bare connection to the cluster port.
func dialPeer(t *testing.T, node *clusterNode, op transcriptOp) *rawPeer {
	t.Helper()
	route := op.op == "dial" || strings.HasPrefix(op.conn, "r")
	addr := strings.TrimPrefix(node.clientURL, "nats://")
	if route {
		addr = fmt.Sprintf("127.0.0.1:%d", node.routePort)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("line %d: dial %s: %v", op.line, addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if route && node.tls != nil {
		// Routes start TLS before any protocol line.
		conf := node.tls.config()
		conf.ServerName = "127.0.0.1"
		tc := tls.Client(conn, conf)
		tc.SetDeadline(time.Now().Add(clusterWait))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("line %d: TLS handshake with %s: %v", op.line, addr, err)
		}
		tc.SetDeadline(time.Time{})
		conn = tc
	}
	p := &rawPeer{t: t, name: op.conn, conn: conn, r: bufio.NewReader(conn)}
	info := p.line(op.line)
	p.firstInfo = info
	if !strings.HasPrefix(info, "INFO {") || !strings.HasSuffix(info, "} \r\n") {
		t.Fatalf("line %d: %s: first line is not INFO: %q", op.line, op.conn, info)
	}
	switch {
	case op.op == "dial":
	case !route && op.arg == "noheaders":
		p.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n")
	case !route:
		p.send(connectQuiet)
	default:
		p.send(peerHello(op))
	}
	return p
}

// peerHello is the CONNECT and INFO a route peer named rN sends, as
// nats-server 2.9 sends them: server NPEERn, route port 5000+n, client
// URL 127.0.0.1:4000+n when asked (nothing listens on either).
func peerHello(op transcriptOp) string {
	n, _ := strconv.Atoi(strings.TrimLeft(op.conn, "abcdefghijklmnopqrstuvwxyz"))
	opts := map[string]string{"cluster": transcriptCluster}
	for _, kv := range strings.Fields(op.arg) {
		k, v, _ := strings.Cut(kv, "=")
		opts[k] = v
	}
	id := fmt.Sprintf("NPEER%d", n)
	connect := map[string]any{
		"echo": true, "verbose": false, "pedantic": false, "tls_required": false,
		"headers": true, "name": id, "cluster": opts["cluster"],
	}
	if u, ok := opts["user"]; ok {
		connect["user"], connect["pass"] = u, opts["pass"]
	}
	cj, _ := json.Marshal(connect)
	urls := ""
	if _, ok := opts["urls"]; ok {
		urls = fmt.Sprintf(`,"connect_urls":["127.0.0.1:%d"]`, 4000+n)
	}
	info := fmt.Sprintf(`{"server_id":%q,"server_name":"peer%d","version":"2.9.10","proto":2,"host":"127.0.0.1","port":%d,"headers":true,"max_payload":1048576,"cluster":%q%s}`,
		id, n, 5000+n, opts["cluster"], urls)
	return "CONNECT " + string(cj) + "\r\nINFO " + info + "\r\n"
}

func (p *rawPeer) send(s string) {
	p.t.Helper()
	p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := p.conn.Write([]byte(s)); err != nil {
		p.t.Fatalf("%s: write %q: %v", p.name, s, err)
	}
}

// line reads one line, with a deadline.
func (p *rawPeer) line(at int) string {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(clusterWait))
	l, err := p.r.ReadString('\n')
	if err != nil {
		p.t.Fatalf("line %d: %s: read (got %q): %v", at, p.name, l, err)
	}
	return l
}

// next is the next line that is not the server's PING (answered) nor an
// INFO the connection drops.
func (p *rawPeer) next(at int) string {
	p.t.Helper()
	for {
		l := p.line(at)
		switch {
		case l == "PING\r\n":
			p.send("PONG\r\n")
		case p.noInfo && strings.HasPrefix(l, "INFO "):
		default:
			return l
		}
	}
}

// sync sends PING and returns the lines before the PONG.
func (p *rawPeer) sync(at int) []string {
	p.t.Helper()
	p.send("PING\r\n")
	var got []string
	for {
		l := p.next(at)
		if l == "PONG\r\n" {
			return got
		}
		got = append(got, l)
		if len(got) > 1000 {
			p.t.Fatalf("line %d: %s: no PONG after 1000 lines", at, p.name)
		}
	}
}

// readN reads n lines.
func (p *rawPeer) readN(at, n int) []string {
	p.t.Helper()
	got := make([]string, n)
	for i := range got {
		got[i] = p.next(at)
	}
	return got
}

// await reads lines until every wanted one has come; any other line
// fails.
func (p *rawPeer) await(at int, want []string, self string) []string {
	p.t.Helper()
	var got []string
	left := slices.Clone(want)
	for len(left) > 0 {
		l := p.next(at)
		i := slices.IndexFunc(left, func(w string) bool { return lineMatches(w, l, self) })
		if i < 0 {
			p.t.Fatalf("line %d: %s: unexpected %q while waiting for %q", at, p.name, l, left)
		}
		left = slices.Delete(left, i, i+1)
		got = append(got, l)
	}
	return got
}

// expectEOF checks that the server closes the connection with nothing
// more than its PINGs.
func (p *rawPeer) expectEOF(at int) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(clusterWait))
	for {
		l, err := p.r.ReadString('\n')
		if l == "PING\r\n" {
			continue
		}
		if l != "" {
			p.t.Fatalf("line %d: %s: %q before the close", at, p.name, l)
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) || isReset(err) {
			return
		}
		p.t.Fatalf("line %d: %s: waiting for the close: %v", at, p.name, err)
	}
}

// checkBlock compares a block's lines with the expectation.
func checkBlock(t *testing.T, op transcriptOp, want, got []string, unordered bool, self string) {
	t.Helper()
	fail := func() {
		t.Errorf("line %d: %s got:\n%s\nwant:\n%s", op.line, op.conn, strings.Join(quoteAll(got), "\n"), strings.Join(quoteAll(want), "\n"))
	}
	if len(got) != len(want) {
		fail()
		return
	}
	if !unordered {
		for i := range want {
			if !lineMatches(want[i], got[i], self) {
				fail()
				return
			}
		}
		return
	}
	left := slices.Clone(got)
	for _, w := range want {
		i := slices.IndexFunc(left, func(g string) bool { return lineMatches(w, g, self) })
		if i < 0 {
			fail()
			return
		}
		left = slices.Delete(left, i, i+1)
	}
}

func quoteAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + strconv.Quote(l)
	}
	return out
}

// lineMatches reports whether a received line (with its CRLF) is the
// expected one.
func lineMatches(want, got, self string) bool {
	if !strings.HasSuffix(got, "\r\n") {
		return false
	}
	got = strings.TrimSuffix(got, "\r\n")
	if strings.HasPrefix(want, "INFO ") {
		return infoMatches(want, got, self)
	}
	return canonicalMsgLine(want) == canonicalMsgLine(got)
}

// infoMatches checks the keys an expected INFO lists.
func infoMatches(want, got, self string) bool {
	var w, g map[string]any
	if json.Unmarshal([]byte(strings.TrimPrefix(want, "INFO ")), &w) != nil {
		return false
	}
	if !strings.HasPrefix(got, "INFO ") || json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(got, "INFO "))), &g) != nil {
		return false
	}
	for k, wv := range w {
		if fmt.Sprint(setOf(wv, self)) != fmt.Sprint(setOf(g[k], "")) {
			return false
		}
	}
	return true
}

// setOf sorts an array (a set for these tests) and puts self for $SELF.
func setOf(v any, self string) any {
	if s, ok := v.(string); ok && s == "$SELF" {
		return self
	}
	a, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = fmt.Sprint(setOf(x, self))
	}
	slices.Sort(out)
	return out
}

// canonicalMsgLine sorts the queue names of an RMSG or HMSG line.
func canonicalMsgLine(l string) string {
	f := strings.Fields(l)
	if len(f) < 5 || (f[0] != "RMSG" && f[0] != "HMSG") {
		return l
	}
	sizes := 1
	if f[0] == "HMSG" {
		sizes = 2
	}
	var from int
	switch f[3] {
	case "+":
		from = 5
	case "|":
		from = 4
	default:
		return l
	}
	if len(f) < from+sizes {
		return l
	}
	q := slices.Clone(f[from : len(f)-sizes])
	slices.Sort(q)
	return strings.Join(slices.Concat(f[:from], q, f[len(f)-sizes:]), " ")
}

// infoVolatile are the INFO keys whose values differ from server to
// server (a peer's own values, NPEERn, stay).
var infoVolatile = map[string]bool{
	"server_id": true, "server_name": true, "version": true, "go": true, "port": true,
	"nonce": true, "client_id": true,
}

// infoLegit are INFO keys nats-server sends and Starling need not, or
// whose value is the build's own: nonce (routes do not use it),
// lnoc/lnocu (leafnode origin support: Starling has no leafnodes, so it
// announces neither), and git_commit (a nats-server release build's commit,
// none in Debian's build; Starling's says it is Starling).
var infoLegit = map[string]bool{"nonce": true, "lnoc": true, "lnocu": true, "git_commit": true}

// normaliseLine prepares a received line for comparison between servers.
func normaliseLine(l, self string) string {
	l = strings.TrimSuffix(l, "\r\n")
	if !strings.HasPrefix(l, "INFO ") {
		return canonicalMsgLine(l)
	}
	var m map[string]any
	body := strings.TrimPrefix(l, "INFO ")
	if json.Unmarshal([]byte(strings.TrimSpace(body)), &m) != nil {
		return l
	}
	var keys []string
	for k, v := range m {
		if infoLegit[k] {
			continue
		}
		switch {
		case infoVolatile[k] && !strings.HasPrefix(fmt.Sprint(v), "NPEER") && !strings.HasPrefix(fmt.Sprint(v), "peer") && v != float64(5001) && v != float64(5002):
			v = "*"
		case k == "connect_urls":
			var urls []string
			for _, u := range setOf(v, "").([]string) {
				if u == self {
					u = "$SELF"
				}
				urls = append(urls, u)
			}
			// nats-server 2.9 lists them in map order.
			slices.Sort(urls)
			v = urls
		}
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			v = int64(f)
		}
		keys = append(keys, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(keys)
	space := ""
	if strings.HasSuffix(body, " ") {
		space = " (space before CRLF)"
	}
	return "INFO " + strings.Join(keys, " ") + space
}

// expectPlaintextPeerClosed: a peer that does not start TLS on a TLS
// route port gets no protocol line and is closed.
func expectPlaintextPeerClosed(t *testing.T, node *clusterNode) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", node.routePort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(clusterWait))
	if _, err := conn.Write([]byte(peerHello(transcriptOp{conn: "r1"}) + "PING\r\n")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("a plaintext peer was not closed: %v", err)
	}
	if strings.Contains(string(got), "INFO") || strings.Contains(string(got), "PONG") {
		t.Fatalf("a plaintext peer got %q", got)
	}
}

// TestRouteInfo: the INFO a server sends first on its cluster port,
// plain, with an authorization block, and with route permissions. Starling's has nats-server's keys
// and values, but for those that differ by nature (IDs, versions, ports)
// and those nats-server sends and Starling need not (infoLegit).
func TestRouteInfo(t *testing.T) {
	targets := routeTargets(t)
	rt := newRouteTLS(t)
	for _, c := range []struct {
		name  string
		setup func(*nodeConfig)
		want  map[string]any
	}{
		{"tls", func(c *nodeConfig) { c.tls = rt }, map[string]any{"tls_required": true, "tls_verify": true}},
		{"plain", nil, nil},
		{"authorization", withRouteAuth, map[string]any{"auth_required": true}},
		{"permissions", withRoutePerms, map[string]any{
			"import": map[string]any{"deny": []any{"private.>"}},
			"export": map[string]any{"deny": []any{"secret.>"}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			infos := make([]string, len(targets))
			for i, tg := range targets {
				t.Run(tg.kind, func(t *testing.T) {
					node := tg.start(t, c.setup)
					p := dialPeer(t, node, transcriptOp{conn: "x1", op: "dial"})
					line := p.firstInfo
					var m map[string]any
					if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(line, "INFO "), " \r\n")), &m); err != nil {
						t.Fatalf("INFO json: %v in %q", err, line)
					}
					self := strings.TrimPrefix(node.clientURL, "nats://")
					want := map[string]any{
						"proto": float64(2), "host": "127.0.0.1", "port": float64(node.routePort),
						"headers": true, "max_payload": float64(1 << 20), "cluster": transcriptCluster,
						"connect_urls": []string{self},
					}
					for k, v := range c.want {
						want[k] = v
					}
					for k, v := range want {
						if fmt.Sprint(setOf(m[k], "")) != fmt.Sprint(v) {
							t.Errorf("INFO %s = %v, want %v", k, m[k], v)
						}
					}
					for _, k := range []string{"server_id", "server_name", "version", "go"} {
						if s, _ := m[k].(string); s == "" {
							t.Errorf("INFO lacks %s: %s", k, line)
						}
					}
					if id, _ := m["server_id"].(string); len(id) != 56 || id[0] != 'N' {
						t.Errorf("server_id %q is not a server NKey", id)
					}
					infos[i] = normaliseLine(line, self)
					if node.tls != nil {
						expectPlaintextPeerClosed(t, node)
					}
				})
			}
			if len(targets) == 2 && infos[0] != "" && infos[1] != "" && infos[0] != infos[1] {
				t.Errorf("route INFO differs:\nnats-server: %s\nStarling:    %s", infos[0], infos[1])
			}
		})
	}
}
