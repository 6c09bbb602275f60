// Package core is the message server engine: it accepts client connections,
// runs their read and write loops, and routes published messages to matching
// subscriptions. Parsing lives in proto and matching in subject; this package
// holds connection state and policy.
//
// Lock order: client.mu, then outbound.mu; Server.mu is never held while
// taking a client lock. The subject trie has its own lock and is taken with
// none of these held, except client.mu during subscribe and unsubscribe.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/proto"
)

// ProtocolVersion is the NATS server version Starling reports in INFO:
// clients enable features by it, so it names the feature level implemented,
// not Starling's own release.
const ProtocolVersion = "2.11.0"

// Version is Starling's own release, reported in /varz and --version.
var Version = "0.1.0-dev"

// ErrServerClosed is returned by Start after Shutdown.
var ErrServerClosed = errors.New("starling: server closed")

// Server is a NATS-protocol message server.
type Server struct {
	opts  atomic.Pointer[Options]            // replaced whole on reload; never modified
	authn atomic.Pointer[auth.Authenticator] // built from opts; replaced with them
	log   *slog.Logger
	id    string
	name  string
	start time.Time

	gacc *Account // the global account: every connection's that names no other

	raftHandler  atomic.Pointer[RaftConnHandler] // takes Raft connections on the cluster port (raftconn.go)
	announceJS   atomic.Bool                     // route INFO says this server runs JetStream (peers.go)
	jsProxy      jsProxy                         // the JetStream API through the system account (jsproxy.go)
	announceMeta atomic.Pointer[[]string]        // route INFO names the meta group this server is in (peers.go)
	peersChanged atomic.Pointer[func()]          // OnClusterPeers' callback

	mu         sync.Mutex
	listener   net.Listener
	accepting  bool // Start has run
	clients    map[uint64]*client
	accounts   map[string]*Account // by name, the global account too
	routes     map[string]*route   // up, by the peer's server ID (route.go)
	routeConns map[*route]struct{} // every route connection, up or not
	routeUps   map[string]int64    // routes that came up, by peer server ID
	cluster    cluster             // the cluster listener and name (cluster.go)
	shutdown   bool
	lameDuck   bool
	configLoad time.Time     // start, then the last reload
	ready      chan struct{} // closed once the listener accepts
	done       chan struct{} // closed when Shutdown has finished
	stopping   chan struct{} // closed when Shutdown starts

	nextCID    atomic.Uint64
	totalConns atomic.Uint64
	wg         sync.WaitGroup // accept loop and every client goroutine

	stats  serverStats
	closed closedRing

	trace    tracer                       // publishes message trace events (trace.go)
	traceSeq atomic.Uint64                // numbers them, as nats-server numbers its system messages
	events   atomic.Pointer[eventSinkBox] // the system account's services (events.go)
}

type serverStats struct {
	inMsgs, inBytes, outMsgs, outBytes atomic.Int64
	slowConsumers                      atomic.Int64
	routesRefused                      atomic.Int64 // TLS, authorization or cluster name
	slowRoutes                         atomic.Int64 // of slowConsumers, those that were routes
}

// New validates opts and returns a server that is not yet listening.
func New(opts Options) (*Server, error) {
	opts.SetDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	kp, err := nkeys.CreateServer()
	if err != nil {
		return nil, fmt.Errorf("create server identity: %w", err)
	}
	id, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("create server identity: %w", err)
	}
	gacc := newAccount(globalAccountName)
	s := &Server{
		id:       id,
		name:     opts.ServerName,
		gacc:     gacc,
		accounts: map[string]*Account{globalAccountName: gacc},
		clients:  map[uint64]*client{},
		closed:   closedRing{max: DefaultMaxClosedClients},
		ready:    make(chan struct{}),
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
	}
	authn, err := auth.New(opts.AuthConfig())
	if err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	s.opts.Store(&opts)
	s.authn.Store(authn)
	if s.name == "" {
		s.name = id
	}
	s.log = opts.Logger.With("server", s.name)
	if err := s.setupAccounts(&opts); err != nil {
		return nil, err
	}
	return s, nil
}

// ID returns the server's public identity, as sent in INFO.
func (s *Server) ID() string { return s.id }

// Name returns the server name (its ID unless configured).
func (s *Server) Name() string { return s.name }

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Options returns a copy of the options in force.
func (s *Server) Options() Options { return *s.getOpts() }

// getOpts returns the options in force. They may be replaced by a reload at
// any time, so read a field once per decision.
func (s *Server) getOpts() *Options { return s.opts.Load() }

// Listen binds the client listener without accepting yet, so that a port
// already in use fails the start before anything else (JetStream's store)
// is opened. Connections that arrive before Start wait in the kernel's
// backlog. Start calls it when it has not been called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listenLocked()
}

func (s *Server) listenLocked() error {
	if s.shutdown {
		return ErrServerClosed
	}
	if s.listener != nil {
		return nil
	}
	port := s.getOpts().Port
	if port == RandomPort {
		port = 0
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.getOpts().Host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("listen for clients: %w", err)
	}
	s.listener = ln
	return nil
}

// Start listens, if Listen has not, and begins accepting clients in the
// background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return ErrServerClosed
	}
	if s.accepting {
		return errors.New("starling: server already started")
	}
	if err := s.listenLocked(); err != nil {
		return err
	}
	if err := s.startClusterLocked(); err != nil {
		return err
	}
	ln := s.listener
	s.accepting = true
	s.start = time.Now()
	s.configLoad = s.start
	s.log.Info("Starling server ready", "version", Version, "addr", ln.Addr().String(), "id", s.id)
	s.wg.Add(1)
	go s.acceptLoop(ln)
	close(s.ready)
	return nil
}

// ReadyForConnections waits up to d for the listener to be up.
func (s *Server) ReadyForConnections(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ready:
		return true
	case <-t.C:
		return false
	}
}

// Addr returns the client listener's address, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// ClientURL returns a nats:// URL clients can dial.
func (s *Server) ClientURL() string {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	host := s.getOpts().Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// Bounds of the pause after a failed accept, doubled on each failure in a
// row, as nats-server does.
const (
	acceptMinSleep = 10 * time.Millisecond
	acceptMaxSleep = time.Second
)

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	delay := acceptMinSleep
	for {
		conn, err := ln.Accept()
		if err != nil {
			// Only Shutdown and LameDuck close the listener: expected.
			if s.isShuttingDown() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors (EMFILE, ENFILE), out of buffers, or an
			// aborted handshake: none of them is the listener's fault, so
			// it keeps serving. The pause stops a spin while descriptors
			// stay short; existing clients are served meanwhile.
			s.log.Error("accept error", "err", err, "retry_in", delay)
			if !s.sleepUnlessShutdown(delay) {
				return
			}
			delay = min(2*delay, acceptMaxSleep)
			continue
		}
		delay = acceptMinSleep
		s.createClient(conn)
	}
}

// sleepUnlessShutdown pauses for d, or less when Shutdown starts; it
// reports whether the server is still running.
func (s *Server) sleepUnlessShutdown(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !s.isShuttingDown()
	case <-s.stopping:
		return false
	}
}

func (s *Server) isShuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// info returns the INFO a new client receives.
func (s *Server) info(cid uint64, clientIP string) proto.Info {
	port := s.getOpts().Port
	if addr, ok := s.Addr().(*net.TCPAddr); ok {
		port = addr.Port
	}
	return proto.Info{
		ServerID:     s.id,
		ServerName:   s.name,
		Version:      ProtocolVersion,
		Proto:        proto.ClientProtoInfo,
		Go:           runtime.Version(),
		Host:         s.getOpts().Host,
		Port:         port,
		Headers:      !s.getOpts().NoHeaderSupport,
		AuthRequired: s.authn.Load().AdvertiseRequired(),
		TLSRequired:  s.getOpts().TLSConfig != nil,
		TLSVerify:    s.getOpts().TLSVerify(),
		MaxPayload:   int32(s.getOpts().MaxPayload),
		JetStream:    s.getOpts().JetStream,
		Domain:       s.getOpts().JetStreamDomain,
		ClientID:     cid,
		ClientIP:     clientIP,
		ConnectURLs:  s.connectURLs(),
		Cluster:      s.clusterName(),
	}
}

// Shutdown stops accepting, flushes what each client has pending, closes
// every connection and waits for all goroutines, or for ctx. It is safe to
// call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := !s.shutdown
	s.shutdown = true
	ln := s.listener
	s.mu.Unlock()
	clients := s.clientList()
	if first {
		close(s.stopping)
		if ln != nil {
			ln.Close()
		}
		for _, c := range clients {
			c.close(reasonServerShutdown)
		}
		s.emitShutdown()
		s.stopCluster()
		for _, r := range s.routeList() {
			r.close(reasonServerShutdown)
		}
		go func() {
			s.wg.Wait()
			s.log.Info("server stopped")
			close(s.done)
		}()
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitForShutdown blocks until Shutdown has completed.
func (s *Server) WaitForShutdown() { <-s.done }

func (s *Server) addClient(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.clients[c.cid] = c
	return true
}

// NumClients returns the number of open client connections.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// NumSubscriptions returns the number of subscriptions held.
func (s *Server) NumSubscriptions() int { return s.gacc.sl.Count() }
