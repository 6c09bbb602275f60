package cli

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckSubject(t *testing.T) {
	tests := []struct {
		s       string
		literal bool
		want    string // "" for valid
	}{
		{"foo.bar", true, ""},
		{"foo.*.>", false, ""},
		{"foo*.b>r", true, ""}, // wildcard characters inside a token are plain
		{">", false, ""},
		{"", false, "it is empty"},
		{"foo bar", false, "whitespace"},
		{"foo\tbar", true, "whitespace"},
		{".foo", false, "empty token"},
		{"foo.", false, "empty token"},
		{"foo..bar", true, "empty token"},
		{"foo.>.bar", false, "must be the last token"},
		{"foo.*", true, "wildcards (* and >) are for subscribing"},
		{"foo.>", true, "wildcards (* and >) are for subscribing"},
	}
	for _, tc := range tests {
		err := checkSubject("subject", tc.s, tc.literal)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q (literal %v): %v", tc.s, tc.literal, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q (literal %v): %v, want %q", tc.s, tc.literal, err, tc.want)
		}
	}
	if checkQueue("--queue group", "") != nil || checkQueue("--queue group", "workers.a") != nil {
		t.Error("valid queue refused")
	}
	if err := checkQueue("--queue group", "my workers"); err == nil || !strings.Contains(err.Error(), "whitespace") {
		t.Errorf("queue with a space: %v", err)
	}
}

// TestBadSubjectsRefusedBeforeConnecting points every command at a port
// nobody listens on: the error must be about the subject, not the
// connection, and on one line.
func TestBadSubjectsRefusedBeforeConnecting(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	tests := []struct {
		cmd  string
		args []string
		want string
	}{
		{"sub", []string{"foo.>.bar"}, `invalid subject "foo.>.bar": '>' matches the rest of a subject, so it must be the last token`},
		{"sub", []string{"foo", "--queue", "a b"}, `invalid --queue group "a b"`},
		{"pub", []string{"foo.*", "x"}, `invalid subject "foo.*": wildcards (* and >) are for subscribing`},
		{"pub", []string{"foo..bar", "x"}, "empty token"},
		{"pub", []string{"foo", "x", "--reply", "r.>"}, `invalid --reply subject "r.>"`},
		{"req", []string{"svc.>", "x"}, `invalid subject "svc.>"`},
		{"reply", []string{"svc. x"}, "whitespace"},
		{"reply", []string{"svc", "--queue", "q 1"}, `invalid --queue group "q 1"`},
		{"bench", []string{"b.*"}, `invalid subject "b.*"`},
		{"consumer", []string{"add", "S", "C", "--filter", "a.>.b"}, `invalid --filter subject "a.>.b"`},
		{"consumer", []string{"add", "S", "C", "--deliver-subject", "d.*"}, `invalid --deliver-subject "d.*"`},
		{"stream", []string{"add", "S", "--subjects", "a,b.>.c"}, `invalid --subjects entry "b.>.c"`},
		{"stream", []string{"view", "S", "--subject", "a..b"}, `invalid --subject filter "a..b"`},
		{"stream", []string{"get", "S", "--last-for", "a b"}, `invalid --last-for subject "a b"`},
		{"stream", []string{"purge", "S", "-f", "--subject", ".a"}, `invalid --subject filter ".a"`},
		{"stream", []string{"ls", "--subject", "a.>.b"}, `invalid --subject filter "a.>.b"`},
		{"stream", []string{"add", "a.b"}, `invalid stream name "a.b"`},
	}
	for _, tc := range tests {
		code, _, stderr := runCmd(t, tc.cmd, append(tc.args, "-s", url)...)
		if code != 1 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "connect") {
			t.Errorf("%s %q: exit %d, stderr %q; want %q", tc.cmd, tc.args, code, stderr, tc.want)
		}
	}
}
