package core

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/starling-mq/starling/internal/options"
)

// routeTLS secures a new route connection when the cluster has a tls
// block. As in nats-server, the handshake comes first, before either side
// says anything, and both sides verify the other's certificate against
// the ca_file (the configuration requires it for routes): the acceptor as
// a TLS server, the dialler as a client naming the host it dialled.
func (s *Server) routeTLS(conn net.Conn, solicited bool, dialHost string) (net.Conn, error) {
	o := &s.getOpts().Cluster
	if o.TLSConfig == nil {
		return conn, nil
	}
	var tc *tls.Conn
	if solicited {
		cfg := o.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = dialHost
		}
		tc = tls.Client(conn, cfg)
	} else {
		tc = tls.Server(conn, o.TLSConfig)
	}
	timeout := o.TLSTimeout
	if timeout <= 0 {
		timeout = options.DefaultTLSTimeout
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		conn.Close()
		return nil, err
	}
	if err := tc.Handshake(); err != nil {
		s.stats.routesRefused.Add(1)
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return tc, nil
}

// acceptRoute runs a connection accepted on the cluster listener, after
// its TLS handshake when there is one (off the accept loop: it can take
// the TLS timeout).
func (s *Server) acceptRoute(conn net.Conn) {
	if s.getOpts().Cluster.TLSConfig == nil {
		if s.raftHandler.Load() == nil {
			s.startRouteWith(conn, nil, nil)
			return
		}
		// Off the accept loop: telling a Raft connection from a route
		// may wait for the peer's first bytes.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.acceptClusterConn(conn)
		}()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tc, err := s.routeTLS(conn, false, "")
		if err != nil {
			s.log.Info("route TLS handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
			return
		}
		s.acceptClusterConn(tc)
	}()
}
