package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// defaultStream is what `stream add NAME` sends with no other flags;
// edit changes it into a case's expectation.
func defaultStream(name string, edit func(*jetstream.StreamConfig)) jetstream.StreamConfig {
	c := jetstream.StreamConfig{
		Name: name, Subjects: []string{name}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxMsgs: -1, MaxBytes: -1, MaxMsgSize: -1, MaxMsgsPerSubject: -1,
		Replicas: 1, Compression: jetstream.NoCompression,
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

// addConfig parses `stream add` arguments into the config it would send.
func addConfig(t *testing.T, args []string) (jetstream.StreamConfig, error) {
	t.Helper()
	e, _, _ := testEnv(nil)
	o := &streamAddOpts{}
	f := streamAddFlags(e, o)
	pos, err := f.parse(args)
	if err != nil {
		return jetstream.StreamConfig{}, err
	}
	if err := f.checkArgs(pos, 0, 1); err != nil {
		return jetstream.StreamConfig{}, err
	}
	return o.streamConfig(f, pos)
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStreamAddConfig(t *testing.T) {
	file := writeFile(t, "s.json", `{"name":"FILE","subjects":["f.>"],"storage":"memory",
		"retention":"interest","max_msgs":5,"max_age":60000000000,"deny_delete":true}`)
	mirror := writeFile(t, "m.json", `{"name":"M","mirror":{"name":"FILE"}}`)
	fromFile := jetstream.StreamConfig{Name: "FILE", Subjects: []string{"f.>"}, Storage: jetstream.MemoryStorage,
		Retention: jetstream.InterestPolicy, MaxMsgs: 5, MaxAge: time.Minute, DenyDelete: true}
	tests := []struct {
		name string
		args []string
		want jetstream.StreamConfig
	}{
		{"defaults", []string{"S"}, defaultStream("S", nil)},
		{"subjects", []string{"S", "--subjects", "a.>, b,,"}, defaultStream("S", func(c *jetstream.StreamConfig) {
			c.Subjects = []string{"a.>", "b"}
		})},
		{"sizes", []string{"S", "--max-bytes", "1GB", "--max-msg-size", "512KiB", "--storage", "MEMORY"},
			defaultStream("S", func(c *jetstream.StreamConfig) {
				c.MaxBytes, c.MaxMsgSize, c.Storage = 1<<30, 512<<10, jetstream.MemoryStorage
			})},
		{"unlimited spelled out", []string{"S", "--max-bytes", "unlimited", "--max-msg-size=-1"}, defaultStream("S", nil)},
		{"limits", []string{"S", "--max-msgs", "1000", "--max-msgs-per-subject", "3", "--max-age", "24h", "--dupe-window", "30s"},
			defaultStream("S", func(c *jetstream.StreamConfig) {
				c.MaxMsgs, c.MaxMsgsPerSubject, c.MaxAge, c.Duplicates = 1000, 3, 24*time.Hour, 30*time.Second
			})},
		{"policies", []string{"S", "--retention", "workqueue", "--discard", "new", "--discard-new-per-subject", "--compression", "s2", "--replicas", "3"},
			defaultStream("S", func(c *jetstream.StreamConfig) {
				c.Retention, c.Discard, c.DiscardNewPerSubject = jetstream.WorkQueuePolicy, jetstream.DiscardNew, true
				c.Compression, c.Replicas = jetstream.S2Compression, 3
			})},
		{"switches", []string{"S", "--allow-rollup", "--deny-delete", "--deny-purge", "--allow-direct", "--description", "orders"},
			defaultStream("S", func(c *jetstream.StreamConfig) {
				c.AllowRollup, c.DenyDelete, c.DenyPurge, c.AllowDirect, c.Description = true, true, true, true, "orders"
			})},
		{"config alone", []string{"--config", file}, fromFile},
		{"flags override config", []string{"RENAMED", "--config", file, "--max-msgs", "7", "--subjects", "g", "--deny-delete=false"},
			func() jetstream.StreamConfig {
				c := fromFile
				c.Name, c.MaxMsgs, c.Subjects, c.DenyDelete = "RENAMED", 7, []string{"g"}, false
				return c
			}()},
		{"mirror has no default subject", []string{"--config", mirror},
			jetstream.StreamConfig{Name: "M", Mirror: &jetstream.StreamSource{Name: "FILE"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := addConfig(t, tt.args)
			if err != nil {
				t.Fatalf("%q: %v", tt.args, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%q:\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestStreamAddConfigErrors(t *testing.T) {
	nameless := writeFile(t, "n.json", `{"subjects":["x"]}`)
	broken := writeFile(t, "b.json", `{"name":`)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing stream name"},
		{[]string{"--config", nameless}, "missing stream name"},
		{[]string{"S", "--config", broken}, "not a JSON stream configuration"},
		{[]string{"S", "--config", filepath.Join(t.TempDir(), "none.json")}, "no such file"},
		{[]string{"S", "--storage", "tape"}, `--storage must be file or memory, not "tape"`},
		{[]string{"S", "--retention", "forever"}, "--retention must be limits, interest or workqueue"},
		{[]string{"S", "--discard", "both"}, "--discard must be old or new"},
		{[]string{"S", "--compression", "zstd"}, "--compression must be none or s2"},
		{[]string{"S", "--max-msg-size", "4GB"}, "--max-msg-size 4294967296 is above"},
		{[]string{"S", "--max-bytes", "12XB"}, "invalid size"},
		{[]string{"S", "--max-age", "soon"}, "not a duration"},
		{[]string{"S", "--max-msgs", "-2"}, "--max-msgs must be -1 (unlimited) or more"},
		{[]string{"S", "--replicas", "0"}, "--replicas must be at least 1"},
		{[]string{"S", "--subjects", " , "}, "--subjects must name at least one subject"},
		{[]string{"S", "T"}, `unexpected argument "T"`},
	}
	for _, tt := range tests {
		_, err := addConfig(t, tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestStreamArgErrors checks that mistakes are caught before connecting:
// the server URL points nowhere, so a connection attempt would show up.
func TestStreamArgErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing action"},
		{[]string{"drop"}, `unknown stream action "drop"`},
		{[]string{"info"}, "missing argument"},
		{[]string{"info", "A", "B"}, `unexpected argument "B"`},
		{[]string{"ls", "A"}, `unexpected argument "A"`},
		{[]string{"ls", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"rm", "S"}, "stream rm deletes S and all its messages: add --force to confirm"},
		{[]string{"purge", "S"}, "add --force to confirm"},
		{[]string{"purge", "S", "--seq", "5", "--keep", "1", "--force"}, "cannot be combined"},
		{[]string{"purge", "S", "--keep", "-1", "--force"}, "must not be negative"},
		{[]string{"get", "S"}, "either a sequence or --last-for SUBJECT"},
		{[]string{"get", "S", "0"}, `invalid sequence "0"`},
		{[]string{"get", "S", "x1"}, `invalid sequence "x1"`},
		{[]string{"get", "S", "5", "--last-for", "a"}, "not both"},
		{[]string{"get", "S", "5", "6"}, `unexpected argument "6"`},
		{[]string{"view", "S", "--since", "0"}, "--since must be a sequence from 1"},
		{[]string{"view", "S", "--count", "-1"}, "--count must not be negative"},
		{[]string{"view"}, "missing argument"},
		{[]string{"info", "S", "--timeout", "0s"}, "--timeout must be greater than zero"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "stream", append(tt.args, "-s", "nats://127.0.0.1:1")...)
		if code != 1 || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "see 'starling stream --help'") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one usage line with %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestStreamHelp(t *testing.T) {
	code, out, _ := runCmd(t, "stream", "--help")
	if code != 0 || !strings.Contains(out, "Usage: starling stream <action>") {
		t.Fatalf("stream --help: exit %d\n%s", code, out)
	}
	for _, a := range streamActions {
		if !strings.Contains(out, "  "+a.name+" ") {
			t.Errorf("stream --help does not list %s:\n%s", a.name, out)
		}
		code, aout, errOut := runCmd(t, "stream", a.name, "--help")
		if code != 0 || errOut != "" || !strings.HasPrefix(aout, "Usage: starling stream "+a.name) {
			t.Errorf("stream %s --help: exit %d, stderr %q\n%s", a.name, code, errOut, aout)
		}
	}
	_, out, _ = runCmd(t, "stream", "add", "--help")
	for _, want := range []string{"--subjects LIST", "--storage TYPE", "(default file)", "--max-bytes SIZE", "(default -1)",
		"--max-msgs-per-subject N", "--dupe-window DURATION", "--allow-direct", "--compression ALG", "--config FILE"} {
		if !strings.Contains(out, want) {
			t.Errorf("stream add --help lacks %q:\n%s", want, out)
		}
	}
}
