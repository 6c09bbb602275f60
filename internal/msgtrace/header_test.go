package msgtrace

import (
	"bytes"
	"testing"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name, hdr string
		want      Found
		after     string // the block after Scan, when it rewrites it
	}{
		{"no trace headers", "NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n", 0, ""},
		{"dest", "NATS/1.0\r\nNats-Trace-Dest: t.1\r\n\r\n", FoundDest, ""},
		{"dest in any case", "NATS/1.0\r\nnats-trace-DEST: t.1\r\n\r\n", FoundDest, ""},
		{"dest among others", "NATS/1.0\r\nA: 1\r\nNats-Trace-Dest: t.1\r\nB: 2\r\n\r\n", FoundDest, ""},
		{"status line is never traced", "NATS/1.0 503\r\nNats-Trace-Dest: t.1\r\n\r\n", 0, ""},
		{"not a header block", "HTTP/1.1\r\nNats-Trace-Dest: t.1\r\n\r\n", 0, ""},
		{"empty", "", 0, ""},
		{"line without colon joins the next key", "NATS/1.0\r\nJunk\r\nNats-Trace-Dest: t.1\r\n\r\n", 0, ""},
		{"unterminated line ends the walk", "NATS/1.0\r\nNats-Trace-Dest: t.1", 0, ""},
		{"sampled traceparent", "NATS/1.0\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n", FoundSampledParent, ""},
		{"unsampled traceparent", "NATS/1.0\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n\r\n", 0, ""},
		{
			"traceparent key lowered in place",
			"NATS/1.0\r\nTraceParent: 00-a-b-03\r\n\r\n", FoundSampledParent,
			"NATS/1.0\r\ntraceparent: 00-a-b-03\r\n\r\n",
		},
		{"both", "NATS/1.0\r\nNats-Trace-Dest: t\r\ntraceparent: 00-a-b-01\r\n\r\n", FoundDest | FoundSampledParent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []byte(tt.hdr)
			if got := Scan(hdr); got != tt.want {
				t.Errorf("Scan = %b, want %b", got, tt.want)
			}
			want := tt.after
			if want == "" {
				want = tt.hdr
			}
			if string(hdr) != want {
				t.Errorf("block became %q, want %q", hdr, want)
			}
		})
	}
}

func TestSampled(t *testing.T) {
	tests := []struct {
		val  string
		want bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", false},
		{"00-a-b-03", true},
		{"00-a-b-7f", true},
		{"00-a-b-0F", true},
		{"00-a-b-ff", false}, // out of int8 range for nats-server: not sampled
		{"00-a-b-81", false},
		{"00-a-b-+1", true},
		{"00-a-b-1", false},
		{"00-a-b-001", false},
		{"00-a-b-zz", false},
		{"00-a-01", false},
		{"00-a-b-c-01", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := sampled([]byte(tt.val)); got != tt.want {
			t.Errorf("sampled(%q) = %v, want %v", tt.val, got, tt.want)
		}
	}
}

func TestHeaderMap(t *testing.T) {
	m := headerMap([]byte("NATS/1.0\r\nA:  1 \r\nA:\t2\r\nb-Key: x: y\r\n: empty key\r\n\r\n"))
	if len(m) != 2 || len(m["A"]) != 2 || m["A"][0] != "1" || m["A"][1] != "2" || m["b-Key"][0] != "x: y" {
		t.Fatalf("map %q", m)
	}
}

func TestTraceOnlyValue(t *testing.T) {
	for v, want := range map[string]bool{
		"1": true, "true": true, "TRUE": true, "on": true, "On": true,
		"yes": false, "0": false, "false": false, "off": false, "": false, " true": false,
	} {
		if got := traceOnlyValue(v); got != want {
			t.Errorf("traceOnlyValue(%q) = %v", v, got)
		}
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		buf, name, want string
	}{
		{"NATS/1.0\r\nNats-Trace-Dest: t.1\r\n\r\n", HeaderDest, "t.1"},
		{"NATS/1.0\r\nNats-Trace-Dest:    t.1\r\n", HeaderDest, "t.1"},
		{"NATS/1.0\r\nNats-Trace-Dest: t.1", HeaderDest, "t.1"}, // cut short
		{"NATS/1.0\r\nnats-trace-dest: t.1\r\n\r\n", HeaderDest, ""},
		{"NATS/1.0\r\nX-Nats-Trace-Dest: t.1\r\n\r\n", HeaderDest, ""},
		{"Nats-Trace-Dest: t.1\r\n", HeaderDest, ""},
		{"NATS/1.0\r\nAccept-Encoding: gzip\r\n\r\n", HeaderAcceptEncoding, "gzip"},
		{"", HeaderDest, ""},
	}
	for _, tt := range tests {
		if got := Value([]byte(tt.buf), tt.name); got != tt.want {
			t.Errorf("Value(%q, %s) = %q, want %q", tt.buf, tt.name, got, tt.want)
		}
	}
}

func TestDisableHeaders(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NATS/1.0\r\nNats-Trace-Dest: t\r\n\r\n", "NATS/1.0\r\nXats-Trace-Dest: t\r\n\r\n"},
		{"NATS/1.0\r\nA: 1\r\ntraceparent: 00-a-b-01\r\nNats-Trace-Dest: t\r\n\r\n", "NATS/1.0\r\nA: 1\r\nXraceparent: 00-a-b-01\r\nXats-Trace-Dest: t\r\n\r\n"},
		{"NATS/1.0\r\nnats-trace-dest: t\r\n\r\n", "NATS/1.0\r\nnats-trace-dest: t\r\n\r\n"},
		{"NATS/1.0\r\nX: Nats-Trace-Dest\r\n\r\n", "NATS/1.0\r\nX: Nats-Trace-Dest\r\n\r\n"},
		{"NATS/1.0\r\nNats-Trace-Destination: t\r\n\r\n", "NATS/1.0\r\nNats-Trace-Destination: t\r\n\r\n"},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		DisableHeaders(b)
		if string(b) != tt.want {
			t.Errorf("DisableHeaders(%q) = %q, want %q", tt.in, b, tt.want)
		}
	}
}

func TestParseEncoding(t *testing.T) {
	for v, want := range map[string]Encoding{
		"": EncodingNone, "snappy": EncodingSnappy, "S2": EncodingSnappy, "gzip, deflate": EncodingGzip,
		"br": EncodingUnsupported, "identity": EncodingUnsupported,
	} {
		if got := ParseEncoding(v); got != want {
			t.Errorf("ParseEncoding(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestScanAllocs: the check every message with headers goes through
// allocates nothing, traced or not.
func TestScanAllocs(t *testing.T) {
	for _, hdr := range []string{
		"NATS/1.0\r\nNats-Msg-Id: 7c9bfa2e\r\nX-Application: orders\r\n\r\n",
		"NATS/1.0\r\nTraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
		"NATS/1.0\r\nNats-Trace-Dest: t.1\r\n\r\n",
	} {
		b := []byte(hdr)
		if n := testing.AllocsPerRun(100, func() { Scan(b) }); n != 0 {
			t.Errorf("Scan(%q) allocates %v times", hdr, n)
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"NATS/1.0\r\nNats-Trace-Dest: t.1\r\nNats-Trace-Only: true\r\n\r\n",
		"NATS/1.0\r\ntraceparent: 00-a-b-01\r\n\r\n",
		"NATS/1.0\r\nA\r\n:\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, hdr []byte) {
		orig := bytes.Clone(hdr)
		found := Scan(hdr)
		if len(hdr) != len(orig) {
			t.Fatal("Scan changed the length")
		}
		tr, _ := Start(hdr, found, len(hdr), Ingress{})
		if tr != nil {
			if _, _, err := tr.Encode(ServerInfo{}); err != nil {
				t.Fatal(err)
			}
		}
		Value(hdr, HeaderDest)
		DisableHeaders(hdr)
	})
}
