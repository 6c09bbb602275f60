package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// clusterOpts are the flags --cluster uses.
type clusterOpts struct {
	starling, natsServer string
	rounds               int
	scale                float64
	only, raw            string
	logDir               string        // keep the servers' output here
	profileDir           string        // write Starling CPU profiles here
	profileFor           time.Duration // per scenario
	leader               string        // R3 loads: where the stream leader is put (leaderAny, leaderLocal, leaderRemote)
}

// runClusterCompare starts both clusters, runs every scenario on each,
// alternating which goes first, and prints the medians. Every server it
// started is stopped before it returns, whatever happened.
func runClusterCompare(o clusterOpts) (err error) {
	dir, err := os.MkdirTemp("", "compare-cluster-")
	if err != nil {
		return err
	}
	if o.logDir != "" {
		if err := os.MkdirAll(o.logDir, 0o755); err != nil {
			return err
		}
	}
	defer os.RemoveAll(dir)
	var clusters []*cluster
	defer func() {
		for _, c := range clusters {
			c.stop()
		}
	}()
	for _, k := range []struct{ kind, bin string }{{"starling", o.starling}, {"nats-server", o.natsServer}} {
		c, err := startCluster(clusterSpec{kind: k.kind, bin: k.bin, dir: dir, logDir: o.logDir,
			profile: k.kind == "starling" && o.profileDir != ""})
		if c != nil {
			clusters = append(clusters, c)
		}
		if err != nil {
			return fmt.Errorf("%s cluster: %w", k.kind, err)
		}
	}
	fmt.Printf("# cluster of %d, %d rounds on %d CPUs, %s; starling=%s nats-server=%s\n",
		clusterSize, o.rounds, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339),
		version(o.starling, "--version"), version(o.natsServer, "--version"))

	var list []clusterScenario
	for _, sc := range clusterScenarios(o.scale) {
		if selected(sc.name, o.only) {
			list = append(list, sc)
		}
	}
	ctx := context.Background()
	rows := make([]row, len(list))
	for i, sc := range list {
		rows[i] = row{name: sc.name, metric: sc.metric(), args: sc.args()}
	}
	run := 0
	for r := range o.rounds {
		for i, sc := range list {
			order := []int{0, 1}
			if (r+i)%2 == 1 {
				order = []int{1, 0} // alternate who goes first
			}
			for _, k := range order {
				run++
				m := &rows[i].starling
				if k == 1 {
					m = &rows[i].nats
				}
				res, err := runClusterLoad(ctx, clusters[k].urls(), sc, run)
				if err != nil {
					// A lost message or a cut route is a result, not a
					// reason to stop: it is counted and shown in the table.
					// The cluster must have healed before the next run.
					fmt.Fprintf(os.Stderr, "round %d/%d  %-52s %-11s FAILED: %v\n", r+1, o.rounds, sc.name, clusters[k].kind, err)
					m.Failed = append(m.Failed, err.Error())
					if err := clusters[k].waitMesh(30 * time.Second); err != nil {
						return fmt.Errorf("after round %d, %s on %s: %w", r+1, sc.name, clusters[k].kind, err)
					}
					continue
				}
				m.record(sc, res)
				fmt.Fprintf(os.Stderr, "round %d/%d  %-52s %-11s %s\n", r+1, o.rounds, sc.name, clusters[k].kind, res.summary(sc))
			}
		}
	}
	printTable(rows)
	if o.raw != "" {
		writeRaw(o.raw, rows)
	}
	if o.profileDir != "" {
		profiled := make([]profiledScenario, len(list))
		for i, sc := range list {
			profiled[i] = profiledScenario{sc.name, func(run int) error {
				_, err := runClusterLoad(ctx, clusters[0].urls(), sc, run)
				return err
			}}
		}
		return profileScenarios(clusters[0], profiled, o, &run)
	}
	return nil
}

func (m *meas) record(sc clusterScenario, res *loadResult) {
	if sc.request {
		m.P50 = append(m.P50, res.p50)
		m.P99 = append(m.P99, res.p99)
		return
	}
	m.Tput = append(m.Tput, res.tput)
}

func (r *loadResult) summary(sc clusterScenario) string {
	if sc.request {
		return fmt.Sprintf("p50 %.0f µs  p99 %.0f µs", r.p50, r.p99)
	}
	s := thousands(r.tput) + " msgs/s"
	if sc.queue {
		s += fmt.Sprintf("  per member %v", r.perSub)
	}
	return s
}

// maxProfileRuns bounds the runs of one scenario while it is profiled.
const maxProfileRuns = 1000

// profiledScenario is a scenario to profile: its name and one run of it
// on the Starling cluster.
type profiledScenario struct {
	name string
	run  func(run int) error
}

// profileScenarios records, for each scenario, a CPU profile of every
// Starling member over o.profileFor while the scenario runs again and
// again on the Starling cluster. The files are <dir>/<n>-<member>.pprof.
func profileScenarios(c *cluster, list []profiledScenario, o clusterOpts, run *int) error {
	if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
		return err
	}
	secs := max(1, int(o.profileFor/time.Second))
	hc := &http.Client{Timeout: o.profileFor + 30*time.Second}
	for i, sc := range list {
		var wg sync.WaitGroup
		errs := make([]error, len(c.members))
		for j, m := range c.members {
			path := filepath.Join(o.profileDir, fmt.Sprintf("%d-%s.pprof", i+1, m.name))
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[j] = fetchProfile(hc, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", m.profileAddr, secs), path)
			}()
		}
		end := time.Now().Add(time.Duration(secs) * time.Second)
		runs := 0
		for ; runs < maxProfileRuns && time.Now().Before(end); runs++ {
			*run++
			if err := sc.run(*run); err != nil {
				// Profiled all the same: a failing scenario is the one
				// whose profile matters most.
				fmt.Fprintf(os.Stderr, "profile %d: %s: run FAILED: %v\n", i+1, sc.name, err)
				if err := c.waitMesh(30 * time.Second); err != nil {
					wg.Wait()
					return fmt.Errorf("profiling %s: %w", sc.name, err)
				}
			}
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("profiling %s: %w", sc.name, err)
		}
		fmt.Fprintf(os.Stderr, "profile %d: %s (%d runs in %d s) -> %s/%d-*.pprof\n", i+1, sc.name, runs, secs, o.profileDir, i+1)
	}
	return nil
}

func fetchProfile(hc *http.Client, url, path string) error {
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
