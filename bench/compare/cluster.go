package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/bench/internal/serverproc"
)

// --cluster: three Starling servers and three nats-server servers, each
// trio a full mesh of explicit routes on loopback, all six running for the
// whole comparison. The clients of a scenario connect to chosen members
// (clusterload.go), so what is measured is the route between them.

const clusterSize = 3

// member is one server process of a cluster.
type member struct {
	name        string
	client      int // client port
	monitor     int // HTTP monitoring port
	cmd         *exec.Cmd
	exited      chan struct{} // closed once cmd.Wait returned
	waitErr     error
	clientURL   string
	monitorURL  string
	configPath  string
	profileAddr string // pprof (Starling with --profile), "" = none
	bin         string
	args        []string
	logPath     string // "" = output discarded
}

// cluster is one trio of servers of the same kind.
type cluster struct {
	kind    string // "starling" or "nats-server"
	members []*member
}

func (c *cluster) urls() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.clientURL
	}
	return out
}

// memberConfig is the configuration file of member i of a cluster whose
// route ports are routes: it listens on loopback, serves monitoring, and
// names the other members as explicit routes (so each pair is dialled from
// both sides, and the servers keep one route per pair). A storeDir turns
// JetStream on with its files there; "" leaves it off.
func memberConfig(name string, client, monitor int, routes []int, i int, storeDir string) string {
	var peers []string
	for j, p := range routes {
		if j != i {
			peers = append(peers, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
	}
	conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
cluster {
  name: bench
  listen: 127.0.0.1:%d
  routes: [%s]
}
`, name, client, monitor, routes[i], strings.Join(peers, ", "))
	if storeDir != "" {
		conf += fmt.Sprintf("jetstream {\n  store_dir: %q\n}\n", storeDir)
	}
	return conf
}

// freePorts returns n distinct loopback ports that were free a moment ago:
// every listener stays open until all are taken, so the OS cannot hand out
// the same port twice.
func freePorts(n int) ([]int, error) {
	out := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// clusterSpec says how to start a cluster.
type clusterSpec struct {
	kind, bin string
	dir       string // configurations (and JetStream stores) go here
	logDir    string // keep each member's output in <logDir>/<member>.log
	profile   bool   // give each member a pprof port (Starling's --profile)
	jetstream bool   // JetStream on, a store directory per member
}

// startCluster writes the members' configurations under spec.dir and
// starts them. The caller stops the cluster, also when an error is
// returned.
func startCluster(spec clusterSpec) (*cluster, error) {
	ports, err := freePorts(4 * clusterSize)
	if err != nil {
		return nil, fmt.Errorf("free ports: %w", err)
	}
	c := &cluster{kind: spec.kind}
	routes := ports[clusterSize : 2*clusterSize]
	for i := range clusterSize {
		m := &member{
			name:    fmt.Sprintf("%s-%c", spec.kind, 'a'+i),
			client:  ports[i],
			monitor: ports[2*clusterSize+i],
		}
		m.clientURL = fmt.Sprintf("nats://127.0.0.1:%d", m.client)
		m.monitorURL = fmt.Sprintf("http://127.0.0.1:%d", m.monitor)
		m.configPath = filepath.Join(spec.dir, m.name+".conf")
		storeDir := ""
		if spec.jetstream {
			storeDir = filepath.Join(spec.dir, m.name+"-store")
		}
		conf := memberConfig(m.name, m.client, m.monitor, routes, i, storeDir)
		if err := os.WriteFile(m.configPath, []byte(conf), 0o644); err != nil {
			return c, err
		}
		m.bin, m.args = spec.bin, []string{"-c", m.configPath}
		if spec.kind == "starling" {
			m.args = append([]string{"server"}, m.args...)
			if spec.profile {
				port := ports[3*clusterSize+i]
				m.profileAddr = fmt.Sprintf("http://127.0.0.1:%d", port)
				m.args = append(m.args, "--profile", strconv.Itoa(port))
			}
		}
		if spec.logDir != "" {
			m.logPath = filepath.Join(spec.logDir, m.name+".log")
		}
		if err := m.start(); err != nil {
			return c, err
		}
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		if err := serverproc.WaitListening(m.client, 10*time.Second); err != nil {
			return c, fmt.Errorf("%s did not start: %w", m.name, err)
		}
	}
	return c, c.waitMesh(20 * time.Second)
}

// start runs the member's process; it is called again to restart a member
// that was killed (its log, if kept, is appended to).
func (m *member) start() error {
	m.cmd = exec.Command(m.bin, m.args...)
	m.cmd.Stdout, m.cmd.Stderr = io.Discard, io.Discard
	if m.logPath != "" {
		f, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close() // the child has its own descriptor once started
		m.cmd.Stdout, m.cmd.Stderr = f, f
	}
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", m.name, err)
	}
	cmd, exited := m.cmd, make(chan struct{})
	m.exited = exited
	go func() {
		m.waitErr = cmd.Wait()
		close(exited)
	}()
	return nil
}

// meshSettle is how long every member must keep the same routes before the
// mesh counts as formed. Right after start, servers that dialled each other
// may still swap one route for another (Starling closes the route it
// replaces, with what was queued on it), which is start-up behaviour, not
// the steady state the scenarios measure.
const meshSettle = 2 * time.Second

// waitMesh polls every member's /routez until each has a route to every
// other member and none of the routes changed for meshSettle, or d passes.
func (c *cluster) waitMesh(d time.Duration) error {
	deadline := time.Now().Add(d)
	hc := &http.Client{Timeout: 2 * time.Second}
	var last string
	since := time.Now()
	for {
		state, err := c.routeState(hc)
		if err != nil || state != last {
			last, since = state, time.Now()
		} else if time.Since(since) >= meshSettle {
			return nil
		}
		for _, m := range c.members {
			select {
			case <-m.exited:
				return fmt.Errorf("%s exited: %v", m.name, m.waitErr)
			default:
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no settled full mesh after %v (last: %q, %v)", d, state, err)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
}

// routeState describes the routes of every member ("member: rid rid;
// ..."), or fails while a member lacks a route to every other one. A pair
// of servers may hold several routes (nats-server 2.10 and later pool
// them), so what is counted is the distinct servers at the other ends.
func (c *cluster) routeState(hc *http.Client) (string, error) {
	var b strings.Builder
	for _, m := range c.members {
		rids, peers, err := routeIDs(hc, m.monitorURL)
		if err != nil {
			return "", fmt.Errorf("%s: %w", m.name, err)
		}
		if peers != clusterSize-1 {
			return "", fmt.Errorf("%s: routes to %d servers, want %d", m.name, peers, clusterSize-1)
		}
		fmt.Fprintf(&b, "%s: %v; ", m.name, rids)
	}
	return b.String(), nil
}

// routeIDs reads the route IDs from a server's /routez, sorted (a server
// may list them in any order), and the number of distinct servers they
// lead to.
func routeIDs(hc *http.Client, monitorURL string) ([]uint64, int, error) {
	resp, err := hc.Get(monitorURL + "/routez")
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var rz struct {
		Routes []struct {
			RID      uint64 `json:"rid"`
			RemoteID string `json:"remote_id"`
		} `json:"routes"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&rz); err != nil {
		return nil, 0, err
	}
	out := make([]uint64, len(rz.Routes))
	peers := map[string]bool{}
	for i, r := range rz.Routes {
		out[i] = r.RID
		peers[r.RemoteID] = true
	}
	slices.Sort(out)
	return out, len(peers), nil
}

// stop interrupts every member by its PID and waits up to 10 s for each
// before killing it.
func (c *cluster) stop() {
	for _, m := range c.members {
		_ = m.cmd.Process.Signal(os.Interrupt)
	}
	for _, m := range c.members {
		select {
		case <-m.exited:
		case <-time.After(10 * time.Second):
			_ = m.cmd.Process.Kill()
			<-m.exited
		}
	}
}

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// every Linux configuration this runs on).
const clockTicks = 100

// cpuTime is the CPU time (user and system) the members' processes used
// so far, from /proc: a figure that contention on a shared machine
// disturbs far less than throughput.
func (c *cluster) cpuTime() (time.Duration, error) {
	var total time.Duration
	for _, m := range c.members {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
		if err != nil {
			return 0, err
		}
		// The command name (field 2) may hold spaces; fields after it
		// start at the state (field 3): utime is field 14, stime 15.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			return 0, fmt.Errorf("member %s: malformed /proc stat", m.name)
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			return 0, fmt.Errorf("member %s: short /proc stat", m.name)
		}
		for _, s := range f[11:13] {
			t, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("member %s: /proc stat: %w", m.name, err)
			}
			total += time.Duration(t) * time.Second / clockTicks
		}
	}
	return total, nil
}
