package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// --js --cluster: replicated (R3) JetStream on three-server clusters of
// each kind, JetStream on in every member. Each run creates its own stream
// (num_replicas 3, file storage) through member A, loads it for a few
// seconds at most, and deletes it. The leader-election scenario kills
// members with SIGKILL and restarts them (r3failover.go).
//
// A side that cannot create a replicated stream at all (Starling refuses
// num_replicas > 1 until clustered JetStream is in) is reported as
// "n/a: <error>" for that scenario, and the run goes on with the other side.

// r3Kind is what a scenario measures.
type r3Kind int

const (
	r3AsyncPub r3Kind = iota // PublishAsync, 256 acks outstanding
	r3SyncPub                // one publish at a time
	r3Pull                   // a durable pull consumer fetching and acking
	r3Failover               // SIGKILL a leader, time until it is replaced
)

// r3Scenario is one replicated-stream load. Its rows are the lines it adds
// to the table, in the order its results list their values.
type r3Scenario struct {
	name string
	kind r3Kind
	size int
	msgs int // at most; a load also stops after r3LoadFor
}

// r3Row is one line of a scenario in the table.
type r3Row struct {
	suffix string // appended to the scenario's name
	metric string // "throughput" or "latency"
}

// Bounds of the R3 scenarios.
const (
	r3LoadFor      = 3 * time.Second  // load time of one run
	r3FillFor      = 10 * time.Second // filling the stream for the pull consumer
	r3ReadyTimeout = 30 * time.Second // JetStream answering after start
	r3Inflight     = 256
	r3Batch        = 100 // pull consumer fetch size
)

func r3Scenarios(scale float64) []r3Scenario {
	n := func(base int) int { return max(500, int(float64(base)*scale)) }
	return []r3Scenario{
		{name: "R3 JetStream async publish (256 in flight), 128 B", kind: r3AsyncPub, size: 128, msgs: n(500_000)},
		{name: "R3 JetStream sync publish (1 in flight), 128 B", kind: r3SyncPub, size: 128, msgs: n(50_000)},
		{name: "R3 JetStream pull consumer, explicit acks, batch 100, 128 B", kind: r3Pull, size: 128, msgs: n(100_000)},
		{name: "R3 JetStream leader election after SIGKILL", kind: r3Failover, size: 128},
	}
}

func (sc r3Scenario) rows() []r3Row {
	switch sc.kind {
	case r3SyncPub:
		return []r3Row{{"", "throughput"}, {"", "latency"}}
	case r3AsyncPub, r3Pull:
		return []r3Row{{"", "throughput"}, {", the servers' CPU time per message", "cpu"}}
	case r3Failover:
		return []r3Row{
			{": stream leader killed, until a publish is acked", "latency"},
			{": meta leader killed, until a new meta leader", "latency"},
		}
	}
	return []r3Row{{"", "throughput"}}
}

// args describes the scenario for --raw.
func (sc r3Scenario) args() map[string]any {
	a := map[string]any{"replicas": 3, "storage": "file", "size": sc.size}
	switch sc.kind {
	case r3AsyncPub:
		a["inflight"], a["msgs_at_most"], a["seconds_at_most"] = r3Inflight, sc.msgs, r3LoadFor.Seconds()
	case r3SyncPub:
		a["inflight"], a["msgs_at_most"], a["seconds_at_most"] = 1, sc.msgs, r3LoadFor.Seconds()
	case r3Pull:
		a["batch"], a["msgs_at_most"], a["seconds_at_most"] = r3Batch, sc.msgs, r3LoadFor.Seconds()
	case r3Failover:
		a["kills"] = failoverKills
	}
	return a
}

// r3Value is one row's figure from one run; ok is false when the run did
// not measure it (no kill of that kind happened).
type r3Value struct {
	ok       bool
	tput     float64 // msgs/s
	p50, p99 float64 // µs
}

// setupError marks a failure to set a run up (no JetStream, no replicated
// stream): the side cannot run the scenario at all, which is reported as
// n/a rather than as a failed round.
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// runR3Compare starts a JetStream cluster of each kind and runs the R3
// scenarios on both, alternating which goes first. Every server it started
// is stopped before it returns.
func runR3Compare(o clusterOpts) error {
	dir, err := os.MkdirTemp("", "compare-r3-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.logDir != "" {
		if err := os.MkdirAll(o.logDir, 0o755); err != nil {
			return err
		}
	}
	sides := []*r3Side{{kind: "starling", bin: o.starling, profile: o.profileDir != ""}, {kind: "nats-server", bin: o.natsServer}}
	defer func() {
		for _, s := range sides {
			if s.c != nil {
				s.c.stop()
			}
		}
	}()
	for _, s := range sides {
		s.start(dir, o.logDir)
		if s.na != "" {
			fmt.Fprintf(os.Stderr, "%s: n/a: %s\n", s.kind, s.na)
		}
	}
	if sides[0].na != "" && sides[1].na != "" {
		return fmt.Errorf("neither cluster runs JetStream: starling: %s; nats-server: %s", sides[0].na, sides[1].na)
	}
	fmt.Printf("# R3 JetStream, cluster of %d, %d rounds on %d CPUs, %s; starling=%s nats-server=%s\n",
		clusterSize, o.rounds, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339),
		version(o.starling, "--version"), version(o.natsServer, "--version"))

	var list []r3Scenario
	for _, sc := range r3Scenarios(o.scale) {
		if selected(sc.name, o.only) {
			list = append(list, sc)
		}
	}
	ctx := context.Background()
	// na[i][k]: why side k cannot run scenario i, once known.
	na := make([][2]string, len(list))
	results := make([][2][]meas, len(list))
	for i, sc := range list {
		for k, s := range sides {
			results[i][k] = make([]meas, len(sc.rows()))
			na[i][k] = s.na
		}
	}
	run := 0
	for r := range o.rounds {
		for i, sc := range list {
			order := []int{0, 1}
			if (r+i)%2 == 1 {
				order = []int{1, 0} // alternate who goes first
			}
			for _, k := range order {
				if na[i][k] != "" {
					continue
				}
				run++
				vals, err := runR3(ctx, sides[k].c, sc, run, o.leader)
				var se *setupError
				switch {
				case errors.As(err, &se):
					na[i][k] = oneLine(se.Error())
					fmt.Fprintf(os.Stderr, "round %d/%d  %-52s %-11s n/a: %s\n", r+1, o.rounds, sc.name, sides[k].kind, na[i][k])
				case err != nil:
					fmt.Fprintf(os.Stderr, "round %d/%d  %-52s %-11s FAILED: %v\n", r+1, o.rounds, sc.name, sides[k].kind, err)
					for j := range results[i][k] {
						results[i][k][j].Failed = append(results[i][k][j].Failed, err.Error())
					}
				default:
					fmt.Fprintf(os.Stderr, "round %d/%d  %-52s %-11s %s\n", r+1, o.rounds, sc.name, sides[k].kind, r3Summary(sc, vals))
					for j, v := range vals {
						results[i][k][j].add(sc.rows()[j].metric, v)
					}
				}
			}
		}
	}
	var rows []row
	for i, sc := range list {
		for j, rw := range sc.rows() {
			s, n := results[i][0][j], results[i][1][j]
			s.NA, n.NA = na[i][0], na[i][1]
			rows = append(rows, row{name: sc.name + rw.suffix, metric: rw.metric, args: sc.args(), starling: s, nats: n})
		}
	}
	printTable(rows)
	if o.raw != "" {
		writeRaw(o.raw, rows)
	}
	if o.profileDir != "" && sides[0].na == "" {
		profiled := make([]profiledScenario, len(list))
		for i, sc := range list {
			profiled[i] = profiledScenario{sc.name, func(run int) error {
				_, err := runR3(ctx, sides[0].c, sc, run, o.leader)
				return err
			}}
		}
		return profileScenarios(sides[0].c, profiled, o, &run)
	}
	return nil
}

// r3Side is one kind of cluster; na says why it cannot run at all.
type r3Side struct {
	kind, bin string
	profile   bool // serve pprof (Starling's --profile)
	c         *cluster
	na        string
}

// start starts the side's cluster with JetStream and waits until JetStream
// answers on every member; a failure makes the side n/a.
func (s *r3Side) start(dir, logDir string) {
	c, err := startCluster(clusterSpec{kind: s.kind, bin: s.bin, dir: dir, logDir: logDir, jetstream: true, profile: s.profile})
	s.c = c
	if err == nil {
		err = waitJetStream(context.Background(), c, r3ReadyTimeout)
	}
	if err != nil {
		s.na = oneLine(err.Error())
	}
}

func (m *meas) add(metric string, v r3Value) {
	switch {
	case !v.ok:
	case metric == "latency":
		m.P50 = append(m.P50, v.p50)
		m.P99 = append(m.P99, v.p99)
	case metric == "cpu":
		m.P50 = append(m.P50, v.p50)
	default:
		m.Tput = append(m.Tput, v.tput)
	}
}

func r3Summary(sc r3Scenario, vals []r3Value) string {
	var parts []string
	for j, rw := range sc.rows() {
		v := vals[j]
		switch {
		case !v.ok:
			parts = append(parts, rw.suffix+" not measured")
		case rw.metric == "latency":
			parts = append(parts, fmt.Sprintf("%sp50 %s  p99 %s", rw.suffix+" ", usString(v.p50), usString(v.p99)))
		case rw.metric == "cpu":
			parts = append(parts, fmt.Sprintf("CPU %s/msg", usString(v.p50)))
		default:
			parts = append(parts, thousands(v.tput)+" msgs/s")
		}
	}
	return strings.TrimSpace(strings.Join(parts, "; "))
}

// usString prints µs, switching to ms for the election times.
func usString(us float64) string {
	if us >= 10_000 {
		return strconv.FormatFloat(us/1000, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(us, 'f', 0, 64) + " µs"
}

// runR3 runs sc once on c, bounded in time.
func runR3(ctx context.Context, c *cluster, sc r3Scenario, run int, leader string) ([]r3Value, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	if sc.kind == r3Failover {
		return runFailover(ctx, c, sc, run)
	}
	return runR3Load(ctx, c, sc, run, leader)
}

// oneLine makes an error fit in a table cell.
func oneLine(s string) string {
	s = strings.NewReplacer("\n", " ", "|", "/").Replace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
