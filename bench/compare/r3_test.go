package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/config"
)

// A member of a JetStream cluster has JetStream on with its own store, in
// the nats-server key Starling's loader reads too; without a store
// directory JetStream stays off.
func TestMemberConfigJetStream(t *testing.T) {
	tests := []struct {
		name, storeDir string
		wantJS         bool
	}{
		{"off", "", false},
		{"on", "/tmp/x/m-store", true},
		{"path with spaces", "/tmp/a b/m-store", true},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "m.conf")
		if err := os.WriteFile(path, []byte(memberConfig("m", 5000, 6000, []int{7001, 7002, 7003}, 0, tt.storeDir)), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if o := cfg.Opts; o.JetStream != tt.wantJS || o.StoreDir != tt.storeDir || o.ServerName != "m" {
			t.Errorf("%s: jetstream %v, store %q, name %q", tt.name, o.JetStream, o.StoreDir, o.ServerName)
		}
	}
}

// "--only r3" picks exactly the R3 scenarios, and each scenario's rows
// have distinct names in the table.
func TestR3ScenariosSelected(t *testing.T) {
	for _, scale := range []float64{1, 0.0001} {
		for _, sc := range r3Scenarios(scale) {
			if !selected(sc.name, "r3") {
				t.Errorf("%q not selected by r3", sc.name)
			}
			if sc.kind != r3Failover && sc.msgs < 500 {
				t.Errorf("scale %v, %s: %d messages", scale, sc.name, sc.msgs)
			}
			seen := map[string]bool{}
			for _, rw := range sc.rows() {
				key := rw.suffix + "/" + rw.metric
				if seen[key] {
					t.Errorf("%s: row %q twice", sc.name, key)
				}
				seen[key] = true
			}
		}
	}
	for _, sc := range scenarios(1) {
		if selected(sc.name, "r3") {
			t.Errorf("single-server scenario %q selected by r3", sc.name)
		}
	}
	for _, sc := range clusterScenarios(1) {
		if selected(sc.name, "r3") {
			t.Errorf("cluster scenario %q selected by r3", sc.name)
		}
	}
}

func TestSelected(t *testing.T) {
	tests := []struct {
		name, only string
		want       bool
	}{
		{"R3 JetStream sync publish", "r3", true},
		{"R3 JetStream sync publish", "R3 JetStream", true},
		{"R3 JetStream sync publish", "", true},
		{"fan-out 1:5, 16 B", "r3", false},
		{"fan-out 1:5, 16 B", "Fan-Out", true},
	}
	for _, tt := range tests {
		if got := selected(tt.name, tt.only); got != tt.want {
			t.Errorf("selected(%q, %q) = %v", tt.name, tt.only, got)
		}
	}
}

func TestPercentiles(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		in       []time.Duration
		want     r3Value
		wantNone bool
	}{
		{"none", nil, r3Value{}, true},
		{"one", []time.Duration{2 * s}, r3Value{ok: true, p50: 2e6, p99: 2e6}, false},
		{"unsorted three", []time.Duration{7 * s, 4 * s, 6 * s}, r3Value{ok: true, p50: 6e6, p99: 7e6}, false},
	}
	for _, tt := range tests {
		got := percentiles(tt.in)
		if got != tt.want || got.ok == tt.wantNone {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// The n/a reason fits in one table cell.
func TestOneLine(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct{ in, want string }{
		{"a\nb", "a b"},
		{"a | b", "a / b"},
		{long, long[:200] + "…"},
	}
	for _, tt := range tests {
		if got := oneLine(tt.in); got != tt.want {
			t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The meta leader is read from /jsz; a server whose /jsz has no
// meta_cluster says so with errNoMetaInfo, and members that disagree are
// not an answer.
func TestAgreedMetaLeader(t *testing.T) {
	serve := func(body string) *member {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprint(w, body)
		}))
		t.Cleanup(srv.Close)
		return &member{name: body, monitorURL: srv.URL}
	}
	a := serve(`{"meta_cluster":{"leader":"a"}}`)
	b := serve(`{"meta_cluster":{"leader":"b"}}`)
	none := serve(`{"meta_cluster":{"leader":""}}`)
	noMeta := serve(`{"memory":0}`)
	tests := []struct {
		name    string
		ms      []*member
		want    string
		wantErr error // nil: any error is fine when want is ""
	}{
		{"agree", []*member{a, a}, "a", nil},
		{"disagree", []*member{a, b}, "", nil},
		{"no leader yet", []*member{none, none}, "", nil},
		{"no meta_cluster", []*member{noMeta}, "", errNoMetaInfo},
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	for _, tt := range tests {
		got, err := agreedMetaLeader(hc, tt.ms)
		if got != tt.want || (tt.want == "" && err == nil) || (tt.want != "" && err != nil) {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// A server that cannot run a scenario shows "n/a: <why>" and no ratio; a
// figure no run measured shows "no result"; the other side keeps its value.
func TestPrintTableNA(t *testing.T) {
	rows := []row{
		{name: "tput", metric: "throughput", starling: meas{NA: "refused"}, nats: meas{Tput: []float64{1000}}},
		{name: "lat", metric: "latency", starling: meas{NA: "refused"}, nats: meas{P50: []float64{500}, P99: []float64{20_000}}},
		{name: "unmeasured", metric: "latency", starling: meas{}, nats: meas{P50: []float64{1}, P99: []float64{2}}},
	}
	out := captureStdout(t, func() { printTable(rows) })
	for _, want := range []string{
		"| tput | n/a: refused | 1,000 msgs/s | — |",
		"| lat, latency | n/a: refused | p50 500 µs, p99 20 ms | — |",
		"| unmeasured, latency | no result | p50 1 µs, p99 2 µs | — |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// captureStdout returns what f prints; the table is printed, not returned.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stdout = saved
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return <-done
}
