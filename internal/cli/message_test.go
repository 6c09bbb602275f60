package cli

import (
	"testing"

	"github.com/nats-io/nats.go"
)

func TestExpandCount(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"plain", 3, "plain"},
		{"{{Count}}", 3, "3"},
		{"msg {{Count}} of {{ Count }}", 12, "msg 12 of 12"},
		{"{{Time}} {{Count}}", 1, "{{Time}} 1"},
		{"{{Count", 1, "{{Count"},
		{"}}{{Count}}{{", 2, "}}2{{"},
		{"{{}}", 1, "{{}}"},
		{"", 1, ""},
	}
	for _, tc := range tests {
		if got := expandCount(tc.in, tc.n); got != tc.want {
			t.Errorf("expandCount(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestSplitHeader(t *testing.T) {
	tests := []struct {
		in, key, value string
		ok             bool
	}{
		{"a:1", "a", "1", true},
		{" Trace-Id : abc ", "Trace-Id", "abc", true},
		{"url:http://x:1", "url", "http://x:1", true},
		{"empty:", "empty", "", true},
		{"novalue", "", "", false},
		{":v", "", "", false},
	}
	for _, tc := range tests {
		k, v, err := splitHeader(tc.in)
		if (err == nil) != tc.ok || k != tc.key || v != tc.value {
			t.Errorf("splitHeader(%q) = %q, %q, %v", tc.in, k, v, err)
		}
	}
}

func TestBuildHeader(t *testing.T) {
	h, err := buildHeader([]string{"a:1", "a:2", "n:{{Count}}"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Values("a"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("a = %q", got)
	}
	if got := h.Get("n"); got != "7" {
		t.Errorf("n = %q", got)
	}
	if h, err := buildHeader(nil, 1); h != nil || err != nil {
		t.Errorf("no headers: %v, %v", h, err)
	}
}

func TestFormatMsg(t *testing.T) {
	withHeaders := &nats.Msg{Subject: "s", Reply: "r", Data: []byte("hello"), Header: nats.Header{"b": {"2"}, "a": {"1", "x"}}}
	tests := []struct {
		name  string
		title string
		m     *nats.Msg
		o     printOpts
		want  string
	}{
		{"plain", receivedTitle(1, &nats.Msg{Subject: "s"}), &nats.Msg{Subject: "s", Data: []byte("hi")}, printOpts{},
			"[#1] Received on \"s\"\nhi\n\n"},
		{"trailing newline kept single", "T", &nats.Msg{Data: []byte("hi\n")}, printOpts{}, "T\nhi\n\n"},
		{"headers sorted", receivedTitle(2, withHeaders), withHeaders, printOpts{},
			"[#2] Received on \"s\" with reply \"r\"\na: 1\na: x\nb: 2\n\nhello\n\n"},
		{"headers only", "T", withHeaders, printOpts{headersOnly: true}, "T\na: 1\na: x\nb: 2\n\n"},
		{"raw", "T", withHeaders, printOpts{raw: true}, "hello\n"},
		{"empty payload", "T", &nats.Msg{}, printOpts{}, "T\n\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(formatMsg(tc.title, tc.m, tc.o)); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
