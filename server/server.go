// Package server embeds a Starling server in a Go program: create it with
// Options, Start it, wait until it is ready, hand ClientURL to clients, and
// Shutdown when done. The API follows nats-server's embedding API, so tests
// written against one read naturally against the other.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jetstream"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/monitor"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/storedir"
	"github.com/starling-mq/starling/internal/sysacct"
)

// ErrReloadUnsupported matches (errors.Is) the error of a Reload that
// changes an option only a restart can change.
var ErrReloadUnsupported = options.ErrReloadUnsupported

// Version returns Starling's release.
func Version() string { return core.Version }

// Server is an embedded Starling server.
type Server struct {
	core *core.Server
	js   *jetstream.Manager // nil unless JetStream is enabled
	mon  *monitor.Server    // the reports; it listens when a monitoring port is set
	sys  *sysacct.Service   // nil without a system account

	monListen bool // the monitoring HTTP port is set

	reloadMu sync.Mutex // one Reload at a time

	mu         sync.Mutex
	reloadFn   func() error   // $SYS RELOAD's action (SetReloadHandler)
	sysStopped bool           // stopSystem ran
	started    bool           // Start was called: it runs once
	lock       *storedir.Lock // the store directory, held while JetStream runs
}

// New validates opts and returns a server that is not yet listening.
func New(opts *Options) (*Server, error) {
	var o options.Options
	if opts != nil {
		o = opts.internal()
	}
	return NewFromConfig(o)
}

// NewFromConfig is New for the starling command, which reads the
// configuration file and flags into the internal options themselves
// (other callers cannot name them, and use New).
func NewFromConfig(o options.Options) (*Server, error) {
	if o.JetStream && o.StoreDir == "" {
		o.StoreDir = storedir.Default()
		if o.StoreDir == "" {
			return nil, errors.New("jetstream: no store directory: set store_dir (or -sd); the default is " + storedir.DefaultHelp + ", and none of them is set")
		}
	}
	if err := checkJetStreamCluster(&o); err != nil {
		return nil, err
	}
	cs, err := core.New(o)
	if err != nil {
		return nil, err
	}
	s := &Server{core: cs}
	if co := cs.Options(); co.JetStream {
		jsLimits, disabled := jetStreamAccounts(&co)
		s.js, err = jetstream.New(cs, jetstream.Config{
			StoreDir:      co.StoreDir,
			SyncInterval:  co.SyncInterval,
			MaxMemory:     co.JetStreamMaxMemory,
			MaxStore:      co.JetStreamMaxStore,
			Domain:        co.JetStreamDomain,
			MaxOpenFiles:  co.JetStreamMaxOpenFiles,
			Accounts:      jsLimits,
			Disabled:      disabled,
			SystemAccount: co.SystemAccount,
			Cluster:       jetStreamCluster(&co),
			Logger:        cs.Logger(),
		})
		if err != nil {
			return nil, err
		}
	} else {
		// Without JetStream of its own, the server's clients use the
		// cluster's nats-server JetStream, if there is one (core/jsproxy.go).
		cs.ProxyJetStream()
	}
	// The monitoring reports always exist: the system account's requests
	// read them. Only the HTTP listener depends on the ports.
	s.mon = monitor.New(cs, cs.Logger())
	s.monListen = o.HTTPPort != 0 || o.HTTPSPort != 0
	if s.js != nil {
		s.mon.SetJetStream(s.js)
	}
	return s, nil
}

// Start begins listening for clients (and monitoring, if configured). The
// order matters: the client port is bound first, so a port in use fails
// before any stream is opened; then the store directory is locked and the
// streams recovered and subscribed; monitoring starts; and only then are
// clients accepted, so none can publish before the streams listen.
func (s *Server) Start() error {
	s.mu.Lock()
	started := s.started
	s.started = true
	s.mu.Unlock()
	if started {
		return errors.New("starling: server already started")
	}
	if err := s.core.Listen(); err != nil {
		return err
	}
	if s.js != nil {
		if err := s.startJetStream(); err != nil {
			s.abort()
			return err
		}
	}
	if s.monListen {
		if err := s.mon.Start(); err != nil {
			s.abort()
			return err
		}
	}
	if err := s.startSystem(); err != nil {
		s.abort()
		return err
	}
	if err := s.core.Start(); err != nil {
		s.abort()
		return err
	}
	return nil
}

// startJetStream locks the store directory, warns when it will not survive
// a reboot, and starts JetStream.
func (s *Server) startJetStream() error {
	dir := s.core.Options().StoreDir
	lock, err := storedir.Acquire(dir)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	s.mu.Lock()
	s.lock = lock
	s.mu.Unlock()
	if fs, ok := storedir.Volatile(dir); ok {
		s.core.Logger().Warn("the JetStream store directory is on "+fs+", held in memory: every stream is lost at reboot; set store_dir to a directory on disk",
			"store_dir", dir)
	}
	return s.js.Start()
}

// startSystem starts the system account's services, before clients come
// (or at the reload that brings the first accounts). Once stopSystem ran
// it starts nothing.
func (s *Server) startSystem() error {
	s.mu.Lock()
	stopped := s.sysStopped
	s.mu.Unlock()
	if stopped {
		return nil
	}
	co := s.core.Options()
	sys, err := sysacct.Start(s.core, sysacct.Config{
		Host: co.Host, Domain: co.JetStreamDomain, JetStream: co.JetStream, Logger: s.core.Logger(),
		Reporter: s.mon, Reload: s.reloadFromSystem,
	})
	s.mu.Lock()
	if s.sysStopped {
		s.mu.Unlock()
		sys.Stop()
		return err
	}
	s.sys = sys
	s.mu.Unlock()
	return err
}

// stopSystem stops the system account's services, once the server's
// SHUTDOWN event is out.
func (s *Server) stopSystem() {
	s.mu.Lock()
	s.sysStopped = true
	sys := s.sys
	s.mu.Unlock()
	sys.Stop()
}

// abort undoes a Start that failed half-way.
func (s *Server) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
}

// releaseStore unlocks the store directory once JetStream has stopped.
func (s *Server) releaseStore() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.lock.Release()
	s.lock = nil
	return err
}

// MonitorAddr returns the monitoring listener's address, nil when
// monitoring is off or not started.
func (s *Server) MonitorAddr() net.Addr {
	if s.mon == nil {
		return nil
	}
	return s.mon.Addr()
}

// MonitorTLSURL returns the HTTPS monitoring base URL, or "".
func (s *Server) MonitorTLSURL() string {
	if s.mon == nil {
		return ""
	}
	addr, ok := s.mon.TLSAddr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	return "https://" + addr.String()
}

// MonitorURL returns the monitoring base URL (http://host:port), or "".
func (s *Server) MonitorURL() string {
	addr, ok := s.MonitorAddr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	return "http://" + addr.String()
}

// ReadyForConnections waits up to d for the server to accept clients.
func (s *Server) ReadyForConnections(d time.Duration) bool {
	return s.core.ReadyForConnections(d)
}

// ClientURL returns a nats:// URL for clients.
func (s *Server) ClientURL() string { return s.core.ClientURL() }

// ID returns the server's identity as sent in INFO.
func (s *Server) ID() string { return s.core.ID() }

// NumClients returns the number of connected clients.
func (s *Server) NumClients() int { return s.core.NumClients() }

// ClusterAddr is the address the server listens on for routes, nil when
// clustering is off.
func (s *Server) ClusterAddr() net.Addr { return s.core.ClusterAddr() }

// NumRoutes is the number of routes up, one per other server.
func (s *Server) NumRoutes() int { return s.core.NumRoutes() }

// NumSubscriptions returns the number of subscriptions held.
func (s *Server) NumSubscriptions() int { return s.core.NumSubscriptions() }

// Shutdown stops accepting clients, flushes what they have pending, closes
// their connections and waits for every goroutine, or until ctx is done.
// In a JetStream cluster it first hands the leaderships it holds to other
// members, as nats-server does, so no client waits for an election.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.js != nil {
		// While the routes are up: the new leaders take over at once.
		s.js.HandOver(ctx)
	}
	if s.mon != nil {
		errs = append(errs, s.mon.Shutdown(ctx))
	}
	errs = append(errs, s.core.Shutdown(ctx))
	s.stopSystem()
	// After the clients are gone, so no publish races the stores closing.
	if s.js != nil {
		s.js.Shutdown()
		errs = append(errs, s.releaseStore())
	}
	return errors.Join(errs...)
}

// Reload replaces the options of the running server. Limits, timeouts,
// TLS certificates and authorization apply at once, to existing
// connections too. A change to an option that needs a restart (listen
// addresses, server name, turning TLS or JetStream on or off, JetStream's
// store directory, sync interval, limits, domain and open-file budget) is
// refused with an error naming each such option, matching
// ErrReloadUnsupported, and nothing is applied. Accounts reload as in
// nats-server (added, removed, their users, exports, imports and
// mappings), and accounts that gain or lose JetStream, or change its
// limits, do so at once.
func (s *Server) Reload(opts *Options) error { return s.ReloadConfig(opts.internal()) }

// ReloadConfig is Reload for the starling command (see NewFromConfig).
func (s *Server) ReloadConfig(next options.Options) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if next.JetStream && next.StoreDir == "" {
		next.StoreDir = storedir.Default()
	}
	if err := s.core.Reload(next); err != nil {
		return err
	}
	s.mu.Lock()
	sys := s.sys
	s.mu.Unlock()
	var err error
	if sys == nil {
		// The first accounts bring the system account: start its
		// services now (a no-op while there is none).
		err = s.startSystem()
	} else {
		err = sys.AccountsChanged(s.core)
	}
	if s.js != nil {
		co := s.core.Options()
		err = errors.Join(err, s.js.Reconfigure(jetStreamAccounts(&co)))
	}
	return err
}

// SetReloadHandler names what a $SYS.REQ.SERVER.<id>.RELOAD request does:
// the command line re-reads its configuration file, as at SIGHUP. Without
// one (an embedded server has no file) the request is answered an error.
func (s *Server) SetReloadHandler(fn func() error) {
	s.mu.Lock()
	s.reloadFn = fn
	s.mu.Unlock()
}

func (s *Server) reloadFromSystem() error {
	s.mu.Lock()
	fn := s.reloadFn
	s.mu.Unlock()
	if fn == nil {
		return errNoReloadHandler
	}
	return fn()
}

// errNoReloadHandler is RELOAD's answer on a server without a
// configuration file.
var errNoReloadHandler = errors.New("configuration reload not available: the server runs without a configuration file")

// LameDuck stops accepting clients, tells connected clients to move on,
// closes them gradually over the lame-duck duration and shuts down; in a
// JetStream cluster it first hands its leaderships over (Shutdown).
func (s *Server) LameDuck(ctx context.Context) error {
	if s.js != nil {
		s.js.HandOver(ctx)
	}
	err := s.core.LameDuck(ctx)
	s.stopSystem()
	if s.js != nil {
		s.js.Shutdown()
		err = errors.Join(err, s.releaseStore())
	}
	if s.mon != nil {
		err = errors.Join(err, s.mon.Shutdown(ctx))
	}
	return err
}

// WaitForShutdown blocks until the server has shut down.
func (s *Server) WaitForShutdown() { s.core.WaitForShutdown() }

// jetStreamAccounts splits the server's accounts into those that run
// JetStream, with their limits, and the others.
func jetStreamAccounts(o *options.Options) (map[string]jetstream.Limits, []string) {
	enabled := map[string]jetstream.Limits{}
	for name, js := range o.JetStreamAccounts() {
		enabled[name] = jetstream.Limits{MaxMemory: js.MaxMemory, MaxStore: js.MaxStore,
			MaxStreams: js.MaxStreams, MaxConsumers: js.MaxConsumers}
	}
	var disabled []string
	names := []string{options.GlobalAccount}
	if o.SystemAccount != "" {
		names = append(names, o.SystemAccount)
	}
	for _, a := range o.Accounts {
		names = append(names, a.Name)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if _, ok := enabled[n]; !ok && !seen[n] {
			disabled = append(disabled, n)
		}
		seen[n] = true
	}
	return enabled, disabled
}

// checkJetStreamCluster refuses what nats-server refuses of JetStream in
// a cluster: every server needs a name (groups name their members by it)
// and the cluster one.
func checkJetStreamCluster(o *options.Options) error {
	if !o.JetStream || o.Cluster.Port == 0 {
		return nil
	}
	if o.ServerName == "" {
		return errors.New("jetstream cluster requires `server_name` to be set")
	}
	if o.Cluster.Name == "" {
		return errors.New("jetstream cluster requires `cluster.name` to be set")
	}
	return nil
}

// jetStreamCluster is JetStream's clustered mode for a server with a
// cluster block, nil without one.
func jetStreamCluster(o *options.Options) *jetstream.ClusterConfig {
	if o.Cluster.Port == 0 {
		return nil
	}
	return &jetstream.ClusterConfig{ServerName: o.ServerName, Expected: jscluster.Expected(routesToOthers(&o.Cluster) + 1),
		CompactEntries: uint64(o.JetStreamCompactEntries)}
}

// routesToOthers counts the distinct configured routes that do not point
// at this server's own cluster listener: a cluster block may list every
// server, this one included, as nats-server's examples do, or only the
// others.
func routesToOthers(c *options.ClusterOptions) int {
	seen := map[string]bool{}
	for _, u := range c.Routes {
		host, port := u.Hostname(), u.Port()
		if port == strconv.Itoa(c.Port) && (host == c.Host || host == "localhost" || host == "127.0.0.1" || host == "::1" || c.Host == "0.0.0.0") {
			continue
		}
		seen[u.Host] = true
	}
	return len(seen)
}
