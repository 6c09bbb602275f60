package core

import (
	"crypto/tls"
	"errors"
	"os"
	"time"

	"github.com/starling-mq/starling/internal/proto"
)

// handshake sends INFO in the clear, as NATS clients expect it before they
// start TLS, then runs the server side of the handshake within the TLS
// timeout. On success c reads and writes through TLS.
func (c *client) handshake(info []byte) bool {
	s := c.srv
	timeout := s.getOpts().TLSTimeout
	if err := c.netConn.SetWriteDeadline(time.Now().Add(timeout)); err == nil {
		_, err = c.netConn.Write(info)
		if err != nil {
			c.log.Debug("write INFO before TLS", "err", err)
			c.netConn.Close()
			return false
		}
	}
	tc := tls.Server(c.netConn, s.getOpts().TLSConfig)
	// A deadline, not a context: a cancelled context closes the socket,
	// and we still want to tell a client that never started TLS why.
	if err := c.netConn.SetDeadline(time.Now().Add(timeout)); err != nil {
		c.netConn.Close()
		return false
	}
	if err := tc.Handshake(); err != nil {
		c.log.Info("TLS handshake failed", "err", err)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// nats-server says this, in the clear, when the handshake does
			// not happen in time.
			_ = c.netConn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = c.netConn.Write(proto.ErrLine(proto.ErrTextTLSRequired))
		}
		c.netConn.Close()
		c.srv.closed.add(c.tlsFailureInfo())
		return false
	}
	_ = c.netConn.SetDeadline(time.Time{})
	c.conn = tc
	st := tc.ConnectionState()
	c.tlsState = &st
	return true
}

func (c *client) tlsFailureInfo() ConnInfo {
	ci := c.infoWith(nil, false)
	ci.Stop = time.Now()
	ci.Reason = reasonTLSHandshake.String()
	return ci
}
