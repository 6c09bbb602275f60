package msgtrace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
)

func TestStart(t *testing.T) {
	in := Ingress{Kind: KindClient, CID: 7, Name: "pub", Account: "$G", Subject: "orders.new"}
	tests := []struct {
		name     string
		hdr      string
		traced   bool
		only     bool
		dest     string
		enc      Encoding
		wantsErr bool
	}{
		{"deliver", "NATS/1.0\r\nNats-Trace-Dest: t.1\r\n\r\n", true, false, "t.1", EncodingNone, false},
		{"only", "NATS/1.0\r\nNats-Trace-Dest: t.1\r\nNats-Trace-Only: true\r\n\r\n", true, true, "t.1", EncodingNone, false},
		{"only yes means deliver", "NATS/1.0\r\nNats-Trace-Dest: t.1\r\nNats-Trace-Only: yes\r\n\r\n", true, false, "t.1", EncodingNone, false},
		{"snappy", "NATS/1.0\r\nNats-Trace-Dest: t.1\r\nAccept-Encoding: snappy\r\n\r\n", true, false, "t.1", EncodingSnappy, false},
		{"wildcard dest is refused", "NATS/1.0\r\nNats-Trace-Dest: t.*\r\n\r\n", false, false, "", EncodingNone, true},
		{"wildcard dest with only: traced, not delivered", "NATS/1.0\r\nNats-Trace-Dest: t.*\r\nNats-Trace-Only: 1\r\n\r\n", true, true, "t.*", EncodingNone, true},
		// nats-server finds the key in any case but reads its value by
		// exact name: a lower-case key leaves no destination.
		{"lower-case key", "NATS/1.0\r\nnats-trace-dest: t.1\r\n\r\n", false, false, "", EncodingNone, true},
		{"lower-case key with only", "NATS/1.0\r\nnats-trace-dest: t.1\r\nNats-Trace-Only: on\r\n\r\n", true, true, "", EncodingNone, true},
		{"traceparent alone needs an account destination", "NATS/1.0\r\ntraceparent: 00-a-b-01\r\n\r\n", false, false, "", EncodingNone, false},
		{"no trace header", "NATS/1.0\r\nA: b\r\n\r\n", false, false, "", EncodingNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []byte(tt.hdr)
			tr, err := Start(hdr, Scan(hdr), 100, in)
			if (err != nil) != tt.wantsErr {
				t.Fatalf("err = %v", err)
			}
			if (tr != nil) != tt.traced {
				t.Fatalf("traced = %v", tr != nil)
			}
			if tr == nil {
				return
			}
			if tr.Only != tt.only || tr.Dest != tt.dest || tr.Encoding != tt.enc {
				t.Fatalf("got only=%v dest=%q enc=%v", tr.Only, tr.Dest, tr.Encoding)
			}
			got := tr.Event.Ingress()
			if got == nil || got.Type != TypeIngress || got.Timestamp.IsZero() || got.CID != 7 || got.Subject != "orders.new" || got.Account != "$G" {
				t.Fatalf("ingress %+v", got)
			}
			if tr.Event.Request.MsgSize != 100 || len(tr.Event.Request.Header) == 0 {
				t.Fatalf("request %+v", tr.Event.Request)
			}
		})
	}
}

func TestStartRefused(t *testing.T) {
	in := Ingress{Kind: KindClient, CID: 3, Name: "big"}
	tr := StartRefused([]byte("NATS/1.0\r\nNats-Trace-Dest: t.big\r\nAccept-Encoding: gzip\r\n\r\nxxxx"), 5000, in, ErrMaxPayload)
	if tr == nil || tr.Dest != "t.big" || tr.Encoding != EncodingGzip || tr.Event.Request.MsgSize != 5000 || tr.Event.Request.Header != nil {
		t.Fatalf("trace %+v", tr)
	}
	if ing := tr.Event.Ingress(); ing.Error != ErrMaxPayload || ing.Account != "" || ing.Subject != "" {
		t.Fatalf("ingress %+v", ing)
	}
	if StartRefused([]byte("NATS/1.0\r\nA: b\r\n"), 5000, in, ErrMaxPayload) != nil {
		t.Fatal("traced without a destination")
	}
}

// TestEncode: the event body is JSON, compressed as Accept-Encoding
// asked, with the Content-Encoding header nats-server sets.
func TestEncode(t *testing.T) {
	for _, tt := range []struct {
		enc    Encoding
		header string
		decode func([]byte) ([]byte, error)
	}{
		{EncodingNone, "", func(b []byte) ([]byte, error) { return b, nil }},
		{EncodingUnsupported, "identity", func(b []byte) ([]byte, error) { return b, nil }},
		{EncodingGzip, "gzip", func(b []byte) ([]byte, error) {
			r, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		}},
		{EncodingSnappy, "snappy", func(b []byte) ([]byte, error) { return io.ReadAll(s2.NewReader(bytes.NewReader(b))) }},
	} {
		hdr := []byte("NATS/1.0\r\nNats-Trace-Dest: t.1\r\n\r\n")
		tr, err := Start(hdr, Scan(hdr), len(hdr), Ingress{Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		tr.Encoding = tt.enc
		tr.AddEgress(Egress{Kind: KindClient, CID: 9, Subscription: "s"})
		js := tr.AddJetStream("S")
		js.Subject = "s"
		h, body, err := tr.Encode(ServerInfo{Name: "n", ID: "id", Version: "2.11.0", Seq: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantHdr := ""
		if tt.header != "" {
			wantHdr = "NATS/1.0\r\nContent-Encoding: " + tt.header + "\r\n\r\n"
		}
		if string(h) != wantHdr {
			t.Errorf("%v: header %q, want %q", tt.enc, h, wantHdr)
		}
		plain, err := tt.decode(body)
		if err != nil {
			t.Fatalf("%v: decode: %v", tt.enc, err)
		}
		var ev Event
		if err := json.Unmarshal(plain, &ev); err != nil {
			t.Fatalf("%v: %v in %s", tt.enc, err, plain)
		}
		if ev.Server.Version != "2.11.0" || len(ev.Events) != 3 || len(ev.Egresses()) != 1 || ev.JetStream().Stream != "S" {
			t.Errorf("%v: decoded %s", tt.enc, plain)
		}
	}
}

// referenceEvents reads the events captured from nats-server.
func referenceEvents(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/nats-server-2.11.8.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, js, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		out[name] = js
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReferenceRoundTrip: events nats-server 2.11.8 sent decode into
// these types and encode back byte for byte: same field names, order
// and omissions.
func TestReferenceRoundTrip(t *testing.T) {
	for name, js := range referenceEvents(t) {
		var ev Event
		if err := json.Unmarshal([]byte(js), &ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != js {
			t.Errorf("%s:\n got %s\nwant %s", name, b, js)
		}
	}
}

// TestBuiltLikeReference: an event built the way the server builds it
// reads like nats-server's, apart from what differs between any two
// servers (identity, times, connection ids, sequence).
func TestBuiltLikeReference(t *testing.T) {
	ref := referenceEvents(t)
	hdr := []byte("NATS/1.0\r\nNats-Trace-Dest: trace.1\r\nX-Other:   v1 \r\n\r\n")
	tr, err := Start(hdr, Scan(hdr), 56, Ingress{Kind: KindClient, CID: 1, Name: "pubber", Account: "$G", Subject: "foo.bar"})
	if err != nil {
		t.Fatal(err)
	}
	tr.AddEgress(Egress{Kind: KindClient, CID: 2, Name: "subber", Subscription: "foo.>"})
	tr.AddEgress(Egress{Kind: KindClient, CID: 2, Name: "subber", Subscription: "foo.bar", Queue: "workers"})
	_, body, err := tr.Encode(ServerInfo{Name: "N", Host: "127.0.0.1", ID: "N", Version: "2.11.8", JetStream: true, Flags: 7, Seq: 1, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := normalize(string(body)), normalize(ref["deliver"]); got != want {
		t.Errorf("built:\n %s\nnats-server:\n %s", got, want)
	}
}

var (
	reIDs   = regexp.MustCompile(`"(name|id)":"N[A-Z0-9]{55}"`)
	reTimes = regexp.MustCompile(`"(ts|time)":"[^"]+"`)
	reNums  = regexp.MustCompile(`"(cid|seq)":\d+`)
)

func normalize(s string) string {
	s = reIDs.ReplaceAllString(s, `"$1":"N"`)
	s = reTimes.ReplaceAllString(s, `"$1":"T"`)
	return reNums.ReplaceAllString(s, `"$1":0`)
}
