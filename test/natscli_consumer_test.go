package test

import (
	"strings"
	"testing"
)

// TestNatsCLIConsumers drives natscli's consumer commands: add and edit
// (which send pause_until as the zero time), info, next, pause and
// resume.
func TestNatsCLIConsumers(t *testing.T) {
	cli := newNatsCLI(t, startJS(t, "").ClientURL())
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := cli.try(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("nats %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must("Subjects: s.>", "stream", "add", "S", "--subjects", "s.>", "--defaults")
	must("Name: C", "consumer", "add", "S", "C", "--pull", "--defaults")
	must("Published", "pub", "s.a", "hello", "--count", "3")
	must("Paused S > C until", "consumer", "pause", "S", "C", "1h", "--force")
	must("Paused Until", "consumer", "info", "S", "C")
	if out, err := cli.try("consumer", "next", "S", "C", "--timeout", "1s"); err == nil {
		t.Fatalf("next on a paused consumer got a message:\n%s", out)
	}
	// An edit keeps the pause.
	must("Paused Until", "consumer", "edit", "S", "C", "--description", "edited", "--force")
	must("was resumed", "consumer", "resume", "S", "C", "--force")
	must("hello", "consumer", "next", "S", "C", "--count", "1")
	out := must("Description: edited", "consumer", "info", "S", "C")
	if strings.Contains(out, "Paused Until") {
		t.Fatalf("still paused after resume:\n%s", out)
	}
	// Created paused for a duration.
	must("Paused Until", "consumer", "add", "S", "P", "--pull", "--defaults", "--pause", "1h")
}
