package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/server"
)

// Helpers for the cluster tests: servers of both kinds (embedded Starling,
// nats-server processes) as nodes of one cluster, waits that poll with
// generous bounds, and an interest barrier that works the same on both.

// clusterWait bounds every wait for a cluster to form or a message to
// cross it: generous, for a loaded machine running -race.
const clusterWait = 20 * time.Second

// nodeConfig is one server's part in a test cluster.
type nodeConfig struct {
	name        string   // server name
	cluster     string   // cluster name; "" lets the servers agree on one
	clusterPort int      // 0 picks a free port
	routes      []string // route URLs to dial
	user, pass  string   // the cluster's authorization block, when set
	routePerms  *server.RoutePermissions
	tls         *routeTLS // TLS on routes, when set
	jetStream   bool
	storeDir    string // JetStream's store; "" picks a directory kept for the test
	natsConf    string // extra top-level lines for a nats-server config
}

// clusterNode is a server of a test cluster, embedded or a process.
type clusterNode struct {
	name      string
	clientURL string
	routeURL  string // nats-route://127.0.0.1:port/
	routePort int
	tls       *routeTLS // TLS on its routes, when set
	s         *server.Server
	logs      *levelRecorder // an embedded server's log
	proc      *natsProc      // a nats-server process
	// relaunch starts the node again with its configuration, store and
	// cluster port (peers dial that port); failures go to t.
	relaunch func(t testing.TB)
}

func (n *clusterNode) String() string { return n.name }

// stop ends the node as an operator would: an embedded server shuts
// down, a process gets SIGTERM (SIGKILL after 10 s).
func (n *clusterNode) stop(t testing.TB) {
	t.Helper()
	if n.proc != nil {
		n.proc.stop()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown %s: %v", n.name, err)
	}
}

// restart starts a stopped node again. Its client URL may change, so
// connections to it are dialled anew.
func (n *clusterNode) restart(t testing.TB) {
	t.Helper()
	n.relaunch(t)
}

// numRoutes is how many routes the node has up.
func (n *clusterNode) numRoutes(t testing.TB) int {
	if n.s != nil {
		return n.s.NumRoutes()
	}
	return n.proc.numRoutes(t)
}

// connect dials the node with nats.go and closes the connection when the
// test ends.
func (n *clusterNode) connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	opts = append([]nats.Option{nats.Timeout(5 * time.Second), nats.Name(n.name)}, opts...)
	nc, err := nats.Connect(n.clientURL, opts...)
	if err != nil {
		t.Fatalf("connect to %s: %v", n.name, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// routeURLOf is a route URL for a loopback cluster port, with credentials
// when user is set.
func routeURLOf(port int, user, pass string) string {
	u := url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// freePorts returns n distinct loopback ports that were free a moment
// ago: the listeners stay open until all are picked, so no port comes
// twice. Configurations that name every server's route port (as a
// nats-server deployment does) need them before any server starts.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// startStarlingNode runs an embedded Starling with a cluster listener on
// loopback until the test ends; its log is kept.
func startStarlingNode(t testing.TB, cfg nodeConfig, mutate ...func(*serverOptions)) *clusterNode {
	t.Helper()
	if cfg.jetStream && cfg.storeDir == "" {
		cfg.storeDir = t.TempDir()
	}
	n := &clusterNode{name: cfg.name, tls: cfg.tls, logs: &levelRecorder{}}
	owner := t // a restart's server lives as long as the first one would have
	n.relaunch = func(t testing.TB) {
		t.Helper()
		n.s = launchStarling(t, owner, starlingOptions(t, cfg, n.logs, mutate))
		addr, ok := n.s.ClusterAddr().(*net.TCPAddr)
		if !ok {
			t.Fatalf("%s: no cluster listener", cfg.name)
		}
		cfg.clusterPort = addr.Port
		n.clientURL, n.routeURL, n.routePort = n.s.ClientURL(), routeURLOf(addr.Port, "", ""), addr.Port
	}
	n.relaunch(t)
	return n
}

// starlingOptions are an embedded node's options for cfg.
func starlingOptions(t testing.TB, cfg nodeConfig, rec *levelRecorder, mutate []func(*serverOptions)) *serverOptions {
	t.Helper()
	port := cfg.clusterPort
	if port == 0 {
		port = server.RandomPort
	}
	var routes []*url.URL
	for _, r := range cfg.routes {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, u)
	}
	o := &serverOptions{Host: "127.0.0.1", Port: server.RandomPort, ServerName: cfg.name, Logger: slog.New(rec)}
	o.Cluster = server.ClusterOptions{
		Name: cfg.cluster, Host: "127.0.0.1", Port: port, Routes: routes,
		Username: cfg.user, Password: cfg.pass, Permissions: cfg.routePerms,
	}
	if cfg.tls != nil {
		o.Cluster.TLSConfig = cfg.tls.config()
		o.Cluster.TLSTimeout = 5 * time.Second
	}
	if cfg.jetStream {
		o.JetStream = true
		o.StoreDir = cfg.storeDir
	}
	for _, m := range mutate {
		m(o)
	}
	return o
}

// launchStarling starts an embedded server and shuts it down when owner
// ends (Shutdown may run twice: once by a test's stop, once here).
// Failures go to t, which may be a subtest of owner.
func launchStarling(t, owner testing.TB, opts *serverOptions) *server.Server {
	t.Helper()
	s, err := server.New(opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	owner.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			owner.Errorf("shutdown: %v", err)
		}
	})
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	return s
}

// natsProc is a nats-server process run for one test.
type natsProc struct {
	bin        string
	dir        string
	monitorURL string
	logPath    string
	cmd        *exec.Cmd
	done       chan struct{}
}

// findNatsServer is Debian's nats-server 2.9.10, the reference peer:
// /usr/sbin/nats-server, else nats-server on the PATH; "" when absent.
func findNatsServer() string {
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	return ""
}

// natsServerPath is the reference nats-server. Without it the test skips,
// unless STARLING_REQUIRE_NATSSERVER=1 (CI installs the package).
func natsServerPath(t testing.TB) string {
	t.Helper()
	if p := findNatsServer(); p != "" {
		return p
	}
	if os.Getenv("STARLING_REQUIRE_NATSSERVER") == "1" {
		t.Fatal("nats-server is missing: apt-get install nats-server")
	}
	t.Skip("nats-server is missing (apt-get install nats-server)")
	return ""
}

// natsServer211Path is a nats-server 2.11 binary named by
// STARLING_NATS_SERVER_2_11; the test skips without one.
func natsServer211Path(t testing.TB) string {
	t.Helper()
	p := os.Getenv("STARLING_NATS_SERVER_2_11")
	if p == "" {
		t.Skip("STARLING_NATS_SERVER_2_11 does not name a nats-server 2.11 binary")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("STARLING_NATS_SERVER_2_11: %v", err)
	}
	return p
}

// natsConfig is a nats-server configuration for cfg: loopback client and
// monitoring ports picked by the server, written to a ports file.
func natsConfig(cfg nodeConfig, portsDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\nlisten: \"127.0.0.1:-1\"\nhttp: \"127.0.0.1:-1\"\nports_file_dir: %q\n", cfg.name, portsDir)
	if cfg.jetStream {
		fmt.Fprintf(&b, "jetstream { store_dir: %q }\n", cfg.storeDir)
	}
	b.WriteString(cfg.natsConf)
	b.WriteString("\ncluster {\n")
	if cfg.cluster != "" {
		fmt.Fprintf(&b, "  name: %q\n", cfg.cluster)
	}
	port := cfg.clusterPort
	if port == 0 {
		port = -1
	}
	fmt.Fprintf(&b, "  listen: \"127.0.0.1:%d\"\n", port)
	if len(cfg.routes) > 0 {
		b.WriteString("  routes: [\n")
		for _, r := range cfg.routes {
			fmt.Fprintf(&b, "    %q\n", r)
		}
		b.WriteString("  ]\n")
	}
	if cfg.user != "" {
		fmt.Fprintf(&b, "  authorization { user: %q, password: %q }\n", cfg.user, cfg.pass)
	}
	if r := cfg.tls; r != nil {
		fmt.Fprintf(&b, "  tls { cert_file: %q, key_file: %q, ca_file: %q, timeout: 5 }\n", r.certFile, r.keyFile, r.caFile)
	}
	if p := cfg.routePerms; p != nil {
		b.WriteString("  permissions {\n")
		for _, x := range []struct {
			key string
			sp  *server.SubjectPermission
		}{{"import", p.Import}, {"export", p.Export}} {
			if x.sp == nil {
				continue
			}
			fmt.Fprintf(&b, "    %s {", x.key)
			if x.sp.Allow != nil {
				fmt.Fprintf(&b, " allow: %s", confList(x.sp.Allow))
			}
			if x.sp.Deny != nil {
				fmt.Fprintf(&b, " deny: %s", confList(x.sp.Deny))
			}
			b.WriteString(" }\n")
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// confList writes subjects as a configuration array.
func confList(subjects []string) string {
	q := make([]string, len(subjects))
	for i, s := range subjects {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// startNatsServerNode runs nats-server bin with cfg until the test ends,
// then stops it by its PID (SIGTERM, SIGKILL after 10 s). Its log is kept
// beside its configuration and shown when the test fails.
func startNatsServerNode(t testing.TB, bin string, cfg nodeConfig) *clusterNode {
	t.Helper()
	dir := t.TempDir()
	portsDir := filepath.Join(dir, "ports")
	if err := os.Mkdir(portsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if cfg.jetStream && cfg.storeDir == "" {
		cfg.storeDir = filepath.Join(dir, "js")
	}
	conf := filepath.Join(dir, "server.conf")
	logPath := filepath.Join(dir, "server.log")
	// Registered before any launch, so it runs after every run has stopped.
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of nats-server %s:\n%s", cfg.name, lastLines(string(b), 60))
		}
	})
	n := &clusterNode{name: cfg.name, tls: cfg.tls}
	owner := t // a restart's process lives as long as the first one would have
	n.relaunch = func(t testing.TB) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(natsConfig(cfg, portsDir)), 0o600); err != nil {
			t.Fatal(err)
		}
		var ports natsPorts
		n.proc, ports = launchNatsServer(t, owner, bin, cfg.name, dir, conf)
		cu, err := url.Parse(ports.Cluster[0])
		if err != nil {
			t.Fatal(err)
		}
		port, err := strconv.Atoi(cu.Port())
		if err != nil {
			t.Fatal(err)
		}
		cfg.clusterPort = port // a restart listens where the peers dial
		n.clientURL, n.routeURL, n.routePort = ports.Nats[0], routeURLOf(port, "", ""), port
	}
	n.relaunch(t)
	return n
}

// natsPorts is a nats-server ports file.
type natsPorts struct {
	Nats       []string `json:"nats"`
	Monitoring []string `json:"monitoring"`
	Cluster    []string `json:"cluster"`
}

// launchNatsServer starts nats-server with the configuration conf, its
// log in dir/server.log, and waits for its ports file. The process is
// stopped when owner ends; failures go to t, which may be a subtest of
// owner.
func launchNatsServer(t, owner testing.TB, bin, name, dir, conf string) (*natsProc, natsPorts) {
	t.Helper()
	portsDir := filepath.Join(dir, "ports")
	// A ports file left by an earlier run names the old ports.
	old, _ := filepath.Glob(filepath.Join(portsDir, "*.ports"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	p := &natsProc{bin: bin, dir: dir, logPath: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	p.cmd = exec.Command(bin, "-c", conf, "-l", p.logPath)
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	owner.Cleanup(p.stop)
	var ports natsPorts
	deadline := time.Now().Add(clusterWait)
	for {
		files, _ := filepath.Glob(filepath.Join(portsDir, "*.ports"))
		if len(files) > 0 {
			b, err := os.ReadFile(files[0])
			if err == nil && json.Unmarshal(b, &ports) == nil && len(ports.Nats) > 0 && len(ports.Cluster) > 0 {
				break
			}
		}
		select {
		case <-p.done:
			t.Fatalf("nats-server %s exited at start:\n%s", name, p.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server %s did not write its ports file", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(ports.Monitoring) > 0 {
		p.monitorURL = ports.Monitoring[0]
	}
	return p, ports
}

// stop ends the process by its PID and waits for it.
func (p *natsProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *natsProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// log is the process's log so far.
func (p *natsProc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// numRoutes asks the monitoring endpoint how many servers the process
// has routes to (nats-server 2.10+ may pool several routes per server);
// -1 when it does not answer.
func (p *natsProc) numRoutes(t testing.TB) int {
	var rz struct {
		Routes []struct {
			RemoteID string `json:"remote_id"`
		} `json:"routes"`
	}
	if err := tryGetJSON(p.monitorURL+"/routez", &rz); err != nil {
		t.Logf("routez: %v", err)
		return -1
	}
	peers := map[string]bool{}
	for _, r := range rz.Routes {
		peers[r.RemoteID] = true
	}
	return len(peers)
}

func tryGetJSON(u string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitMesh waits until every node has a route to every other one.
func waitMesh(t testing.TB, nodes ...*clusterNode) {
	t.Helper()
	want := len(nodes) - 1
	deadline := time.Now().Add(clusterWait)
	for _, n := range nodes {
		for {
			got := n.numRoutes(t)
			if got == want {
				break
			}
			if time.Now().After(deadline) {
				var state []string
				for _, m := range nodes {
					state = append(state, fmt.Sprintf("%s:%d", m.name, m.numRoutes(t)))
				}
				t.Fatalf("no full mesh after %v: routes per server %v, want %d each", clusterWait, state, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// syncInterest returns once the servers of pubs have taken in every
// interest change the server of sub sent them before the call, and once
// every message pubs published before the call is queued on sub (in its
// synchronous subscriptions' channels). Routes carry interest and
// messages in order, so when a request from a publisher reaches a probe
// subscribed now on sub, what came before the probe's RS+ and before the
// request has arrived too. It works the same with any NATS server.
func syncInterest(t testing.TB, sub *nats.Conn, pubs ...*nats.Conn) {
	t.Helper()
	probe := nats.NewInbox()
	ps, err := sub.Subscribe(probe, func(m *nats.Msg) { _ = m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Unsubscribe()
	if err := sub.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, pc := range pubs {
		deadline := time.Now().Add(clusterWait)
		for {
			_, err := pc.Request(probe, nil, time.Second)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("interest from %s did not reach %s in %v: %v", sub.Opts.Name, pc.Opts.Name, clusterWait, err)
			}
			if errors.Is(err, nats.ErrNoResponders) {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// syncAll runs syncInterest from every connection to every other.
func syncAll(t testing.TB, conns ...*nats.Conn) {
	t.Helper()
	for _, c := range conns {
		syncInterest(t, c, conns...)
	}
}

// connectAll opens one connection to each node.
func connectAll(t testing.TB, nodes []*clusterNode, opts ...nats.Option) []*nats.Conn {
	t.Helper()
	conns := make([]*nats.Conn, len(nodes))
	for i, n := range nodes {
		conns[i] = n.connect(t, opts...)
	}
	return conns
}

// sink is a synchronous subscription: nats.go queues its messages in
// the order the server sent them, as it reads them, so after
// syncInterest the queue holds everything that was sent before.
type sink struct {
	t   testing.TB
	sub *nats.Subscription
}

func subscribeSink(t testing.TB, nc *nats.Conn, subj string) *sink {
	t.Helper()
	sub, err := nc.SubscribeSync(subj)
	if err != nil {
		t.Fatal(err)
	}
	return &sink{t: t, sub: sub}
}

func queueSink(t testing.TB, nc *nats.Conn, subj, queue string) *sink {
	t.Helper()
	sub, err := nc.QueueSubscribeSync(subj, queue)
	if err != nil {
		t.Fatal(err)
	}
	return &sink{t: t, sub: sub}
}

// take returns the messages queued now, without waiting for more.
func (k *sink) take() []*nats.Msg {
	k.t.Helper()
	var out []*nats.Msg
	for {
		n, _, err := k.sub.Pending()
		if err != nil {
			k.t.Fatalf("pending: %v", err)
		}
		if n == 0 {
			return out
		}
		m, err := k.sub.NextMsg(5 * time.Second)
		if err != nil {
			k.t.Fatalf("next message: %v", err)
		}
		out = append(out, m)
	}
}

// payloads are the messages' data as strings.
func payloads(msgs []*nats.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Data)
	}
	return out
}

// routeTLS is what servers need for TLS on routes: a CA and one
// certificate for 127.0.0.1 that serves both ends of a route (it is
// presented when accepting and when dialling, so it has both key
// usages), in memory and as files for nats-server.
type routeTLS struct {
	pool                      *x509.CertPool
	cert                      tls.Certificate
	certFile, keyFile, caFile string
}

// newRouteTLS makes a throwaway CA and route certificate.
func newRouteTLS(t testing.TB) *routeTLS {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "route test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	caCert, err := x509.ParseCertificate(caDER)
	must(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "route"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	must(err)
	kder, err := x509.MarshalECPrivateKey(key)
	must(err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	r := &routeTLS{pool: x509.NewCertPool()}
	r.pool.AddCert(caCert)
	r.cert, err = tls.X509KeyPair(certPEM, keyPEM)
	must(err)
	dir := t.TempDir()
	r.certFile, r.keyFile, r.caFile = filepath.Join(dir, "route-cert.pem"), filepath.Join(dir, "route-key.pem"), filepath.Join(dir, "ca.pem")
	must(os.WriteFile(r.certFile, certPEM, 0o600))
	must(os.WriteFile(r.keyFile, keyPEM, 0o600))
	must(os.WriteFile(r.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	return r
}

// config is the route TLS configuration of an embedded server: its
// certificate both ways, peers verified against the CA both ways.
func (r *routeTLS) config() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{r.cert},
		RootCAs:      r.pool,
		ClientCAs:    r.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}
