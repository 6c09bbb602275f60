package core

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/starling-mq/starling/internal/proto"
)

// Raft connections share the cluster port with routes, so they use the
// cluster's TLS and authorization, yet carry no route protocol: Raft
// traffic must not wait behind client messages on a route that
// back-pressure paused. A Raft dialler speaks first, after TLS:
//
//	RAFT {route CONNECT json: server id, cluster, credentials}\r\n
//
// and the acceptor answers "+OK\r\n" (then the connection is the Raft
// transport's) or "-ERR '<reason>'\r\n" and closes. Route diallers speak
// first too (CONNECT), so the acceptor tells the two apart by the first
// bytes; only while a Raft handler is set does it look, and a peer that
// says nothing within raftPeekWait is taken for a route (a dialler that
// waits for INFO first).

const (
	raftOp       = "RAFT "
	raftPeekWait = 250 * time.Millisecond
	raftLineMax  = 4096
	raftDialWait = 5 * time.Second // dial, TLS, handshake
)

// RaftConnHandler takes a Raft connection accepted on the cluster port,
// from the server whose ID is peerID; it owns conn from then on.
type RaftConnHandler func(conn net.Conn, peerID string)

// SetRaftHandler sets (or, with nil, clears) the taker of Raft
// connections accepted on the cluster port.
func (s *Server) SetRaftHandler(h RaftConnHandler) {
	if h == nil {
		s.raftHandler.Store(nil)
		return
	}
	s.raftHandler.Store(&h)
}

// acceptClusterConn decides what a connection accepted on the cluster
// port is, after its TLS handshake: a Raft connection, or a route.
func (s *Server) acceptClusterConn(conn net.Conn) {
	h := s.raftHandler.Load()
	if h == nil {
		s.startRouteWith(conn, nil, nil)
		return
	}
	first, err := peek(conn, raftPeekWait)
	if err != nil {
		conn.Close()
		return
	}
	if !bytes.HasPrefix(first, []byte(raftOp)) {
		s.startRouteWith(&prefixedConn{Conn: conn, pre: first}, nil, nil)
		return
	}
	line, rest, err := readLine(conn, first, raftDialWait)
	if err != nil {
		s.log.Debug("raft connection refused", "remote", conn.RemoteAddr().String(), "err", err)
		conn.Close()
		return
	}
	var c proto.RouteConnect
	if err := proto.ParseRouteConnect(bytes.TrimSpace(line[len(raftOp):]), &c); err != nil {
		s.refuseRaft(conn, "Invalid Raft Handshake")
		return
	}
	if text := s.checkRouteConnect(&c); text != "" {
		s.stats.routesRefused.Add(1)
		s.refuseRaft(conn, text)
		return
	}
	if err := writeWithin(conn, []byte("+OK\r\n"), raftDialWait); err != nil {
		conn.Close()
		return
	}
	(*h)(&prefixedConn{Conn: conn, pre: rest}, c.Name)
}

func (s *Server) refuseRaft(conn net.Conn, text string) {
	s.log.Info("raft connection refused", "remote", conn.RemoteAddr().String(), "err", text)
	_ = writeWithin(conn, []byte("-ERR '"+text+"'\r\n"), time.Second)
	conn.Close()
}

// DialRaft opens a Raft connection to the server whose cluster port is at
// hostPort, with the cluster's TLS and the credentials a route presents:
// those of the first configured route URL that has some, else the
// cluster's own authorization block (servers of a cluster share it; a
// bcrypt password there cannot be presented). It returns once the peer
// accepted it.
func (s *Server) DialRaft(ctx context.Context, hostPort string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, raftDialWait)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", hostPort)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(hostPort)
	if conn, err = s.routeTLS(conn, true, host); err != nil {
		return nil, fmt.Errorf("raft connection: TLS: %w", err)
	}
	o := &s.getOpts().Cluster
	c := s.routeConnect(nil)
	c.User, c.Pass = o.Username, o.Password
	for _, u := range o.Routes {
		if u.User != nil {
			c = s.routeConnect(u)
			break
		}
	}
	hello := proto.AppendRouteConnectLine(nil, c)
	hello = append([]byte(raftOp), hello[len("CONNECT "):]...)
	deadline, _ := ctx.Deadline()
	if err := writeWithin(conn, hello, time.Until(deadline)); err != nil {
		conn.Close()
		return nil, err
	}
	line, rest, err := readLine(conn, nil, time.Until(deadline))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("raft connection: %w", err)
	}
	if !bytes.Equal(bytes.TrimSpace(line), []byte("+OK")) {
		conn.Close()
		return nil, fmt.Errorf("raft connection refused: %s", bytes.TrimSpace(line))
	}
	return &prefixedConn{Conn: conn, pre: rest}, nil
}

// peek reads what the peer sends first, up to len(raftOp) bytes or wait.
func peek(conn net.Conn, wait time.Duration) ([]byte, error) {
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return nil, err
	}
	buf := make([]byte, len(raftOp))
	n := 0
	for n < len(buf) {
		m, err := conn.Read(buf[n:])
		n += m
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break // silent so far: a route that waits for INFO
			}
			return nil, err
		}
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// readLine reads until a line ends (within raftLineMax bytes and wait),
// starting with what was already read, and returns the line and what came
// after it.
func readLine(conn net.Conn, have []byte, wait time.Duration) (line, rest []byte, err error) {
	if err := conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return nil, nil, err
	}
	defer conn.SetReadDeadline(time.Time{})
	buf := append(make([]byte, 0, 256), have...)
	for {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			return buf[:i+1], buf[i+1:], nil
		}
		if len(buf) >= raftLineMax {
			return nil, nil, errors.New("handshake line too long")
		}
		chunk := make([]byte, raftLineMax-len(buf))
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if i := bytes.IndexByte(buf, '\n'); i >= 0 {
				return buf[:i+1], buf[i+1:], nil
			}
			return nil, nil, err
		}
	}
}

func writeWithin(conn net.Conn, b []byte, wait time.Duration) error {
	if err := conn.SetWriteDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	defer conn.SetWriteDeadline(time.Time{})
	_, err := conn.Write(b)
	return err
}

// prefixedConn is a connection whose first reads return bytes already
// read from it.
type prefixedConn struct {
	net.Conn
	pre []byte
}

func (c *prefixedConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// rawConn is the TCP socket under conn (for deadlines and closing without
// a TLS close_notify that could block).
func rawConn(conn net.Conn) net.Conn {
	if pc, ok := conn.(*prefixedConn); ok {
		conn = pc.Conn
	}
	if tc, ok := conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return conn
}
