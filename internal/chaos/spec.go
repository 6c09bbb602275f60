package chaos

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Spec is one server of a cluster as the harness configures it. A
// restart uses the same Spec: same ports, same store directory.
type Spec struct {
	Index       int
	Name        string // server_name
	ClusterName string
	ClientPort  int
	ClusterPort int
	HTTPPort    int
	// Advertise is the address this server tells its peers to dial (the
	// INFO ip field, and so what gossip spreads): an address that refuses
	// connections, so that no route can bypass the proxies.
	Advertise string
	// Routes are the addresses this server dials: the proxies in front of
	// the servers after it.
	Routes   []string
	StoreDir string // JetStream's store; "" leaves JetStream off
	// CompactEntries sets jetstream compact_entries (Starling only; 0
	// leaves the default).
	CompactEntries int

	// Timings of routes and clients alike; 0 leaves the server's default.
	PingInterval  time.Duration
	PingMax       int
	WriteDeadline time.Duration
	// NoClusterTimings leaves the timings out of the cluster block, for
	// nats-server before 2.10, which refuses them there.
	NoClusterTimings bool
	ClusterExtra     string // written as is into the cluster block
}

// Pair is the link between servers I < J: I dials it, through the proxy
// in front of J.
type Pair struct{ I, J int }

func (p Pair) String() string { return fmt.Sprintf("%d-%d", p.I, p.J) }

// Pairs lists the links of a full mesh of n servers, in a fixed order.
func Pairs(n int) []Pair {
	var out []Pair
	for i := range n {
		for j := i + 1; j < n; j++ {
			out = append(out, Pair{i, j})
		}
	}
	return out
}

// Pair returns the link between servers a and b, in either order.
func PairOf(a, b int) Pair {
	if a > b {
		a, b = b, a
	}
	return Pair{a, b}
}

// Config renders the Spec as a nats-server style configuration file.
// connect_retries is 0: a route learned by gossip (to the refusing
// Advertise address) is tried once and forgotten.
func (s *Spec) Config() string {
	var b strings.Builder
	kv := func(indent, key, val string) { fmt.Fprintf(&b, "%s%s: %s\n", indent, key, val) }
	kv("", "server_name", quote(s.Name))
	kv("", "listen", quote(hostPort(s.ClientPort)))
	kv("", "http", quote(hostPort(s.HTTPPort)))
	s.timings(kv, "")
	b.WriteString("cluster {\n")
	kv("  ", "name", quote(s.ClusterName))
	kv("  ", "listen", quote(hostPort(s.ClusterPort)))
	kv("  ", "advertise", quote(s.Advertise))
	kv("  ", "connect_retries", "0")
	if !s.NoClusterTimings {
		s.timings(kv, "  ")
	}
	if s.ClusterExtra != "" {
		b.WriteString("  " + s.ClusterExtra + "\n")
	}
	b.WriteString("  routes: [\n")
	for _, r := range s.Routes {
		fmt.Fprintf(&b, "    %s\n", quote("nats-route://"+r))
	}
	b.WriteString("  ]\n}\n")
	if s.StoreDir != "" {
		b.WriteString("jetstream {\n")
		kv("  ", "store_dir", quote(s.StoreDir))
		if s.CompactEntries > 0 {
			kv("  ", "compact_entries", strconv.Itoa(s.CompactEntries))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// timings writes the Spec's timings, each only when set.
func (s *Spec) timings(kv func(indent, key, val string), indent string) {
	if s.PingInterval > 0 {
		kv(indent, "ping_interval", quote(s.PingInterval.String()))
	}
	if s.PingMax > 0 {
		kv(indent, "ping_max", strconv.Itoa(s.PingMax))
	}
	if s.WriteDeadline > 0 {
		kv(indent, "write_deadline", quote(s.WriteDeadline.String()))
	}
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// quote writes a string the configuration format reads back as is: in
// double quotes, with backslashes and quotes escaped.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// ClientURL is the URL nats.go dials for this server.
func (s *Spec) ClientURL() string { return "nats://" + hostPort(s.ClientPort) }

// MonitorURL is the base URL of the monitoring endpoints.
func (s *Spec) MonitorURL() string { return "http://" + hostPort(s.HTTPPort) }
