// Command compare runs the same `starling bench` scenarios against Starling
// and nats-server on loopback, alternating between them over several
// rounds, and prints the medians and the ratio Starling / nats-server.
// With --cluster it compares three-server clusters instead (cluster.go),
// and with --js --cluster replicated JetStream streams on them (r3.go).
//
// bench/compare.sh builds the binaries and calls it; see docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/bench/internal/serverproc"
)

// scenario is one `starling bench` invocation and the figure compared.
type scenario struct {
	name   string
	args   []string
	metric string // "throughput" (msgs/s, higher is better) or "latency"
}

func scenarios(scale float64) []scenario {
	n := func(base int) string { return strconv.Itoa(max(1000, int(float64(base)*scale))) }
	return []scenario{
		{"pub only, 16 B", []string{"--pub", "1", "--sub", "0", "--size", "16", "--msgs", n(2_000_000)}, "throughput"},
		{"pub/sub 1:1, 16 B", []string{"--pub", "1", "--sub", "1", "--size", "16", "--msgs", n(1_000_000)}, "throughput"},
		{"fan-out 1:5, 16 B", []string{"--pub", "1", "--sub", "5", "--size", "16", "--msgs", n(400_000)}, "throughput"},
		{"pub/sub 1:1, 1 KiB", []string{"--pub", "1", "--sub", "1", "--size", "1024", "--msgs", n(300_000)}, "throughput"},
		{"queue group 1:3, 16 B", []string{"--pub", "1", "--sub", "3", "--queue", "q", "--size", "16", "--msgs", n(1_000_000)}, "throughput"},
		{"request/reply, 16 B", []string{"--request", "--size", "16", "--msgs", n(20_000)}, "latency"},
	}
}

// jsScenarios publish to a file stream and count acknowledged messages.
func jsScenarios(scale float64) []scenario {
	n := func(base int) string { return strconv.Itoa(max(500, int(float64(base)*scale))) }
	return []scenario{
		{"JetStream sync publish (1 in flight), 128 B", []string{"--js", "--inflight", "1", "--size", "128", "--msgs", n(5_000)}, "throughput"},
		{"JetStream async publish (256 in flight), 128 B", []string{"--js", "--inflight", "256", "--size", "128", "--msgs", n(200_000)}, "throughput"},
		{"JetStream async publish, 4 publishers x 256 in flight, 128 B", []string{"--js", "--pub", "4", "--inflight", "256", "--size", "128", "--msgs", n(200_000)}, "throughput"},
		{"JetStream pull consumer, explicit acks, batch 100, 128 B", []string{"--consume", "pull", "--size", "128", "--msgs", n(200_000)}, "throughput"},
		{"JetStream push consumer, 128 B", []string{"--consume", "push", "--size", "128", "--msgs", n(200_000)}, "throughput"},
		{"KV put, 128 B", []string{"--kv", "put", "--size", "128", "--msgs", n(5_000)}, "throughput"},
		{"KV get, 128 B", []string{"--kv", "get", "--size", "128", "--msgs", n(50_000)}, "throughput"},
	}
}

// result is the part of `starling bench --json` we compare.
type result struct {
	Overall struct {
		MsgsPerSec float64 `json:"msgs_per_sec"`
	} `json:"overall"`
	LatencyUS *struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
	} `json:"latency_us"`
}

type target struct {
	name string
	url  string
	cmd  *exec.Cmd
}

func main() {
	starling := flag.String("starling", "bin/starling", "the starling binary (runs the server and the bench)")
	natsServer := flag.String("nats-server", "nats-server", "the nats-server binary")
	rounds := flag.Int("rounds", 5, "rounds; each runs every scenario on both servers")
	scale := flag.Float64("scale", 1, "multiply message counts (e.g. 0.1 for a quick check)")
	only := flag.String("only", "", "run only scenarios whose name contains this")
	rawOut := flag.String("raw", "", "also write every measurement as JSON to this file")
	natsArgs := flag.String("nats-args", "", "extra arguments for nats-server, space separated (e.g. \"-c always.conf\")")
	js := flag.Bool("js", false, "run the JetStream scenarios (both servers with JetStream on fresh store directories, at their defaults); with --cluster, the R3 stream scenarios")
	clusterMode := flag.Bool("cluster", false, "run the cluster scenarios: three servers of each kind, a full mesh of routes, clients on chosen members")
	profileDir := flag.String("profile", "", "with --cluster (and --js --cluster): afterwards, write CPU profiles of the Starling members for each scenario to this directory")
	logDir := flag.String("logs", "", "with --cluster: keep each server's output in this directory")
	profileFor := flag.Duration("profile-for", 20*time.Second, "with --profile: how long each scenario is profiled")
	leader := flag.String("leader", leaderAny, "with --js --cluster: where each R3 load's stream leader is put before it runs: "+
		"any (wherever it was elected), local (the clients' server, A) or remote (another server); moved by step-downs")
	flag.Parse()
	if *clusterMode {
		if *natsArgs != "" {
			fatal("--cluster takes no --nats-args")
		}
		o := clusterOpts{
			starling: *starling, natsServer: *natsServer, rounds: *rounds, scale: *scale,
			only: *only, raw: *rawOut, logDir: *logDir, profileDir: *profileDir, profileFor: *profileFor,
			leader: *leader,
		}
		if o.leader != leaderAny && o.leader != leaderLocal && o.leader != leaderRemote {
			fatal("--leader must be any, local or remote")
		}
		run := runClusterCompare
		if *js {
			run = runR3Compare // replicated streams (r3.go)
		}
		err := run(o)
		if err != nil {
			fatal("%v", err)
		}
		return
	}
	if *profileDir != "" || *logDir != "" {
		fatal("--profile and --logs are only used with --cluster")
	}

	ctx := context.Background()
	servers := []*target{
		{name: "starling"},
		{name: "nats-server"},
	}
	ports, err := freePorts(2) // distinct: the two servers start together
	if err != nil {
		fatal("free ports: %v", err)
	}
	sargs := []string{"server", "-a", "127.0.0.1", "-p", strconv.Itoa(ports[0])}
	nargs := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(ports[1])}
	all := scenarios(*scale)
	if *js {
		tmp, err := os.MkdirTemp("", "compare-js-")
		if err != nil {
			fatal("temp dir: %v", err)
		}
		defer os.RemoveAll(tmp)
		sargs = append(sargs, "-js", "-sd", filepath.Join(tmp, "starling"))
		nargs = append(nargs, "-js", "-sd", filepath.Join(tmp, "nats-server"))
		all = jsScenarios(*scale)
	}
	servers[0].cmd = exec.Command(*starling, sargs...)
	nargs = append(nargs, strings.Fields(*natsArgs)...)
	servers[1].cmd = exec.Command(*natsServer, nargs...)
	for i, s := range servers {
		s.url = fmt.Sprintf("nats://127.0.0.1:%d", ports[i])
		s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
		if err := s.cmd.Start(); err != nil {
			fatal("start %s: %v", s.name, err)
		}
		defer func() {
			_ = s.cmd.Process.Signal(os.Interrupt)
			_ = s.cmd.Wait()
		}()
		if err := serverproc.WaitListening(ports[i], 10*time.Second); err != nil {
			fatal("%s did not start: %v", s.name, err)
		}
	}
	fmt.Printf("# %d rounds on %d CPUs, %s; starling=%s nats-server=%s\n",
		*rounds, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339), version(*starling, "--version"), version(*natsServer, "--version"))

	var list []scenario
	for _, sc := range all {
		if selected(sc.name, *only) {
			list = append(list, sc)
		}
	}
	// measurements[scenario][server]: index 0 Starling, 1 nats-server.
	measurements := make([][]meas, len(list))
	for i := range measurements {
		measurements[i] = make([]meas, len(servers))
	}
	for r := 0; r < *rounds; r++ {
		for i, sc := range list {
			order := []int{0, 1}
			if (r+i)%2 == 1 {
				order = []int{1, 0} // alternate who goes first
			}
			for _, k := range order {
				res, err := runBench(ctx, *starling, servers[k].url, sc.args)
				if err != nil {
					fatal("round %d, %s on %s: %v", r+1, sc.name, servers[k].name, err)
				}
				m := &measurements[i][k]
				if sc.metric == "latency" && res.LatencyUS != nil {
					m.P50 = append(m.P50, res.LatencyUS.P50)
					m.P99 = append(m.P99, res.LatencyUS.P99)
				} else {
					m.Tput = append(m.Tput, res.Overall.MsgsPerSec)
				}
				fmt.Fprintf(os.Stderr, "round %d/%d  %-24s %-11s %s\n", r+1, *rounds, sc.name, servers[k].name, summary(sc, res))
			}
		}
	}

	rows := make([]row, len(list))
	for i, sc := range list {
		rows[i] = row{name: sc.name, metric: sc.metric, args: sc.args, starling: measurements[i][0], nats: measurements[i][1]}
	}
	printTable(rows)
	if *rawOut != "" {
		writeRaw(*rawOut, rows)
	}
}

// meas holds one scenario's values on one server, one per round: msgs/s,
// or p50 and p99 in µs for latency. Failed holds the errors of rounds that
// produced no value (--cluster records them instead of stopping); NA says
// why the server could not run the scenario at all (--js --cluster).
type meas struct {
	Tput, P50, P99 []float64
	Failed         []string `json:",omitempty"`
	NA             string   `json:",omitempty"`
}

// empty says no round produced a value (a figure only some runs measure).
func (m meas) empty() bool { return len(m.Tput)+len(m.P50) == 0 }

// row is one scenario's measurements on both servers.
type row struct {
	name, metric string
	args         any // what ran, for --raw
	starling     meas
	nats         meas
}

// printTable prints the medians of every row and the ratios, as Markdown.
func printTable(rows []row) {
	fmt.Println()
	fmt.Println("| scenario | Starling | nats-server | ratio Starling / nats-server |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for _, r := range rows {
		a, b := r.starling, r.nats
		if len(a.Failed) > 0 || len(b.Failed) > 0 || a.NA != "" || b.NA != "" || a.empty() || b.empty() {
			printFailed(r)
			continue
		}
		if r.metric == "cpu" {
			fmt.Printf("| %s | %s | %s | %.2f× (lower is better) |\n", r.name, usString(median(a.P50)), usString(median(b.P50)), median(a.P50)/median(b.P50))
			continue
		}
		if r.metric == "latency" {
			fmt.Printf("| %s, p50 latency | %s | %s | %.2f× (lower is better) |\n", r.name, usString(median(a.P50)), usString(median(b.P50)), median(a.P50)/median(b.P50))
			fmt.Printf("| %s, p99 latency | %s | %s | %.2f× (lower is better) |\n", r.name, usString(median(a.P99)), usString(median(b.P99)), median(a.P99)/median(b.P99))
			continue
		}
		fmt.Printf("| %s | %s msgs/s | %s msgs/s | %.2f× |\n", r.name, thousands(median(a.Tput)), thousands(median(b.Tput)), median(a.Tput)/median(b.Tput))
	}
}

// printFailed prints a row in which some rounds failed or a server could
// not run the scenario: the median of the rounds that succeeded, and how
// many failed (or why it is n/a), with no ratio.
func printFailed(r row) {
	cell := func(m meas) string {
		if m.NA != "" {
			return "n/a: " + m.NA
		}
		ok := len(m.Tput) + len(m.P50)
		var s string
		switch {
		case ok == 0:
			s = "no result"
		case r.metric == "latency":
			s = fmt.Sprintf("p50 %s, p99 %s", usString(median(m.P50)), usString(median(m.P99)))
		case r.metric == "cpu":
			s = usString(median(m.P50))
		default:
			s = thousands(median(m.Tput)) + " msgs/s"
		}
		if n := len(m.Failed); n > 0 {
			s += fmt.Sprintf(" (failed %d of %d rounds)", n, n+ok)
		}
		return s
	}
	name := r.name
	if r.metric == "latency" {
		name += ", latency"
	}
	fmt.Printf("| %s | %s | %s | — |\n", name, cell(r.starling), cell(r.nats))
}

// writeRaw writes every measurement as JSON to path.
func writeRaw(path string, rows []row) {
	raw := map[string]any{}
	for _, r := range rows {
		raw[r.name] = map[string]any{"starling": r.starling, "nats-server": r.nats, "args": r.args}
	}
	b, _ := json.MarshalIndent(raw, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		fatal("write %s: %v", path, err)
	}
}

// runBench runs one `starling bench --json` against url, bounded in time.
func runBench(ctx context.Context, starling, url string, args []string) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	full := append([]string{"bench", "compare.bench", "-s", url, "--json", "--no-progress"}, args...)
	cmd := exec.CommandContext(ctx, starling, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	var res result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("bench output: %v: %q", err, out.String())
	}
	return &res, nil
}

func summary(sc scenario, r *result) string {
	if sc.metric == "latency" && r.LatencyUS != nil {
		return fmt.Sprintf("p50 %.0f µs  p99 %.0f µs", r.LatencyUS.P50, r.LatencyUS.P99)
	}
	return thousands(r.Overall.MsgsPerSec) + " msgs/s"
}

// selected says whether --only picks a scenario: a case-insensitive
// substring, so "--only r3" finds the R3 scenarios.
func selected(name, only string) bool {
	return strings.Contains(strings.ToLower(name), strings.ToLower(only))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func version(bin, flagName string) string {
	out, err := exec.Command(bin, flagName).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
	os.Exit(1)
}
