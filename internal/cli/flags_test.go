package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPubFlagsAnywhere(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		subject string
		body    string
		bodySet bool
		count   int
		headers []string
		server  string
	}{
		{"flags first", []string{"--count", "3", "-H", "a:1", "subj", "body"}, "subj", "body", true, 3, []string{"a:1"}, defaultURL},
		{"flags last", []string{"subj", "body", "--count=3", "-s", "nats://h:1"}, "subj", "body", true, 3, nil, "nats://h:1"},
		{"interspersed", []string{"subj", "-H", "a:1", "body", "--header", "a:2", "--count", "2"}, "subj", "body", true, 2, []string{"a:1", "a:2"}, defaultURL},
		{"single dash long", []string{"-count", "4", "subj"}, "subj", "", false, 4, nil, defaultURL},
		{"dashdash body", []string{"subj", "--count", "2", "--", "-not-a-flag"}, "subj", "-not-a-flag", true, 2, nil, defaultURL},
		{"empty body", []string{"subj", ""}, "subj", "", true, 1, nil, defaultURL},
		{"bool between", []string{"--quiet", "subj", "-q", "body"}, "subj", "body", true, 1, nil, defaultURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(nil)
			o, err := parsePub(e, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if o.subject != tc.subject || o.body != tc.body || o.bodySet != tc.bodySet || o.count != tc.count || o.conn.settings.url != tc.server {
				t.Errorf("got subject=%q body=%q set=%v count=%d server=%q", o.subject, o.body, o.bodySet, o.count, o.conn.settings.url)
			}
			if !slices.Equal([]string(o.headers), tc.headers) {
				t.Errorf("headers = %q, want %q", o.headers, tc.headers)
			}
		})
	}
}

func TestCommonFlagsAndEnv(t *testing.T) {
	e, _, _ := testEnv(nil)
	e.getenv = func(k string) string {
		if k == "NATS_URL" {
			return "nats://from-env:4222"
		}
		return ""
	}
	o, err := parseSub(e, []string{"x.>", "--user", "u", "--password", "p", "--timeout", "750ms", "--name", "me", "--queue", "g", "--count", "5", "--raw"})
	if err != nil {
		t.Fatal(err)
	}
	want := connLayer{url: "nats://from-env:4222", user: "u", password: "p"}
	if o.conn.settings != want || o.conn.name != "me" || o.conn.timeout != 750*time.Millisecond {
		t.Errorf("conn = %+v, name %q, timeout %v; want %+v", o.conn.settings, o.conn.name, o.conn.timeout, want)
	}
	if o.queue != "g" || o.count != 5 || !o.raw || o.subject != "x.>" {
		t.Errorf("sub opts = %+v", o)
	}
	// An explicit -s beats NATS_URL.
	o, err = parseSub(e, []string{"-s", "nats://flag:1", "x"})
	if err != nil || o.conn.settings.url != "nats://flag:1" {
		t.Errorf("server = %q, %v", o.conn.settings.url, err)
	}
}

func TestReplyDefaults(t *testing.T) {
	e, _, _ := testEnv(nil)
	o, err := parseReply(e, []string{"svc"})
	if err != nil {
		t.Fatal(err)
	}
	if o.queue != defaultReplyQueue || !o.echo || o.count != 0 {
		t.Errorf("defaults: %+v", o)
	}
	o, err = parseReply(e, []string{"svc", "answer {{Count}}", "--queue", ""})
	if err != nil {
		t.Fatal(err)
	}
	if o.queue != "" || o.echo || o.body != "answer {{Count}}" {
		t.Errorf("explicit: %+v", o)
	}
}

func TestBenchFlags(t *testing.T) {
	e, _, _ := testEnv(nil)
	o, err := parseBench(e, []string{"--pub", "2", "bench.x", "--sub", "3", "--msgs", "1000", "--size", "1KiB", "--queue", "q", "--json", "--no-progress"})
	if err != nil {
		t.Fatal(err)
	}
	if o.pubs != 2 || o.subs != 3 || o.msgs != 1000 || o.size != 1024 || o.queue != "q" || !o.json || !o.noProgress || o.subject != "bench.x" {
		t.Errorf("bench opts = %+v", o)
	}
	o, err = parseBench(e, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	if o.pubs != 1 || o.subs != 0 || o.msgs != 100000 || o.size != 128 || o.replies != 1 || o.stall != 10*time.Second {
		t.Errorf("bench defaults = %+v", o)
	}
}

// Every mistake exits 1 with one line on stderr that says what is wrong,
// before any connection is attempted (the server URL points nowhere).
func TestBadArguments(t *testing.T) {
	tests := []struct {
		cmd  string
		args []string
		want string
	}{
		{"pub", nil, "missing argument"},
		{"pub", []string{"a", "b", "c"}, `unexpected argument "c"`},
		{"pub", []string{"a", "--count", "x"}, `"x" is not a whole number`},
		{"pub", []string{"a", "--count", "0"}, "--count must be at least 1"},
		{"pub", []string{"a", "--bogus"}, "flag provided but not defined: -bogus"},
		{"pub", []string{"a", "-H", "novalue"}, `invalid header "novalue"`},
		{"pub", []string{"a", "-H", ":v"}, `invalid header ":v"`},
		{"pub", []string{"a", "--sleep", "soon"}, `"soon" is not a duration`},
		{"pub", []string{"a", "--count"}, "flag needs an argument: -count"},
		{"sub", []string{"a", "b"}, `unexpected argument "b"`},
		{"sub", []string{"a", "--count", "-1"}, "--count must not be negative"},
		{"sub", []string{"a", "--raw", "--headers-only"}, "cannot be combined"},
		{"sub", []string{"a", "--timeout", "0s"}, "--timeout must be greater than zero"},
		{"req", []string{"a", "--replies", "-2"}, "--replies must not be negative"},
		{"reply", []string{"a", "body", "--echo"}, "give a body or --echo"},
		{"bench", nil, "missing argument"},
		{"bench", []string{"b", "--size", "1XB"}, `invalid size "1XB"`},
		{"bench", []string{"b", "--msgs", "0"}, "--msgs must be at least 1"},
		{"bench", []string{"b", "--pub", "0"}, "nothing to run"},
		{"bench", []string{"b", "--pub", "5", "--msgs", "4"}, "--msgs (4) must be at least --pub (5)"},
		{"bench", []string{"b", "--request", "--sub", "2"}, "--sub is not used with --request"},
		{"bench", []string{"b", "--reply", "2"}, "--reply is only used with --request"},
		{"bench", []string{"b", "--size", "65MiB"}, "--size must be between 0 and 64 MiB"},
		// Flags a mode would ignore are refused, not silently dropped.
		{"bench", []string{"b", "--js", "--reply", "2"}, "--reply is only used with --request"},
		{"bench", []string{"b", "--js", "--queue", "q"}, "--queue is for subscribers and responders"},
		{"bench", []string{"b", "--consume", "pull", "--queue", "q"}, "--queue is for subscribers and responders"},
		{"bench", []string{"b", "--js-domain", "hub"}, "only used with --js, --consume or --kv"},
		{"pub", []string{"a", "--sleep", "1s"}, "--sleep pauses between messages"},
		{"pub", []string{"a", "--user", "u", "--token", "t"}, "more than one way to authenticate (user, token)"},
		{"pub", []string{"a", "--tlskey", "k.pem"}, "needs its certificate"},
		{"sub", []string{"a", "--context", "../x"}, "must not contain"},
		{"nope", nil, `unknown client command "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.cmd+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.cmd, append([]string{"-s", "nats://127.0.0.1:1"}, tc.args...)...)
			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.want)
			}
			if n := strings.Count(stderr, "\n"); n != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", n, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// groupAction is the action tested for commands that group several.
var groupAction = map[string][]string{"stream": {"info"}, "consumer": {"ls"}, "kv": {"ls"}, "object": {"ls"}, "context": {"add"}}

func TestHelp(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, name, append(groupAction[name], "--help")...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			wants := []string{"Usage: starling " + strings.Join(append([]string{name}, groupAction[name]...), " "), "-s, --server URL", "--timeout DURATION", "(default 5s)"}
			switch name {
			case "passwd", "nkey":
				wants = wants[:1] // offline tools have no connection flags
			case "context":
				wants = wants[:2] // context add records settings; it does not connect
			}
			for _, want := range wants {
				if !strings.Contains(stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, stdout)
				}
			}
		})
	}
}

func TestConnectFailureIsOneLine(t *testing.T) {
	port, err := freePort() // nothing listens there once freePort returns
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("nats://user:secret@127.0.0.1:%d", port)
	for _, name := range Names() {
		if name == "passwd" || name == "nkey" || name == "context" {
			continue // offline tools
		}
		code, _, stderr := runCmd(t, name, append(groupAction[name], "subj", "-s", url, "--timeout", "2s")...)
		if code != 1 {
			t.Errorf("%s: exit code %d, want 1", name, code)
		}
		if !strings.HasPrefix(stderr, "starling "+name+": connect to nats://user:xxxxx@127.0.0.1:") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: stderr = %q", name, stderr)
		}
		if strings.Contains(stderr, "secret") {
			t.Errorf("%s: password leaked: %q", name, stderr)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:p@h:1", "nats://u:xxxxx@h:1"},
		{"nats://tok@h:1", "nats://xxxxx@h:1"},
		{"nats://a:b@h:1, nats://h2:2", "nats://a:xxxxx@h:1,nats://h2:2"},
	}
	for _, tc := range tests {
		if got := redactURLs(tc.in); got != tc.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
