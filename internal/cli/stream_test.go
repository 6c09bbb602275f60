package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestStreamAddFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string // substring of the config, as Go prints it
		err  string
	}{
		{[]string{"S"}, "Name:S", ""},
		{[]string{"S", "--subjects", "a.>, b", "--storage", "memory", "--max-msgs", "10", "--max-bytes", "1KiB", "--max-age", "1h"}, "Subjects:[a.> b]", ""},
		{[]string{"S", "--storage", "tape"}, "", "tape"},
		{[]string{"S", "--retention", "forever"}, "", "forever"},
		{[]string{"S", "--discard", "new", "--discard-new-per-subject", "--max-msgs-per-subject", "1"}, "DiscardNewPerSubject:true", ""},
	}
	for _, tt := range tests {
		e, _, _ := testEnv(nil)
		o := &streamAddOpts{}
		f := streamAddFlags(e, o)
		pos, err := f.parse(tt.args)
		if err != nil {
			t.Fatalf("%q: parse: %v", tt.args, err)
		}
		cfg, err := o.streamConfig(f, pos[0])
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || !strings.Contains(fmtConfig(cfg), tt.want) {
			t.Errorf("%q: %v %+v, want %s", tt.args, err, cfg, tt.want)
		}
	}
}

func TestStreamCommands(t *testing.T) {
	url := startJetStream(t)
	step := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCmd(t, "stream", append(args, "-s", url)...)
		if code != want {
			t.Fatalf("stream %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errOut)
		}
		return out, errOut
	}
	out, _ := step(0, "add", "ORDERS", "--subjects", "orders.>", "--max-msgs", "1000", "--description", "shop")
	if !strings.Contains(out, "Stream ORDERS (shop)") || !strings.Contains(out, "orders.>") || !strings.Contains(out, "1,000") {
		t.Fatalf("add output:\n%s", out)
	}
	for i := range 3 {
		if code, _, errOut := runCmd(t, "pub", "orders.new", "m"+string(rune('0'+i)), "-s", url); code != 0 {
			t.Fatalf("pub: %s", errOut)
		}
	}
	// Plain publishes are not acknowledged: wait until stored.
	eventually(t, 5*time.Second, "messages stored", func() bool {
		out, _ := step(0, "info", "ORDERS")
		return strings.Contains(out, "Messages:        3\n")
	})
	out, _ = step(0, "ls")
	if !strings.Contains(out, "ORDERS") || !strings.Contains(out, "MESSAGES") {
		t.Fatalf("ls:\n%s", out)
	}
	out, _ = step(0, "ls", "--names")
	if out != "ORDERS\n" {
		t.Fatalf("ls --names: %q", out)
	}
	out, _ = step(0, "get", "ORDERS", "2")
	if !strings.Contains(out, "[2]") || !strings.Contains(out, "orders.new") || !strings.Contains(out, "m1") {
		t.Fatalf("get:\n%s", out)
	}
	out, _ = step(0, "get", "ORDERS", "--last-for", "orders.new")
	if !strings.Contains(out, "[3]") {
		t.Fatalf("get last:\n%s", out)
	}
	out, _ = step(0, "view", "ORDERS", "--since", "2")
	if strings.Count(out, "orders.new") != 2 {
		t.Fatalf("view:\n%s", out)
	}
	_, errOut := step(1, "get", "ORDERS", "99")
	if !strings.Contains(errOut, "no message found") {
		t.Fatalf("get missing: %s", errOut)
	}
	_, errOut = step(1, "purge", "ORDERS")
	if !strings.Contains(errOut, "--force") {
		t.Fatalf("purge without force: %s", errOut)
	}
	out, _ = step(0, "purge", "ORDERS", "--keep", "1", "--force")
	if !strings.Contains(out, "Purged 2 messages") {
		t.Fatalf("purge: %s", out)
	}
	out, _ = step(0, "info", "ORDERS", "--json")
	if !strings.Contains(out, `"messages": 1`) {
		t.Fatalf("info --json:\n%s", out)
	}
	step(0, "rm", "ORDERS", "--force")
	_, errOut = step(1, "info", "ORDERS")
	if !strings.Contains(errOut, "stream ORDERS not found") {
		t.Fatalf("info after rm: %s", errOut)
	}
	out, _ = step(0, "ls")
	if out != "No streams defined\n" {
		t.Fatalf("ls empty: %q", out)
	}
}

func TestStreamWithoutJetStream(t *testing.T) {
	url := startServer(t)
	code, _, errOut := runCmd(t, "stream", "ls", "-s", url)
	if code != 1 || !strings.Contains(errOut, "JetStream is not enabled") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func fmtConfig(v any) string { return strings.TrimSpace(fmt.Sprintf("%+v", v)) }
