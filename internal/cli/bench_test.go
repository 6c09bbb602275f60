package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// runBenchJSON runs bench --json and decodes its summary.
func runBenchJSON(t *testing.T, url string, args ...string) benchJSON {
	t.Helper()
	code, stdout, stderr := runCmd(t, "bench", append([]string{"-s", url, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, stderr)
	}
	var j benchJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("bench --json output is not the documented JSON: %v\n%s", err, stdout)
	}
	return j
}

func clientMsgs(g *groupJSON) (sum int64, each []int64) {
	for _, c := range g.Clients {
		sum += c.Msgs
		each = append(each, c.Msgs)
	}
	return sum, each
}

func TestBenchPubSubCountsAreExact(t *testing.T) {
	url := startServer(t)
	j := runBenchJSON(t, url, "b.ps", "--pub", "2", "--sub", "2", "--msgs", "2000", "--size", "16B")
	if j.Scenario != "pubsub" || j.Msgs != 2000 || j.Size != 16 || j.Pubs != 2 || j.Subs != 2 || j.LatencyUS != nil {
		t.Errorf("header: %+v", j)
	}
	if j.Pub == nil || j.Sub == nil {
		t.Fatalf("missing groups: %+v", j)
	}
	if sum, each := clientMsgs(j.Pub); j.Pub.Msgs != 2000 || sum != 2000 || each[0] != 1000 || each[1] != 1000 {
		t.Errorf("pub msgs %d, clients %v", j.Pub.Msgs, each)
	}
	if _, each := clientMsgs(j.Sub); j.Sub.Msgs != 4000 || each[0] != 2000 || each[1] != 2000 {
		t.Errorf("sub msgs %d, clients %v", j.Sub.Msgs, each)
	}
	if j.Overall.Msgs != 6000 || j.Overall.Bytes != 6000*16 {
		t.Errorf("overall %+v", j.Overall)
	}
	for _, g := range []*groupJSON{j.Pub, j.Sub} {
		if g.MsgsPerSec <= 0 || g.BytesPerSec <= 0 || g.Seconds <= 0 || g.MinMsgsPerSec > g.MaxMsgsPerSec {
			t.Errorf("implausible group stats %+v", g.statJSON)
		}
	}
}

func TestBenchQueueGroupSharesTheMessages(t *testing.T) {
	url := startServer(t)
	j := runBenchJSON(t, url, "b.q", "--pub", "1", "--sub", "3", "--queue", "grp", "--msgs", "3000", "--size", "1KB")
	if j.Queue != "grp" || j.Size != 1024 {
		t.Errorf("header: %+v", j)
	}
	sum, each := clientMsgs(j.Sub)
	if j.Sub.Msgs != 3000 || sum != 3000 || len(each) != 3 {
		t.Errorf("queue group received %d (clients %v), want 3000 in total", j.Sub.Msgs, each)
	}
	if j.Pub.Msgs != 3000 || j.Overall.Msgs != 6000 {
		t.Errorf("pub %d, overall %d", j.Pub.Msgs, j.Overall.Msgs)
	}
}

func TestBenchRequestLatency(t *testing.T) {
	url := startServer(t)
	j := runBenchJSON(t, url, "b.rr", "--request", "--pub", "2", "--reply", "2", "--msgs", "300", "--size", "32")
	if j.Scenario != "request" || j.Pubs != 2 || j.Subs != 2 || j.Queue != defaultBenchQueue {
		t.Errorf("header: %+v", j)
	}
	l := j.LatencyUS
	if l == nil || l.Count != 300 {
		t.Fatalf("latency %+v", l)
	}
	if !(l.Min > 0 && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max && l.Avg >= l.Min && l.Avg <= l.Max) {
		t.Errorf("percentiles out of order: %+v", l)
	}
	if j.Pub.Msgs != 300 || j.Sub.Msgs != 300 {
		t.Errorf("requests %d, answered %d", j.Pub.Msgs, j.Sub.Msgs)
	}
}

func TestBenchTextReport(t *testing.T) {
	url := startServer(t)
	tests := []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"pub and sub", []string{"--pub", "1", "--sub", "1", "--msgs", "1000"},
			[]string{"Starting pub/sub benchmark [subject=b.t, msgs=1,000, size=128 B, pubs=1, subs=1]\n", "\nNATS Pub/Sub stats: ", "\n Pub stats: ", "\n Sub stats: "}, nil},
		{"publishers only", []string{"--pub", "2", "--msgs", "1000", "--no-progress"},
			[]string{"\nPub stats: ", "\n [2] ", "\n min "}, []string{"Sub stats", "NATS Pub/Sub"}},
		{"request", []string{"--request", "--msgs", "100"},
			[]string{"Starting request/reply benchmark", "NATS Request/Reply stats: ", " Latency over 100 requests (microseconds):", "p99.9"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "bench", append([]string{"-s", url, "b.t"}, tc.args...)...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("report lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(stdout, w) {
					t.Errorf("report has %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestBenchRequestWithoutResponders(t *testing.T) {
	url := startServer(t)
	code, _, stderr := runCmd(t, "bench", "-s", url, "b.none", "--request", "--reply", "0", "--msgs", "10", "--json")
	if code != 1 || !strings.Contains(stderr, "no responders") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A subscriber-only bench waits for outside publishers; when they stop
// short it must fail with the counts, not hang or report a partial run.
func TestBenchStallReportsCounts(t *testing.T) {
	url := startServer(t)
	e, _, _ := testEnv(nil)
	e.stderrTTY = true // the progress line is our sign that subscribers are registered
	b := startCmdEnv(t, e, "bench", "-s", url, "b.stall", "--pub", "0", "--sub", "1", "--msgs", "10", "--stall-timeout", "300ms", "--json")
	waitFor(t, b, "received 0/10")
	if code, _, stderr := runCmd(t, "pub", "-s", url, "b.stall", "x", "--count", "3", "--quiet"); code != 0 {
		t.Fatalf("pub exit %d: %s", code, stderr)
	}
	if code := b.wait(t); code != 1 {
		t.Fatalf("bench exit %d, want 1", code)
	}
	if !strings.Contains(b.stderr.String(), "starling bench: stalled: nothing moved for 300ms: received 3/10 (30.0%)\n") {
		t.Errorf("stderr %q", b.stderr)
	}
	if b.stdout.String() != "" {
		t.Errorf("stdout %q, want no report", b.stdout)
	}
}
