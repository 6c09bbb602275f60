package proto

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// renderRoute describes a RouteCmd compactly so tests can compare
// transcripts.
func renderRoute(c *RouteCmd) string {
	switch c.Op {
	case RouteOpSub, RouteOpUnsub, RouteOpLeafSub, RouteOpLeafUnsub:
		return fmt.Sprintf("%s origin=%s acc=%s subj=%s queue=%s weight=%d", c.Op, c.Origin, c.Account, c.Subject, c.Queue, c.Weight)
	case RouteOpMsg, RouteOpHMsg, RouteOpLeafMsg:
		return fmt.Sprintf("%s origin=%s acc=%s subj=%s reply=%s queues=%s hdr=%d size=%d msg=%q",
			c.Op, c.Origin, c.Account, c.Subject, c.Reply, bytes.Join(c.Queues, []byte(",")), c.HdrLen, c.Size, c.Msg)
	case RouteOpInfo, RouteOpConnect, RouteOpErr:
		return fmt.Sprintf("%s %s", c.Op, c.Arg)
	default:
		return c.Op.String()
	}
}

// parseRouteAll parses every complete operation in input.
func parseRouteAll(p *RouteParser, input []byte) (ops []string, rest int, err error) {
	var c RouteCmd
	for len(input) > 0 {
		n, err := p.Parse(input, &c)
		if err != nil {
			return ops, len(input), err
		}
		if n == 0 {
			break
		}
		ops = append(ops, renderRoute(&c))
		input = input[n:]
	}
	return ops, len(input), nil
}

// pinnedA is a parser for a route pinned to account A whose LS- carries
// the origin, as between two nats-server 2.11 servers.
func pinnedA() *RouteParser {
	p := NewRouteParser()
	p.Account, p.LeafUnsubOrigin = []byte("A"), true
	return p
}

func withOrigin() *RouteParser {
	p := NewRouteParser()
	p.LeafUnsubOrigin = true
	return p
}

func TestRouteParseOps(t *testing.T) {
	tests := []struct {
		p    *RouteParser
		in   string
		want string // rendered operations joined by "|"
	}{
		{nil, "PING\r\n", "PING"},
		{nil, "ping\r\n", "PING"},
		{nil, "PONG\r\n", "PONG"},
		{nil, "PING anything\n", "PING"},
		{nil, "+OK\r\n", "+OK"},
		{nil, "-ERR 'Unknown Protocol Operation'\r\n", "-ERR 'Unknown Protocol Operation'"},
		{nil, "INFO {\"server_id\":\"x\"}\r\n", `INFO {"server_id":"x"}`},
		{nil, "INFO {} \r\n", "INFO {} "},
		{nil, "info{}\r\n", "INFO {}"},
		{nil, "CONNECT{}\r\n", "CONNECT {}"},
		{nil, "CONNECT {\"name\":\"x\"}\r\n", `CONNECT {"name":"x"}`},
		// Interest, as nats-server writes it.
		{nil, "RS+ $G foo.>\r\n", "RS+ origin= acc=$G subj=foo.> queue= weight=0"},
		{nil, "RS+ $G bar q2 2\r\n", "RS+ origin= acc=$G subj=bar queue=q2 weight=2"},
		{nil, "rs+\t$G \t bar\tq1 1 \r\n", "RS+ origin= acc=$G subj=bar queue=q1 weight=1"},
		{nil, "RS- $G foo.>\r\n", "RS- origin= acc=$G subj=foo.> queue= weight=0"},
		{nil, "RS- $G bar q2\r\n", "RS- origin= acc=$G subj=bar queue=q2 weight=0"},
		{nil, "LS+ leafc $G lf.>\r\n", "LS+ origin=leafc acc=$G subj=lf.> queue= weight=0"},
		{nil, "LS+ leafc $G lq.> lq 1\r\n", "LS+ origin=leafc acc=$G subj=lq.> queue=lq weight=1"},
		{nil, "LS-  $G lq.> lq\r\n", "LS- origin= acc=$G subj=lq.> queue=lq weight=0"},
		{withOrigin(), "LS- leafc $G lf.>\r\n", "LS- origin=leafc acc=$G subj=lf.> queue= weight=0"},
		{withOrigin(), "LS- leafc $G lq.> lq\r\n", "LS- origin=leafc acc=$G subj=lq.> queue=lq weight=0"},
		// The same on a route pinned to account A.
		{pinnedA(), "RS+ foo.>\r\n", "RS+ origin= acc=A subj=foo.> queue= weight=0"},
		{pinnedA(), "RS+ bar q2 2\r\n", "RS+ origin= acc=A subj=bar queue=q2 weight=2"},
		{pinnedA(), "RS- bar q2\r\n", "RS- origin= acc=A subj=bar queue=q2 weight=0"},
		{pinnedA(), "LS+ leafc lq.> lq 1\r\n", "LS+ origin=leafc acc=A subj=lq.> queue=lq weight=1"},
		{pinnedA(), "LS- leafc lq.> lq\r\n", "LS- origin=leafc acc=A subj=lq.> queue=lq weight=0"},
		// Messages.
		{nil, "RMSG $G foo.x 2\r\nhi\r\n", `RMSG origin= acc=$G subj=foo.x reply= queues= hdr=0 size=2 msg="hi\r\n"`},
		{nil, "RMSG $G foo.r _INBOX.a 1\r\nx\r\n", `RMSG origin= acc=$G subj=foo.r reply=_INBOX.a queues= hdr=0 size=1 msg="x\r\n"`},
		{nil, "RMSG $G bar | q1 q2 2\r\nhi\r\n", `RMSG origin= acc=$G subj=bar reply= queues=q1,q2 hdr=0 size=2 msg="hi\r\n"`},
		{nil, "RMSG $G bar | q1 2\r\nhi\r\n", `RMSG origin= acc=$G subj=bar reply= queues=q1 hdr=0 size=2 msg="hi\r\n"`},
		{nil, "RMSG $G svc + _INBOX.a NATS-RPLY-22 1\r\nx\r\n", `RMSG origin= acc=$G subj=svc reply=_INBOX.a queues=NATS-RPLY-22 hdr=0 size=1 msg="x\r\n"`},
		{nil, "RMSG $G svc + _INBOX.a 1\r\nx\r\n", `RMSG origin= acc=$G subj=svc reply=_INBOX.a queues= hdr=0 size=1 msg="x\r\n"`},
		{nil, "RMSG $G svc + 1\r\nx\r\n", `RMSG origin= acc=$G subj=svc reply=+ queues= hdr=0 size=1 msg="x\r\n"`},
		{nil, "RMSG $G svc | 1\r\nx\r\n", `RMSG origin= acc=$G subj=svc reply=| queues= hdr=0 size=1 msg="x\r\n"`},
		{nil, "rmsg\t$G  foo \t0\r\n\r\n", `RMSG origin= acc=$G subj=foo reply= queues= hdr=0 size=0 msg="\r\n"`},
		{nil, "RMSG $G foo 4\r\na\r\nb\r\n", `RMSG origin= acc=$G subj=foo reply= queues= hdr=0 size=4 msg="a\r\nb\r\n"`},
		{nil, "HMSG $G foo.h 18 20\r\nNATS/1.0\r\na: b\r\n\r\nhi\r\n", `HMSG origin= acc=$G subj=foo.h reply= queues= hdr=18 size=20 msg="NATS/1.0\r\na: b\r\n\r\nhi\r\n"`},
		{nil, "HMSG B bq | g 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", `HMSG origin= acc=B subj=bq reply= queues=g hdr=12 size=14 msg="NATS/1.0\r\n\r\nhi\r\n"`},
		{nil, "HMSG B bq r 12 12\r\nNATS/1.0\r\n\r\n\r\n", `HMSG origin= acc=B subj=bq reply=r queues= hdr=12 size=12 msg="NATS/1.0\r\n\r\n\r\n"`},
		{nil, "HMSG B bq + r g h 12 12\r\nNATS/1.0\r\n\r\n\r\n", `HMSG origin= acc=B subj=bq reply=r queues=g,h hdr=12 size=12 msg="NATS/1.0\r\n\r\n\r\n"`},
		{nil, "LMSG leafc $G foo.fromleaf 0 2\r\nhi\r\n", `LMSG origin=leafc acc=$G subj=foo.fromleaf reply= queues= hdr=0 size=2 msg="hi\r\n"`},
		{nil, "LMSG leafc $G bar + _INBOX.b q1 q2 0 1\r\nx\r\n", `LMSG origin=leafc acc=$G subj=bar reply=_INBOX.b queues=q1,q2 hdr=0 size=1 msg="x\r\n"`},
		{nil, "LMSG leafc $G bar | q1 0 1\r\nx\r\n", `LMSG origin=leafc acc=$G subj=bar reply= queues=q1 hdr=0 size=1 msg="x\r\n"`},
		{nil, "LMSG leafc $G bar r 0 1\r\nx\r\n", `LMSG origin=leafc acc=$G subj=bar reply=r queues= hdr=0 size=1 msg="x\r\n"`},
		{pinnedA(), "RMSG foo.x 2\r\nhi\r\n", `RMSG origin= acc=A subj=foo.x reply= queues= hdr=0 size=2 msg="hi\r\n"`},
		{pinnedA(), "RMSG foo.r _INBOX.a 1\r\nx\r\n", `RMSG origin= acc=A subj=foo.r reply=_INBOX.a queues= hdr=0 size=1 msg="x\r\n"`},
		{pinnedA(), "RMSG bar | q2 q1 2\r\nhi\r\n", `RMSG origin= acc=A subj=bar reply= queues=q2,q1 hdr=0 size=2 msg="hi\r\n"`},
		{pinnedA(), "RMSG bar + _INBOX.a q2 q1 1\r\nx\r\n", `RMSG origin= acc=A subj=bar reply=_INBOX.a queues=q2,q1 hdr=0 size=1 msg="x\r\n"`},
		{pinnedA(), "HMSG foo.h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", `HMSG origin= acc=A subj=foo.h reply= queues= hdr=12 size=14 msg="NATS/1.0\r\n\r\nhi\r\n"`},
		{pinnedA(), "LMSG leafc foo.fromleaf 0 2\r\nhi\r\n", `LMSG origin=leafc acc=A subj=foo.fromleaf reply= queues= hdr=0 size=2 msg="hi\r\n"`},
		{pinnedA(), "LMSG leafc bar + _INBOX.q q2 q1 0 1\r\nx\r\n", `LMSG origin=leafc acc=A subj=bar reply=_INBOX.q queues=q2,q1 hdr=0 size=1 msg="x\r\n"`},
		// nats-server splits route arguments on CR too.
		{nil, "RS+ $G\rfoo\r\n", "RS+ origin= acc=$G subj=foo queue= weight=0"},
		{nil, "PING\r\nRS+ $G a\r\nRMSG $G a 1\r\nx\r\nPONG\r\n", "PING|RS+ origin= acc=$G subj=a queue= weight=0|" +
			`RMSG origin= acc=$G subj=a reply= queues= hdr=0 size=1 msg="x\r\n"|PONG`},
	}
	for _, tt := range tests {
		p := tt.p
		if p == nil {
			p = NewRouteParser()
		}
		ops, rest, err := parseRouteAll(p, []byte(tt.in))
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if rest != 0 {
			t.Errorf("%q: %d bytes left", tt.in, rest)
		}
		if got := strings.Join(ops, "|"); got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRouteParseErrors(t *testing.T) {
	long := strings.Repeat("a", DefaultRouteMaxControlLine+1)
	tests := []struct {
		p    *RouteParser
		in   string
		text string // the -ERR text; "" for a silent close
	}{
		// Client and gateway operations are not route operations.
		{nil, "PUB foo 1\r\nx\r\n", ErrTextUnknownOp},
		{nil, "HPUB foo 12 12\r\n", ErrTextUnknownOp},
		{nil, "SUB foo 1\r\n", ErrTextUnknownOp},
		{nil, "UNSUB 1\r\n", ErrTextUnknownOp},
		{nil, "MSG foo 1 1\r\n", ErrTextUnknownOp},
		{nil, "A+ $G\r\n", ErrTextUnknownOp},
		{nil, "XYZ\r\n", ErrTextUnknownOp},
		{nil, "\r\n", ErrTextUnknownOp},
		{nil, "RS+\r\n", ErrTextUnknownOp},
		{nil, "RS+foo\r\n", ErrTextUnknownOp},
		{nil, "RMSG\r\n", ErrTextUnknownOp},
		{nil, "RS*\r\n", ErrTextUnknownOp},
		{nil, "-ERR\r\n", ErrTextUnknownOp},
		{nil, "RMSG $G foo 2\r\nabc\r\n", ErrTextUnknownOp},
		{nil, "RMSG $G foo 2\r\nabXY", ErrTextUnknownOp},
		{nil, "RMSG $G foo 99999999\r\n", ErrTextMaxPayload},
		{nil, "RS+ $G " + long + "\r\n", ErrTextMaxControlLine},
		{nil, "RS+ $G " + long, ErrTextMaxControlLine},
		// Malformed arguments close the route silently, as in nats-server.
		{nil, "RS+ \r\n", ""},
		{nil, "RS+ $G\r\n", ""},
		{nil, "RS+ $G foo q\r\n", ""},
		{nil, "RS+ $G foo q x\r\n", ""},
		{nil, "RS+ $G foo q -1\r\n", ""},
		{nil, "RS+ $G foo q 1 2\r\n", ""},
		{nil, "RS- $G foo q 1\r\n", ""},
		{nil, "RS- $G\r\n", ""},
		{nil, "LS+ leafc $G\r\n", ""},
		{nil, "LS+ leafc\r\n", ""},
		{withOrigin(), "LS- leafc $G\r\n", ""},
		{pinnedA(), "RS+ foo q\r\n", ""},
		{pinnedA(), "RS- foo q 1\r\n", ""},
		{nil, "RMSG $G foo\r\n", ""},
		{nil, "RMSG $G 5\r\n", ""},
		{nil, "RMSG $G foo x\r\n", ""},
		{nil, "RMSG $G foo -1\r\n", ""},
		{nil, "RMSG $G foo 1234567890\r\n", ""},
		{nil, "RMSG $G foo ++ r q 1\r\n", ""},
		{nil, "RMSG $G foo x r 1\r\n", ""},
		{nil, "HMSG $G foo 5\r\n", ""},
		{nil, "HMSG $G foo 5 2\r\n", ""},
		{nil, "HMSG $G foo x 2\r\n", ""},
		{nil, "HMSG $G foo * r q 0 2\r\n", ""},
		{nil, "LMSG leafc $G foo 2\r\n", ""},
		{nil, "LMSG leafc foo 0 2\r\n", ""},
		{pinnedA(), "RMSG 5\r\n", ""},
		{pinnedA(), "LMSG leafc 0 2\r\n", ""},
	}
	for _, tt := range tests {
		p := tt.p
		if p == nil {
			p = NewRouteParser()
		}
		_, _, err := parseRouteAll(p, []byte(tt.in))
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%q: err = %v, want *Error", tt.in, err)
			continue
		}
		if pe.Text != tt.text {
			t.Errorf("%q: text %q, want %q (%v)", tt.in, pe.Text, tt.text, pe)
		}
	}
}

func TestRouteParseIncomplete(t *testing.T) {
	p := NewRouteParser()
	var c RouteCmd
	for _, in := range []string{"", "R", "RS", "RS+", "RM", "RMSG", "RMSG $G foo 5\r", "L", "LS-", "H", "HMS", "P", "CONNEC", "INF", "-ER", "-ERR", "+O"} {
		n, err := p.Parse([]byte(in), &c)
		if n != 0 || err != nil {
			t.Errorf("%q: n=%d err=%v, want incomplete", in, n, err)
		}
	}
	n, err := p.Parse([]byte("RMSG $G foo 5\r\nhel"), &c)
	if n != 0 || err != nil || p.Want != 22 {
		t.Errorf("partial payload: n=%d err=%v want=%d, expected Want=22", n, err, p.Want)
	}
}

func TestRouteParseLimits(t *testing.T) {
	p := &RouteParser{MaxControlLine: 16, MaxPayload: 8}
	var c RouteCmd
	if _, err := p.Parse([]byte("RMSG $G foo 8\r\n12345678\r\n"), &c); err != nil {
		t.Errorf("payload at the limit: %v", err)
	}
	if _, err := p.Parse([]byte("RMSG $G foo 9\r\n"), &c); err == nil {
		t.Error("payload over the limit accepted")
	}
	if _, err := p.Parse([]byte("RS+ $G 0123456789abcd\r\n"), &c); err == nil {
		t.Error("control line over the limit accepted")
	}
	if _, err := p.Parse([]byte("RS+ $G 0123456789abc\r\n"), &c); err != nil {
		t.Errorf("control line at the limit: %v", err)
	}
}

// TestRouteParseQueues checks queue lists beyond the inline array, their
// reuse, and the bound.
func TestRouteParseQueues(t *testing.T) {
	p := NewRouteParser()
	var c RouteCmd
	line := func(n int) []byte {
		var b []byte
		b = append(b, "RMSG $G foo |"...)
		for i := range n {
			b = fmt.Appendf(b, " q%d", i)
		}
		return append(b, " 1\r\nx\r\n"...)
	}
	for _, n := range []int{1, inlineQueues, inlineQueues + 1, 100, 3, MaxRouteQueues} {
		in := line(n)
		if k, err := p.Parse(in, &c); err != nil || k != len(in) {
			t.Fatalf("%d queues: n=%d err=%v", n, k, err)
		}
		if len(c.Queues) != n || string(c.Queues[n-1]) != fmt.Sprintf("q%d", n-1) {
			t.Fatalf("%d queues: got %d, last %q", n, len(c.Queues), c.Queues[len(c.Queues)-1])
		}
	}
	if _, err := p.Parse(line(MaxRouteQueues+1), &c); err == nil {
		t.Errorf("%d queues accepted", MaxRouteQueues+1)
	}
	// Once the spill slice has grown, long lists parse without allocating.
	in := line(100)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Parse(in, &c); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("100 queues: %.1f allocations per parse", allocs)
	}
}

// routeTranscript holds every operation form, for the split tests.
const routeTranscript = "CONNECT {\"name\":\"x\"}\r\nINFO {\"server_id\":\"x\"} \r\nPING\r\nPONG\r\n+OK\r\n" +
	"RS+ $G foo.>\r\nRS+ $G bar q1 3\r\nRS- $G bar q1\r\nRS- $G foo.>\r\n" +
	"LS+ leafc $G lf.>\r\nLS+ leafc $G lq q 1\r\nLS-  $G lq q\r\n" +
	"RMSG $G foo.x 2\r\nhi\r\nRMSG $G foo reply 0\r\n\r\nRMSG $G bar | q1 q2 2\r\nhi\r\n" +
	"RMSG $G bar + _INBOX.a q1 1\r\nx\r\nHMSG $G foo.h 18 20\r\nNATS/1.0\r\na: b\r\n\r\nhi\r\n" +
	"HMSG B bq | g 12 14\r\nNATS/1.0\r\n\r\nhi\r\nLMSG leafc $G foo 0 2\r\nhi\r\n" +
	"LMSG leafc $G bar + _INBOX.b q1 q2 12 13\r\nNATS/1.0\r\n\r\nx\r\n-ERR 'bye'\r\n"

const routeTranscriptPinned = "RS+ foo.>\r\nRS+ bar q1 3\r\nRS- bar q1\r\nLS+ leafc lq q 1\r\nLS- leafc lq q\r\n" +
	"RMSG foo.x 2\r\nhi\r\nRMSG bar + _INBOX.a q2 q1 1\r\nx\r\nHMSG foo.h 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
	"LMSG leafc bar | q 0 1\r\nx\r\nPING\r\n"

// TestRouteParseSplitEverywhere feeds transcripts cut at every offset, the
// way a connection sees them when reads end at arbitrary points, and checks
// that the same operations come out.
func TestRouteParseSplitEverywhere(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    func() *RouteParser
		in   string
	}{
		{"shared", NewRouteParser, routeTranscript},
		{"pinned", pinnedA, routeTranscriptPinned},
	} {
		want, rest, err := parseRouteAll(tc.p(), []byte(tc.in))
		if err != nil || rest != 0 {
			t.Fatalf("%s whole: %v rest=%d", tc.name, err, rest)
		}
		for cut := 0; cut <= len(tc.in); cut++ {
			got, err := parseRouteSplit(tc.p(), []byte(tc.in), cut)
			if err != nil {
				t.Fatalf("%s cut %d: %v", tc.name, cut, err)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("%s cut %d:\n got %q\nwant %q", tc.name, cut, got, want)
			}
		}
	}
}

// parseRouteSplit parses in[:cut], then carries the unparsed tail over
// into the rest, as the connection's read loop does.
func parseRouteSplit(p *RouteParser, in []byte, cut int) ([]string, error) {
	first, rest, err := parseRouteAll(p, in[:cut])
	if err != nil {
		return first, err
	}
	tail := append(append([]byte(nil), in[cut-rest:cut]...), in[cut:]...)
	more, rest, err := parseRouteAll(p, tail)
	if err == nil && rest != 0 {
		err = fmt.Errorf("%d bytes left", rest)
	}
	return append(first, more...), err
}

// captures are the recordings of nats-server route traffic in testdata,
// with the parser settings of the receiving side.
var captures = []struct {
	file string
	p    func() *RouteParser
}{
	{"nats-server-2.9.10-accepting.bin", NewRouteParser},
	{"nats-server-2.9.10-dialling.bin", NewRouteParser},
	{"nats-server-2.11.8-pinned-accepting.bin", pinnedA},
	{"nats-server-2.11.8-pinned-dialling.bin", pinnedA},
	{"nats-server-2.11.8-pooled-accepting.bin", withOrigin},
	{"nats-server-2.11.8-pooled-dialling.bin", withOrigin},
}

func readCapture(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "route", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRouteCaptures parses what real nats-server peers sent and checks that
// re-encoding every operation gives the recorded bytes back.
func TestRouteCaptures(t *testing.T) {
	covered := map[RouteOp]int{}
	for _, tc := range captures {
		t.Run(tc.file, func(t *testing.T) {
			in := readCapture(t, tc.file)
			p := tc.p()
			seen := map[RouteOp]int{}
			var c RouteCmd
			for b := in; len(b) > 0; {
				n, err := p.Parse(b, &c)
				if err != nil || n == 0 {
					t.Fatalf("at byte %d: n=%d err=%v", len(in)-len(b), n, err)
				}
				seen[c.Op]++
				got := encodeRouteCmd(nil, &c, p)
				if !bytes.Equal(got, b[:n]) && !sameLeafUnsub(&c, got, b[:n]) {
					t.Errorf("re-encoded\n got %q\nwant %q", got, b[:n])
				}
				b = b[n:]
			}
			if seen[RouteOpInfo] == 0 {
				t.Errorf("capture without INFO: %v", seen)
			}
			for op, n := range seen {
				covered[op] += n
			}
		})
	}
	for op := RouteOpInfo; op <= RouteOpLeafMsg; op++ {
		if covered[op] == 0 && op != RouteOpOK && op != RouteOpErr {
			t.Errorf("no capture holds %s", op)
		}
	}
}

// sameLeafUnsub accepts nats-server 2.9's LS- to a peer without lnocu,
// which has a second space where the origin would be ("LS-  $G foo").
func sameLeafUnsub(c *RouteCmd, got, want []byte) bool {
	return c.Op == RouteOpLeafUnsub && bytes.Equal(want, bytes.Replace(got, []byte("LS- "), []byte("LS-  "), 1))
}

// encodeRouteCmd writes c back in the form the parser p reads: the inverse
// of Parse, built from the package's encoders.
func encodeRouteCmd(b []byte, c *RouteCmd, p *RouteParser) []byte {
	account := c.Account
	if len(p.Account) > 0 {
		account = nil
	}
	switch c.Op {
	case RouteOpInfo, RouteOpConnect, RouteOpErr:
		b = append(b, c.Op.String()...)
		b = append(b, ' ')
		b = append(b, c.Arg...)
		return append(b, '\r', '\n')
	case RouteOpPing:
		return append(b, PingLine...)
	case RouteOpPong:
		return append(b, PongLine...)
	case RouteOpOK:
		return append(b, OKLine...)
	case RouteOpSub:
		return AppendRouteSub(b, account, c.Subject, c.Queue, c.Weight)
	case RouteOpUnsub:
		return AppendRouteUnsub(b, account, c.Subject, c.Queue)
	case RouteOpLeafSub:
		return AppendLeafSub(b, c.Origin, account, c.Subject, c.Queue, c.Weight)
	case RouteOpLeafUnsub:
		return AppendLeafUnsub(b, c.Origin, account, c.Subject, c.Queue)
	case RouteOpMsg, RouteOpHMsg:
		b = AppendRouteMsgHeader(b, account, c.Subject, c.Reply, c.Queues, c.HdrArg, c.SizeArg)
	case RouteOpLeafMsg:
		b = AppendLeafMsgHeader(b, c.Origin, account, c.Subject, c.Reply, c.Queues, c.HdrArg, c.SizeArg)
	}
	return append(b, c.Msg...)
}

func TestRouteParseNoAllocs(t *testing.T) {
	p := NewRouteParser()
	in := []byte("RMSG $G foo.bar _INBOX.x 11\r\nhello world\r\nRMSG $G bar + _INBOX.a q1 q2 1\r\nx\r\n" +
		"HMSG $G a 12 14\r\nNATS/1.0\r\n\r\nhi\r\nLMSG leafc $G a | q 0 1\r\nx\r\nRS+ $G foo q 1\r\nRS- $G foo q\r\nPING\r\n")
	var c RouteCmd
	allocs := testing.AllocsPerRun(1000, func() {
		b := in
		for len(b) > 0 {
			n, err := p.Parse(b, &c)
			if err != nil || n == 0 {
				t.Fatalf("n=%d err=%v", n, err)
			}
			b = b[n:]
		}
	})
	if allocs != 0 {
		t.Errorf("parse allocates %.1f times per run", allocs)
	}
}

func BenchmarkRouteParseRMsg(b *testing.B) {
	p := NewRouteParser()
	one := "RMSG $G foo.bar 16\r\n0123456789abcdef\r\n"
	in := []byte(strings.Repeat(one, 100))
	var c RouteCmd
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		buf := in
		for len(buf) > 0 {
			n, _ := p.Parse(buf, &c)
			buf = buf[n:]
		}
	}
}

// Fuzz flags: how the parser is set up.
const (
	fuzzPinned          = 1 << iota // the route is pinned to account ACC
	fuzzLeafUnsubOrigin             // LS- carries the origin
)

func FuzzRouteParse(f *testing.F) {
	for _, s := range strings.SplitAfter(routeTranscript, "\r\n") {
		f.Add([]byte(s), uint(len(s)/2), uint8(0))
	}
	for _, s := range strings.SplitAfter(routeTranscriptPinned, "\r\n") {
		f.Add([]byte(s), uint(len(s)/2), uint8(fuzzPinned|fuzzLeafUnsubOrigin))
	}
	f.Add([]byte(routeTranscript), uint(100), uint8(0))
	f.Add([]byte(routeTranscriptPinned), uint(50), uint8(fuzzPinned|fuzzLeafUnsubOrigin))
	// Every operation nats-server sent, one by one: whole recordings would
	// be large inputs, which the fuzzer spends its time minimizing.
	for _, tc := range captures {
		var flags uint8
		p := tc.p()
		if len(p.Account) > 0 {
			flags |= fuzzPinned
		}
		if p.LeafUnsubOrigin {
			flags |= fuzzLeafUnsubOrigin
		}
		var c RouteCmd
		for b := readCapture(f, tc.file); len(b) > 0; {
			n, err := p.Parse(b, &c)
			if err != nil || n == 0 {
				f.Fatalf("%s: n=%d err=%v", tc.file, n, err)
			}
			if len(c.Msg) <= 256 {
				f.Add(b[:n], uint(n/2), flags)
			}
			b = b[n:]
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint, flags uint8) {
		newParser := func() *RouteParser {
			p := &RouteParser{MaxControlLine: 1024, MaxPayload: 4096, LeafUnsubOrigin: flags&fuzzLeafUnsubOrigin != 0}
			if flags&fuzzPinned != 0 {
				p.Account = []byte("ACC")
			}
			return p
		}
		p := newParser()
		whole, restWhole, errWhole := parseRouteAll(p, in)

		// Parsing in two pieces must give the same operations and verdict;
		// a split can reveal an error earlier (a bad prefix), never hide one.
		k := int(cut % uint(len(in)+1))
		first, rest, err := parseRouteAll(p, in[:k])
		if err == nil {
			tail := append(append([]byte(nil), in[k-rest:k]...), in[k:]...)
			var more []string
			more, rest, err = parseRouteAll(p, tail)
			first = append(first, more...)
		}
		if err == nil && errWhole != nil {
			t.Fatalf("whole input failed (%v) but split at %d parsed", errWhole, k)
		}
		if err == nil && (strings.Join(first, "|") != strings.Join(whole, "|") || rest != restWhole) {
			t.Fatalf("split at %d: %q / %d, whole %q / %d", k, first, rest, whole, restWhole)
		}

		// Whatever parses re-encodes into input that parses the same.
		var c, c2 RouteCmd
		for b := in; len(b) > 0; {
			n, err := p.Parse(b, &c)
			if err != nil || n == 0 {
				break
			}
			enc := encodeRouteCmd(nil, &c, p)
			m, err := newParser().Parse(enc, &c2)
			if err != nil || m != len(enc) {
				t.Fatalf("re-encoded %q of %q: n=%d/%d err=%v", enc, b[:n], m, len(enc), err)
			}
			if renderRoute(&c) != renderRoute(&c2) {
				t.Fatalf("round trip of %q:\n got %s\nwant %s", b[:n], renderRoute(&c2), renderRoute(&c))
			}
			b = b[n:]
		}
	})
}
