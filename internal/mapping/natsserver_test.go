package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// crossCheck mappings: every function nats-server accepts in a mapping,
// partition over enough subjects to use every partition.
var crossCheck = [][2]string{
	{"p.*", "part.{{partition(5,1)}}.$1"},
	{"pp.*.*", "part2.{{partition(7,1,2)}}.{{wildcard(2)}}"},
	{"sfl.*", "out.sfl.{{splitFromLeft(1,2)}}"},
	{"sfr.*", "out.sfr.{{SplitFromRight(1,2)}}"},
	{"sll.*", "out.sll.{{sliceFromLeft(1,3)}}"},
	{"slr.*", "out.slr.{{sliceFromRight(1,3)}}"},
	{"sp.*", "out.sp.{{split(1,-)}}"},
	{"w.*.*.>", "out.w.{{wildcard(2)}}.$1.>"},
	{"lit", "out.lit"},
}

func crossCheckSubjects() []string {
	subs := []string{
		"sfl.abcdef", "sfl.a", "sfr.abcdef", "sll.abcdefg", "slr.abcdefg", "slr.ab",
		"sp.-ab--cd-", "sp.plain", "w.x.y.z.q", "lit", "unmapped.one",
	}
	for i := 0; i < 40; i++ {
		subs = append(subs, fmt.Sprintf("p.%d", i), fmt.Sprintf("pp.k%d.v%d", i, i*7))
	}
	return subs
}

// TestAgainstNatsServer publishes through nats-server's own mappings and
// checks every message lands where Map says, partitions included, so a
// mixed cluster maps alike.
func TestAgainstNatsServer(t *testing.T) {
	bins := map[string]string{"2.9": natsServerPath(t)}
	if p := os.Getenv("STARLING_NATS_SERVER_2_11"); p != "" {
		bins["2.11"] = p
	}
	var entries []Entry
	for _, c := range crossCheck {
		entries = append(entries, one(c[0], c[1]))
	}
	m, err := New("", entries)
	if err != nil {
		t.Fatal(err)
	}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) {
			got := publishThrough(t, bin, crossCheckSubjects())
			for i, s := range crossCheckSubjects() {
				want, _ := m.Map(s, noDraw(t))
				if i >= len(got) || got[i] != want {
					t.Errorf("%s: nats-server delivered %q; Map says %q", s, at0(got, i), want)
				}
			}
		})
	}
}

func at0(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<nothing>"
}

// publishThrough runs nats-server with the cross-check mappings,
// publishes subjs in order and returns the subjects delivered to ">".
func publishThrough(t *testing.T, bin string, subjs []string) []string {
	t.Helper()
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "listen: \"127.0.0.1:-1\"\nports_file_dir: %q\nmappings {\n", dir)
	for _, c := range crossCheck {
		fmt.Fprintf(&conf, "  %q: %q\n", c[0], c[1])
	}
	conf.WriteString("}\n")
	cfg := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	nc, err := nats.Connect(clientURL(t, dir, cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ch := make(chan string, len(subjs)+1)
	if _, err := nc.Subscribe(">", func(msg *nats.Msg) { ch <- msg.Subject }); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, s := range subjs {
		if err := nc.Publish(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Publish("done", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if s == "done" {
				return got
			}
			got = append(got, s)
		case <-timeout:
			t.Fatalf("no end marker after %d messages", len(got))
		}
	}
}

// clientURL polls for the ports file nats-server writes once listening.
func clientURL(t *testing.T, dir string, pid int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("*_%d.ports", pid)))
		for _, f := range matches {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var ports struct{ Nats []string }
			if json.Unmarshal(b, &ports) == nil && len(ports.Nats) > 0 {
				return ports.Nats[0]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nats-server wrote no ports file")
	return ""
}

// natsServerPath is the reference nats-server 2.9; without it the test
// skips, unless STARLING_REQUIRE_NATSSERVER=1 (CI installs the package).
func natsServerPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	if os.Getenv("STARLING_REQUIRE_NATSSERVER") == "1" {
		t.Fatal("nats-server is missing: apt-get install nats-server")
	}
	t.Skip("nats-server is missing (apt-get install nats-server)")
	return ""
}

// TestRefusalsAgainstNatsServer: nats-server refuses the same mappings,
// in the same words (its configuration check, "-t").
func TestRefusalsAgainstNatsServer(t *testing.T) {
	bins := map[string]string{"2.9": natsServerPath(t)}
	if p := os.Getenv("STARLING_NATS_SERVER_2_11"); p != "" {
		bins["2.11"] = p
	}
	bad := [][2]string{
		{"a.*", "b.$2"},
		{"a.*", "b.{{left(1,2)}}"},
		{"a.*", "b.{{nope(1)}}"},
		{"a.*", "b.{{wildcard()}}"},
		{"a.*", "b.{{wildcard(1,2)}}"},
		{"a.*", "b.{{partition(x,1)}}"},
		{"a.*", "b.{{split(1,a b)}}"},
		{"a.*", "b.{{splitFromLeft(1)}}"},
		{"a.*", "b.{{sliceFromRight(1,2,3)}}"},
		{"a.>", "b"},
		{"a.*", "b.*"},
	}
	// nats-server 2.9 took "$1" for a literal when the source had no
	// wildcard; 2.11 refuses it, as Starling does.
	bad211 := [][2]string{{"a", "b.$1"}}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cases := bad
			if name == "2.11" {
				cases = append(cases, bad211...)
			}
			for _, b := range cases {
				_, err := New("", []Entry{one(b[0], b[1])})
				var me *Error
				if !errors.As(err, &me) {
					t.Fatalf("%q -> %q: Starling accepted it", b[0], b[1])
				}
				cfg := filepath.Join(dir, "nats.conf")
				conf := fmt.Sprintf("listen: \"127.0.0.1:-1\"\nmappings { %q: %q }\n", b[0], b[1])
				if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
					t.Fatal(err)
				}
				out, _ := exec.Command(bin, "-t", "-c", cfg).CombinedOutput()
				if !strings.Contains(string(out), ": "+me.Err.Error()) {
					t.Errorf("%q -> %q: nats-server says %q; Starling %q", b[0], b[1], strings.TrimSpace(string(out)), me.Err)
				}
			}
		})
	}
}
