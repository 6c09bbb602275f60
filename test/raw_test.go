package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/server"
)

// rawConn is a protocol transcript helper over a plain TCP connection.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	info map[string]any
}

// referenceEnv names a host:port of another NATS server (nats-server, say)
// to run the raw transcripts against instead of Starling: the transcripts
// state nats-server's behaviour, and this is how they are checked.
const referenceEnv = "STARLING_RAW_REFERENCE"

// dialRaw connects, reads the INFO line and returns the connection.
func dialRaw(t testing.TB, s *server.Server) *rawConn {
	t.Helper()
	addr := strings.TrimPrefix(s.ClientURL(), "nats://")
	if ref := os.Getenv(referenceEnv); ref != "" {
		addr = ref
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	rc := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	line := rc.readLine()
	if !strings.HasPrefix(line, "INFO {") || !strings.HasSuffix(line, "} \r\n") {
		t.Fatalf("first line is not INFO: %q", line)
	}
	js := strings.TrimSuffix(strings.TrimPrefix(line, "INFO "), " \r\n")
	if err := json.Unmarshal([]byte(js), &rc.info); err != nil {
		t.Fatalf("INFO json: %v", err)
	}
	return rc
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	rc.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := rc.conn.Write([]byte(s)); err != nil {
		rc.t.Fatalf("write %q: %v", s, err)
	}
}

func (rc *rawConn) readLine() string {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := rc.r.ReadString('\n')
	if err != nil {
		rc.t.Fatalf("read line (got %q): %v", line, err)
	}
	return line
}

// expect reads exactly len(want) bytes and compares.
func (rc *rawConn) expect(want string) {
	rc.t.Helper()
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(rc.r, got); err != nil {
		rc.t.Fatalf("expecting %q: read %q: %v", want, got, err)
	}
	if string(got) != want {
		rc.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectMatch reads one line and matches it against a regexp.
func (rc *rawConn) expectMatch(re string) string {
	rc.t.Helper()
	line := rc.readLine()
	if !regexp.MustCompile(re).MatchString(line) {
		rc.t.Fatalf("line %q does not match %s", line, re)
	}
	return line
}

// expectClosed checks that the server closes the connection, allowing the
// given bytes first.
func (rc *rawConn) expectClosed(before string) {
	rc.t.Helper()
	if before != "" {
		rc.expect(before)
	}
	rc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(rc.r)
	if err != nil && !isReset(err) {
		rc.t.Fatalf("waiting for close: %v (read %q)", err, rest)
	}
	if len(rest) > 0 {
		rc.t.Fatalf("unexpected bytes before close: %q", rest)
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// quiet sends PING and expects PONG, proving nothing else was queued.
func (rc *rawConn) quiet() {
	rc.t.Helper()
	rc.send("PING\r\n")
	rc.expect("PONG\r\n")
}

const connectQuiet = "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\n"

func TestRawInfo(t *testing.T) {
	s := startServer(t)
	rc := dialRaw(t, s)
	for _, k := range []string{"server_id", "server_name", "version", "proto", "go", "host", "port", "headers", "max_payload", "client_id", "client_ip"} {
		if _, ok := rc.info[k]; !ok {
			t.Errorf("INFO lacks %q: %v", k, rc.info)
		}
	}
	if rc.info["headers"] != true || rc.info["proto"] != float64(1) || rc.info["max_payload"] != float64(1<<20) {
		t.Errorf("INFO values: %v", rc.info)
	}
	if rc.info["client_ip"] != "127.0.0.1" {
		t.Errorf("client_ip = %v", rc.info["client_ip"])
	}
	if _, ok := rc.info["auth_required"]; ok {
		t.Errorf("auth_required present without auth")
	}
	if id, _ := rc.info["server_id"].(string); len(id) != 56 || id[0] != 'N' {
		t.Errorf("server_id %q is not an NKey server key", id)
	}
}

func TestRawTranscripts(t *testing.T) {
	tests := []struct {
		name string
		send string
		want string
	}{
		{"ping", "PING\r\n", "PONG\r\n"},
		{"ping lowercase bare newline", "ping\n", "PONG\r\n"},
		{"ping trailing junk", "PING xyz\r\n", "PONG\r\n"},
		{"verbose default before CONNECT", "SUB foo 1\r\nPUB foo 2\r\nhi\r\n", "+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\n"},
		{"connect {} keeps verbose", "CONNECT {}\r\nPING\r\n", "+OK\r\nPONG\r\n"},
		{"pub sub", connectQuiet + "SUB foo 1\r\nPUB foo 5\r\nhello\r\n", "MSG foo 1 5\r\nhello\r\n"},
		{"reply subject", connectQuiet + "SUB foo 1\r\nPUB foo bar 2\r\nhi\r\n", "MSG foo 1 bar 2\r\nhi\r\n"},
		{"size token verbatim", connectQuiet + "SUB foo 1\r\nPUB foo 007\r\n1234567\r\n", "MSG foo 1 007\r\n1234567\r\n"},
		{"empty payload", connectQuiet + "SUB foo 1\r\nPUB foo 0\r\n\r\n", "MSG foo 1 0\r\n\r\n"},
		{"tabs and spaces", connectQuiet + "SUB\tfoo\t 1\r\nPUB  foo \t 2 \r\nhi\r\n", "MSG foo 1 2\r\nhi\r\n"},
		{"payload with CRLF", connectQuiet + "SUB foo 1\r\nPUB foo 4\r\na\r\nb\r\n", "MSG foo 1 4\r\na\r\nb\r\n"},
		{"wildcard sid", connectQuiet + "SUB foo.* 9\r\nPUB foo.bar 1\r\nx\r\n", "MSG foo.bar 9 1\r\nx\r\n"},
		{"hpub", connectQuiet + "SUB foo 1\r\nHPUB foo 24 29\r\nNATS/1.0\r\nA: 1\r\nA: 2\r\n\r\nhello\r\n",
			"HMSG foo 1 24 29\r\nNATS/1.0\r\nA: 1\r\nA: 2\r\n\r\nhello\r\n"},
		{"hpub status line", connectQuiet + "SUB foo 1\r\nHPUB foo r 21 21\r\nNATS/1.0 100 Idle\r\n\r\n\r\n",
			"HMSG foo 1 r 21 21\r\nNATS/1.0 100 Idle\r\n\r\n\r\n"},
		{"hpub zero header is a MSG", connectQuiet + "SUB foo 1\r\nHPUB foo 0 2\r\nhi\r\n", "MSG foo 1 2\r\nhi\r\n"},
		{"unsub", connectQuiet + "SUB foo 1\r\nUNSUB 1\r\nPUB foo 1\r\nx\r\n", ""},
		{"auto unsub", connectQuiet + "SUB foo 1\r\nUNSUB 1 2\r\nPUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n",
			"MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n"},
		{"unsub max x is now", connectQuiet + "SUB foo 1\r\nUNSUB 1 x\r\nPUB foo 1\r\na\r\n", ""},
		{"duplicate sid ignored", connectQuiet + "SUB foo 1\r\nSUB bar 1\r\nPUB bar 1\r\na\r\nPUB foo 1\r\nb\r\n", "MSG foo 1 1\r\nb\r\n"},
		{"no responders", connectQuiet + "SUB rep 7\r\nPUB nobody rep 2\r\nhi\r\n", "HMSG rep 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"},
		{"no responders needs own sub", connectQuiet + "PUB nobody rep 2\r\nhi\r\n", ""},
		{"queue member counts as responder", connectQuiet + "SUB rep 7\r\nSUB svc q 8\r\nPUB svc rep 2\r\nhi\r\n", "MSG svc 8 rep 2\r\nhi\r\n"},
		{"echo off", "CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\n", ""},
		{"verbose", "CONNECT {\"verbose\":true,\"pedantic\":false}\r\nSUB foo 1\r\nPUB foo 1\r\nx\r\nUNSUB 1\r\nUNSUB 99\r\n",
			"+OK\r\n+OK\r\n+OK\r\nMSG foo 1 1\r\nx\r\n+OK\r\n+OK\r\n"},
		{"pedantic publish", "CONNECT {\"verbose\":false,\"pedantic\":true}\r\nSUB foo.* 1\r\nPUB foo.* 1\r\nx\r\n",
			"-ERR 'Invalid Publish Subject'\r\nMSG foo.* 1 1\r\nx\r\n"},
		{"invalid subject stays open", connectQuiet + "SUB foo..bar 1\r\nSUB foo.>.bar 2\r\n",
			"-ERR 'Invalid Subject'\r\n-ERR 'Invalid Subject'\r\n"},
		{"publish to empty token goes nowhere", connectQuiet + "SUB > 1\r\nPUB foo..bar 1\r\nx\r\n", ""},
		{"client +OK ignored", connectQuiet + "+OK\r\n", ""},
		{"client INFO ignored", connectQuiet + "INFO {}\r\n", ""},
	}
	s := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dialRaw(t, s)
			rc.send(tt.send)
			if tt.want != "" {
				rc.expect(tt.want)
			}
			rc.quiet()
		})
	}
}

func TestRawHeadersStrippedForOldClients(t *testing.T) {
	s := startServer(t)
	old := dialRaw(t, s)
	old.send("CONNECT {\"verbose\":false}\r\nSUB foo 1\r\n")
	old.quiet()
	pub := dialRaw(t, s)
	pub.send(connectQuiet + "SUB foo 7\r\nHPUB foo r 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nHPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n")
	pub.expect("HMSG foo 7 r 18 23\r\nNATS/1.0\r\nA: b\r\n\r\nhello\r\nHMSG foo 7 12 12\r\nNATS/1.0\r\n\r\n\r\n")
	old.expect("MSG foo 1 r 5\r\nhello\r\nMSG foo 1 0\r\n\r\n")
	old.quiet()
}

func TestRawErrors(t *testing.T) {
	tests := []struct {
		name string
		send string
		want string // bytes before the close; "" = closed silently
	}{
		{"unknown op", "FOO\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"missing space", "PUBfoo 1\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"empty line", "\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"bad payload end", connectQuiet + "PUB foo 3\r\nabcd\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"client MSG", "MSG foo 1 1\r\nx\r\n", "-ERR 'Unknown Protocol Operation'\r\n"},
		{"max payload", connectQuiet + "PUB foo 1048577\r\n", "-ERR 'Maximum Payload Violation'\r\n"},
		{"max control line", connectQuiet + "SUB " + strings.Repeat("a", 4097) + " 1\r\n", "-ERR 'maximum control line exceeded'\r\n"},
		{"max control line unterminated", connectQuiet + "PUB " + strings.Repeat("a", 5000), "-ERR 'maximum control line exceeded'\r\n"},
		{"bad protocol", "CONNECT {\"protocol\":2}\r\n", "-ERR 'invalid client protocol'\r\n"},
		{"no responders without headers", "CONNECT {\"no_responders\":true}\r\n", "-ERR 'no responders requires headers support'\r\n"},
		{"account in connect", "CONNECT {\"account\":\"A\"}\r\n", "-ERR 'Authorization Violation'\r\n"},
		{"bad connect json", "CONNECT {bad}\r\n", ""},
		{"pub arg count", connectQuiet + "PUB foo\r\n", ""},
		{"pub bad size", connectQuiet + "PUB foo abc\r\n", ""},
		{"pub ten digits", connectQuiet + "PUB foo 1234567890\r\n", ""},
		{"sub arg count", connectQuiet + "SUB foo\r\n", ""},
		{"unsub arg count", connectQuiet + "UNSUB 1 2 3\r\n", ""},
		{"hpub without headers", "CONNECT {\"verbose\":false}\r\nHPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", ""},
		{"hpub header larger than total", connectQuiet + "HPUB foo 12 10\r\n", ""},
		{"client -ERR", "-ERR 'x'\r\n", ""},
		{"bad info", "INFO {bad}\r\n", ""},
	}
	s := startServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dialRaw(t, s)
			rc.send(tt.send)
			rc.expectClosed(tt.want)
		})
	}
	// The server survived all of it.
	rc := dialRaw(t, s)
	rc.quiet()
}

// TestRawGarbage throws random bytes at the server and checks that it keeps
// serving: every bad input ends with an -ERR or a close, never a crash.
func TestRawGarbage(t *testing.T) {
	s := startServer(t)
	inputs := []string{
		"\x00\x01\x02\xff\r\n", "PUB foo 99999999\r\n", "SUB\r\n", "UNSUB\r\n", "CONNECT\r\n",
		"HPUB foo 5 3\r\n", "PUB foo -1\r\n", strings.Repeat("P", 10000), "PING" + strings.Repeat(" ", 8000),
		"PUB foo 5\r\nhel", "\r\n\r\n\r\n", "SUB foo 1\r\n" + strings.Repeat("PUB foo 1\r\nx\r\n", 1000) + "XX",
	}
	for _, in := range inputs {
		rc := dialRaw(t, s)
		rc.send(in)
		rc.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		io.Copy(io.Discard, rc.r) // whatever comes back, until close or timeout
		rc.conn.Close()
	}
	rc := dialRaw(t, s)
	rc.quiet()
}

func TestRawSplitWrites(t *testing.T) {
	s := startServer(t)
	rc := dialRaw(t, s)
	msg := connectQuiet + "SUB foo 1\r\nHPUB foo rep 12 17\r\nNATS/1.0\r\n\r\nhello\r\nPUB foo 3\r\nabc\r\n"
	for i := 0; i < len(msg); i++ {
		rc.send(msg[i : i+1])
	}
	rc.expect("HMSG foo 1 rep 12 17\r\nNATS/1.0\r\n\r\nhello\r\nMSG foo 1 3\r\nabc\r\n")
	rc.quiet()
}

func TestRawLargeMessage(t *testing.T) {
	s := startServer(t)
	rc := dialRaw(t, s)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<20/16)
	rc.send(connectQuiet + "SUB big 1\r\nPUB big 1048576\r\n" + string(payload) + "\r\n")
	rc.expect("MSG big 1 1048576\r\n" + string(payload) + "\r\n")
	rc.quiet()
}
