package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// groupActions lists the actions of the commands that have them.
var groupActions = map[string][]action{
	"stream": streamActions, "consumer": consumerActions, "kv": kvActions,
	"object": objectActions, "context": contextActions,
}

// TestDocsNameEveryCommandAndFlag keeps docs/cli.md in step with the help
// texts: every command, action and flag the help lists is in the doc.
func TestDocsNameEveryCommandAndFlag(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	flagRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	check := func(args ...string) {
		t.Helper()
		code, stdout, stderr := runCmd(t, args[0], append(args[1:], "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: %d %s", args, code, stderr)
		}
		for _, fl := range flagRE.FindAllString(stdout, -1) {
			if fl != "--help" && !strings.Contains(string(doc), fl) {
				t.Errorf("docs/cli.md does not mention %s of %s", fl, strings.Join(args, " "))
			}
		}
	}
	for _, name := range Names() {
		if !strings.Contains(string(doc), "`"+name) {
			t.Errorf("docs/cli.md does not mention the %s command", name)
		}
		actions, grouped := groupActions[name]
		if !grouped {
			if name != "nkey" { // its usage is an action word, not flags
				check(name)
			}
			continue
		}
		for _, a := range actions {
			if !strings.Contains(string(doc), "`"+a.name) {
				t.Errorf("docs/cli.md does not mention %s %s", name, a.name)
			}
			check(name, a.name)
		}
	}
}
