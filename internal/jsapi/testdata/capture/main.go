// jscap talks the raw NATS client protocol to a nats-server and records
// JetStream API requests and their exact replies (headers and body bytes).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

type Capture struct {
	Name       string            `json:"name"`
	Subject    string            `json:"subject"`
	ReqHeaders map[string]string `json:"request_headers,omitempty"`
	Request    string            `json:"request"`
	Replies    []Reply           `json:"replies"`
}

type Reply struct {
	Header string `json:"header,omitempty"` // raw header block (NATS/1.0 ... CRLF CRLF)
	Body   string `json:"body"`
}

type conn struct {
	c   net.Conn
	r   *bufio.Reader
	sid int
}

func dial(addr string) *conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		panic(err)
	}
	cn := &conn{c: c, r: bufio.NewReader(c)}
	line := cn.line() // INFO
	if !strings.HasPrefix(line, "INFO") {
		panic(line)
	}
	fmt.Fprintf(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true,\"protocol\":1}\r\nPING\r\n")
	for {
		l := cn.line()
		if l == "PONG" {
			break
		}
	}
	return cn
}

func (cn *conn) line() string {
	cn.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := cn.r.ReadString('\n')
	if err != nil {
		panic(err)
	}
	return strings.TrimRight(s, "\r\n")
}

// request sends one message with a unique reply inbox and collects replies
// until `want` arrive or wait passes.
func (cn *conn) request(subj string, hdrs map[string]string, body string, want int, wait time.Duration) []Reply {
	cn.sid++
	inbox := fmt.Sprintf("_INBOX.cap.%d", cn.sid)
	fmt.Fprintf(cn.c, "SUB %s %d\r\n", inbox, cn.sid)
	if len(hdrs) > 0 {
		var hb strings.Builder
		hb.WriteString("NATS/1.0\r\n")
		for k, v := range hdrs {
			hb.WriteString(k + ": " + v + "\r\n")
		}
		hb.WriteString("\r\n")
		h := hb.String()
		fmt.Fprintf(cn.c, "HPUB %s %s %d %d\r\n%s%s\r\n", subj, inbox, len(h), len(h)+len(body), h, body)
	} else {
		fmt.Fprintf(cn.c, "PUB %s %s %d\r\n%s\r\n", subj, inbox, len(body), body)
	}
	var out []Reply
	deadline := time.Now().Add(wait)
	for len(out) < want && time.Now().Before(deadline) {
		cn.c.SetReadDeadline(deadline)
		s, err := cn.r.ReadString('\n')
		if err != nil {
			break
		}
		s = strings.TrimRight(s, "\r\n")
		f := strings.Fields(s)
		switch {
		case s == "PING":
			fmt.Fprintf(cn.c, "PONG\r\n")
		case f[0] == "MSG":
			n, _ := strconv.Atoi(f[len(f)-1])
			buf := make([]byte, n+2)
			readFull(cn.r, buf)
			if f[2] == strconv.Itoa(cn.sid) { // late replies to earlier requests are dropped
				out = append(out, Reply{Body: string(buf[:n])})
			}
		case f[0] == "HMSG":
			hl, _ := strconv.Atoi(f[len(f)-2])
			tl, _ := strconv.Atoi(f[len(f)-1])
			buf := make([]byte, tl+2)
			readFull(cn.r, buf)
			if f[2] == strconv.Itoa(cn.sid) {
				out = append(out, Reply{Header: string(buf[:hl]), Body: string(buf[hl:tl])})
			}
		case f[0] == "-ERR":
			panic(s)
		}
	}
	fmt.Fprintf(cn.c, "UNSUB %d\r\n", cn.sid)
	return out
}

func readFull(r *bufio.Reader, b []byte) {
	for off := 0; off < len(b); {
		n, err := r.Read(b[off:])
		if err != nil {
			panic(err)
		}
		off += n
	}
}

func (cn *conn) publish(subj, body string) {
	fmt.Fprintf(cn.c, "PUB %s %d\r\n%s\r\n", subj, len(body), body)
}

var caps []Capture

func (cn *conn) cap(name, subj string, hdrs map[string]string, body string) []Reply {
	return cn.capN(name, subj, hdrs, body, 1, 2*time.Second)
}

func (cn *conn) capN(name, subj string, hdrs map[string]string, body string, want int, wait time.Duration) []Reply {
	r := cn.request(subj, hdrs, body, want, wait)
	caps = append(caps, Capture{Name: name, Subject: subj, ReqHeaders: hdrs, Request: body, Replies: r})
	return r
}

func main() {
	cn := dial(os.Args[1])
	script(cn)
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(caps); err != nil {
		panic(err)
	}
}
