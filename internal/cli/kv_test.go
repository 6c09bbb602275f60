package cli

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestKVAddConfig(t *testing.T) {
	tests := []struct {
		args []string
		want jetstream.KeyValueConfig
	}{
		{nil, jetstream.KeyValueConfig{Bucket: "B", History: 1, MaxValueSize: -1, MaxBytes: -1, Storage: jetstream.FileStorage}},
		{[]string{"--history", "64", "--ttl", "1h", "--max-value-size", "1KiB", "--max-bytes", "1GB", "--storage", "memory"},
			jetstream.KeyValueConfig{Bucket: "B", History: 64, TTL: time.Hour, MaxValueSize: 1024, MaxBytes: 1 << 30, Storage: jetstream.MemoryStorage}},
	}
	for _, tt := range tests {
		var o kvAddOpts
		f := newFlagSet("kv add", "<bucket>", "")
		o.flags(f)
		if _, err := f.parse(tt.args); err != nil {
			t.Fatal(err)
		}
		got, err := o.config("B")
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, %v\nwant %+v", tt.args, got, err, tt.want)
		}
	}
}

// TestKVArgErrors checks that mistakes are caught before connecting: the
// server URL points nowhere, so a connection attempt would show up.
func TestKVArgErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing action"},
		{[]string{"set"}, `unknown kv action "set"`},
		{[]string{"add"}, "missing argument: usage: starling kv add [flags] <bucket>"},
		{[]string{"add", "B", "--history", "0"}, "--history must be from 1 to 64"},
		{[]string{"add", "B", "--history", "65"}, "--history must be from 1 to 64"},
		{[]string{"add", "B", "--storage", "tape"}, "--storage must be file or memory"},
		{[]string{"add", "B", "--max-value-size", "3GB"}, "--max-value-size 3221225472 is above"},
		{[]string{"add", "B", "--ttl", "soon"}, "not a duration"},
		{[]string{"put", "B"}, "missing argument"},
		{[]string{"put", "B", "k"}, "kv put needs a value argument or piped stdin"},
		{[]string{"put", "B", "k", "v", "w"}, `unexpected argument "w"`},
		{[]string{"get", "B", "k", "--revision", "-1"}, "--revision must not be negative"},
		{[]string{"del", "B"}, "missing argument"},
		{[]string{"purge", "B", "k"}, "kv purge removes k and its history: add --force to confirm"},
		{[]string{"ls", "A", "B"}, `unexpected argument "B"`},
		{[]string{"watch"}, "missing argument"},
		{[]string{"watch", "B", "--count", "-1"}, "--count must not be negative"},
		{[]string{"history", "B"}, "missing argument"},
		{[]string{"rm", "B"}, "kv rm deletes bucket B and all its keys: add --force to confirm"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "kv", append(tt.args, "-s", "nats://127.0.0.1:1")...)
		if code != 1 || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "see 'starling kv --help'") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one usage line with %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestKVHelp(t *testing.T) {
	code, out, _ := runCmd(t, "kv", "--help")
	if code != 0 || !strings.Contains(out, "Usage: starling kv <action>") {
		t.Fatalf("kv --help: exit %d\n%s", code, out)
	}
	for _, a := range kvActions {
		code, aout, errOut := runCmd(t, "kv", a.name, "--help")
		if code != 0 || errOut != "" || !strings.HasPrefix(aout, "Usage: starling kv "+a.name) {
			t.Errorf("kv %s --help: exit %d, stderr %q\n%s", a.name, code, errOut, aout)
		}
	}
}

// entry is a KeyValueEntry without a server.
type entry struct {
	key, value string
	rev        uint64
	op         jetstream.KeyValueOp
}

func (e entry) Bucket() string                  { return "B" }
func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return []byte(e.value) }
func (e entry) Revision() uint64                { return e.rev }
func (e entry) Created() time.Time              { return testNow.Add(time.Duration(e.rev) * time.Second) }
func (e entry) Delta() uint64                   { return 0 }
func (e entry) Operation() jetstream.KeyValueOp { return e.op }

func TestKVHistoryTable(t *testing.T) {
	hist := []jetstream.KeyValueEntry{
		entry{"color", "blue\n", 1, jetstream.KeyValuePut},
		entry{"color", "", 2, jetstream.KeyValueDelete},
		entry{"color", "green", 3, jetstream.KeyValuePut},
	}
	want := "" +
		"REVISION  OP   CREATED               LENGTH  VALUE\n" +
		"1         PUT  2026-11-22T17:00:01Z  5       blue\n" +
		"2         DEL  2026-11-22T17:00:02Z  0\n" +
		"3         PUT  2026-11-22T17:00:03Z  5       green\n"
	if got := kvHistoryTable(hist); got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

var errStalled = errors.New("stalled")

// TestPrintWatch drives the watch loop with a channel: the current values,
// the nil marker, then updates; --count stops it, and a stall before the
// marker (but not after it) is an error.
func TestPrintWatch(t *testing.T) {
	stalled := func() error { return errStalled }
	feed := func(entries ...jetstream.KeyValueEntry) chan jetstream.KeyValueEntry {
		ch := make(chan jetstream.KeyValueEntry, len(entries))
		for _, e := range entries {
			ch <- e
		}
		return ch
	}
	ctx := context.Background()
	var b strings.Builder
	ch := feed(entry{"a", "1\n", 1, jetstream.KeyValuePut}, nil, entry{"b", "", 2, jetstream.KeyValuePurge}, entry{"c", "3", 3, jetstream.KeyValuePut})
	if err := printWatch(ctx, &b, ch, 2, time.Second, stalled); err != nil || b.String() != "[1] PUT a 1\n[2] PURGE b\n" {
		t.Errorf("count 2: %v %q", err, b.String())
	}
	b.Reset()
	ch = feed(entry{"a", "1", 1, jetstream.KeyValuePut})
	if err := printWatch(ctx, &b, ch, 0, 20*time.Millisecond, stalled); !errors.Is(err, errStalled) || b.String() != "[1] PUT a 1\n" {
		t.Errorf("stall before the marker: %v %q", err, b.String())
	}
	b.Reset()
	ch = feed(nil)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := printWatch(cctx, &b, ch, 0, 10*time.Millisecond, stalled); err != nil || b.String() != "" {
		t.Errorf("quiet after the marker until cancelled: %v %q", err, b.String())
	}
	ch = feed(entry{"a", "1", 1, jetstream.KeyValuePut})
	close(ch)
	if err := printWatch(ctx, &b, ch, 0, time.Second, stalled); err != nil || b.String() != "[1] PUT a 1\n" {
		t.Errorf("closed channel: %v %q", err, b.String())
	}
}
