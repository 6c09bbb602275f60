package cli

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixedResult has round numbers so every printed figure can be worked out
// by hand: see the expectations below.
func fixedResult() *benchResult {
	return &benchResult{
		scenario: scenarioPubSub, subject: "bench", msgs: 1500000, size: 16, pubs: 2, subs: 1,
		pubSamples: []sample{
			{msgs: 1000000, bytes: 16000000, start: 0, end: time.Second},                    // 1,000,000/s
			{msgs: 500000, bytes: 8000000, start: 750 * time.Millisecond, end: time.Second}, // 2,000,000/s
		},
		subSamples: []sample{
			{msgs: 1500000, bytes: 24000000, start: 100 * time.Millisecond, end: 1600 * time.Millisecond}, // 1,000,000/s
		},
	}
}

func TestTextReportPubSub(t *testing.T) {
	want := strings.Join([]string{
		// (1.5M + 1.5M) msgs over 0..1.6s; 48 MB over 1.6s = 30,000,000 B/s.
		"NATS Pub/Sub stats: 1,875,000 msgs/sec ~ 28.61 MiB/sec",
		" Pub stats: 1,500,000 msgs/sec ~ 22.89 MiB/sec",
		"  [1] 1,000,000 msgs/sec ~ 15.26 MiB/sec (1,000,000 msgs)",
		"  [2] 2,000,000 msgs/sec ~ 30.52 MiB/sec   (500,000 msgs)",
		"  min 1,000,000 | avg 1,500,000 | max 2,000,000 | stddev 500,000 msgs",
		" Sub stats: 1,000,000 msgs/sec ~ 15.26 MiB/sec",
		"",
	}, "\n")
	if got := textReport(fixedResult()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTextReportSingleGroup(t *testing.T) {
	r := fixedResult()
	r.subSamples, r.subs = nil, 0
	r.pubSamples = r.pubSamples[:1]
	want := "Pub stats: 1,000,000 msgs/sec ~ 15.26 MiB/sec\n"
	if got := textReport(r); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTextReportRequest(t *testing.T) {
	r := &benchResult{
		scenario: scenarioRequest, subject: "rr", msgs: 4, size: 8, pubs: 1, subs: 1,
		pubSamples: []sample{{msgs: 4, bytes: 32, start: 0, end: 2 * time.Millisecond}},
		subSamples: []sample{{msgs: 4, bytes: 32, start: 0, end: 2 * time.Millisecond}},
		latency: &latencyStats{count: 4, min: 10 * time.Microsecond, p50: 20 * time.Microsecond, p90: 30 * time.Microsecond,
			p99: 40 * time.Microsecond, p999: 40 * time.Microsecond, max: 40 * time.Microsecond, avg: 25500 * time.Nanosecond},
	}
	want := strings.Join([]string{
		"NATS Request/Reply stats: 4,000 msgs/sec ~ 31.25 KiB/sec",
		" Request stats: 2,000 msgs/sec ~ 15.62 KiB/sec",
		" Reply stats: 2,000 msgs/sec ~ 15.62 KiB/sec",
		" Latency over 4 requests (microseconds):",
		"   min  p50  p90  p99 p99.9  max  avg",
		"  10.0 20.0 30.0 40.0  40.0 40.0 25.5",
		"",
	}, "\n")
	if got := textReport(r); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONReport(t *testing.T) {
	j := jsonReport(fixedResult())
	if j.Schema != jsonSchema || j.Scenario != "pubsub" || j.Msgs != 1500000 || j.Size != 16 || j.Pubs != 2 || j.Subs != 1 {
		t.Errorf("header fields: %+v", j)
	}
	if j.Overall.Msgs != 3000000 || j.Overall.Seconds != 1.6 || j.Overall.MsgsPerSec != 1875000 || j.Overall.BytesPerSec != 30000000 {
		t.Errorf("overall = %+v", j.Overall)
	}
	if j.Pub == nil || j.Pub.Msgs != 1500000 || j.Pub.MsgsPerSec != 1500000 || len(j.Pub.Clients) != 2 {
		t.Fatalf("pub = %+v", j.Pub)
	}
	if c := j.Pub.Clients[1]; c.ID != 2 || c.Msgs != 500000 || c.MsgsPerSec != 2000000 || c.Seconds != 0.25 {
		t.Errorf("pub client 2 = %+v", c)
	}
	if j.Pub.MinMsgsPerSec != 1000000 || j.Pub.AvgMsgsPerSec != 1500000 || j.Pub.MaxMsgsPerSec != 2000000 || j.Pub.StddevMsgsPerSec != 500000 {
		t.Errorf("pub rate stats = %+v", j.Pub)
	}
	if j.Sub == nil || j.Sub.Msgs != 1500000 || j.LatencyUS != nil {
		t.Errorf("sub = %+v, latency = %+v", j.Sub, j.LatencyUS)
	}
}

// The key names are an interface for scripts: pin them.
func TestJSONKeys(t *testing.T) {
	r := fixedResult()
	r.latency = &latencyStats{count: 1, min: 1500 * time.Nanosecond}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(jsonReport(r)); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	keys := func(v any) []string {
		var k []string
		for key := range v.(map[string]any) {
			k = append(k, key)
		}
		slices.Sort(k)
		return k
	}
	checks := []struct {
		name string
		v    any
		want []string
	}{
		{"top", m, []string{"latency_us", "msgs", "overall", "pub", "pubs", "queue", "scenario", "schema", "size", "sub", "subject", "subs"}},
		{"overall", m["overall"], []string{"bytes", "bytes_per_sec", "msgs", "msgs_per_sec", "seconds"}},
		{"pub", m["pub"], []string{"avg_msgs_per_sec", "bytes", "bytes_per_sec", "clients", "max_msgs_per_sec", "min_msgs_per_sec", "msgs", "msgs_per_sec", "seconds", "stddev_msgs_per_sec"}},
		{"client", m["pub"].(map[string]any)["clients"].([]any)[0], []string{"bytes", "bytes_per_sec", "id", "msgs", "msgs_per_sec", "seconds"}},
		{"latency", m["latency_us"], []string{"avg", "count", "max", "min", "p50", "p90", "p99", "p99_9"}},
	}
	for _, c := range checks {
		if got := keys(c.v); !slices.Equal(got, c.want) {
			t.Errorf("%s keys = %q, want %q", c.name, got, c.want)
		}
	}
	if got := m["latency_us"].(map[string]any)["min"]; got != 1.5 {
		t.Errorf("latency min = %v µs, want 1.5", got)
	}
	r.subSamples = nil
	buf.Reset()
	if err := json.NewEncoder(&buf).Encode(jsonReport(r)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"sub":null`) {
		t.Errorf("a group that did not run must be null: %s", buf.String())
	}
}

func TestAlignRows(t *testing.T) {
	got := alignRows([][]string{{"a", "bbb"}, {"cc", "d"}})
	want := []string{" a bbb", "cc   d"}
	if !slices.Equal(got, want) {
		t.Errorf("alignRows = %q, want %q", got, want)
	}
}

func TestBenchBanner(t *testing.T) {
	tests := []struct {
		o    benchOpts
		want string
	}{
		{benchOpts{subject: "b", msgs: 100000, size: 128, pubs: 1, subs: 2},
			"Starting pub/sub benchmark [subject=b, msgs=100,000, size=128 B, pubs=1, subs=2]"},
		{benchOpts{subject: "b", msgs: 10, size: 1024, pubs: 1, subs: 3, queue: "q"},
			"Starting pub/sub benchmark [subject=b, msgs=10, size=1,024 B, pubs=1, subs=3, queue=q]"},
		{benchOpts{subject: "r", msgs: 5, size: 0, pubs: 2, request: true, replies: 3},
			"Starting request/reply benchmark [subject=r, msgs=5, size=0 B, requesters=2, responders=3]"},
		{benchOpts{subject: "r", msgs: 5, size: 0, pubs: 1, request: true, replies: 1, queue: "mine"},
			"Starting request/reply benchmark [subject=r, msgs=5, size=0 B, requesters=1, responders=1]"},
	}
	for _, tc := range tests {
		if got := benchBanner(&tc.o); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	lines := []struct {
		done, want int64
		line       string
	}{
		{1234, 2000, "received 1,234/2,000 (61.7%)"},
		{2999296, 3000000, "received 2,999,296/3,000,000 (99.9%)"},
		{3000000, 3000000, "received 3,000,000/3,000,000 (100.0%)"},
		{0, 10, "received 0/10 (0.0%)"},
	}
	for _, l := range lines {
		if got := countLine("received", l.done, l.want); got != l.line {
			t.Errorf("countLine = %q, want %q", got, l.line)
		}
	}
	var buf bytes.Buffer
	p := newProgress(&buf, true)
	p.draw("long line")
	p.draw("short")
	p.clear()
	if want := "\rlong line\rshort    \r         \r"; buf.String() != want {
		t.Errorf("progress wrote %q, want %q", buf.String(), want)
	}
	buf.Reset()
	off := newProgress(&buf, false)
	off.draw("x")
	off.clear()
	if buf.Len() != 0 {
		t.Errorf("disabled progress wrote %q", buf.String())
	}
}
