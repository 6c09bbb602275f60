package core

import (
	"io"
	"net"
	"time"

	"github.com/starling-mq/starling/internal/proto"
)

// closeReason says why a connection ended, in nats-server's words (they
// appear in /connz for closed connections).
type closeReason uint8

const (
	reasonNone closeReason = iota
	reasonClientClosed
	reasonAuthTimeout
	reasonAuthViolation
	reasonTLSHandshake
	reasonSlowConsumerPendingBytes
	reasonSlowConsumerWriteDeadline
	reasonWriteError
	reasonReadError
	reasonParseError
	reasonStaleConnection
	reasonProtocolViolation
	reasonBadClientProtocol
	reasonMaxPayload
	reasonMaxControlLine
	reasonMaxConnections
	reasonServerShutdown
	reasonNoRespondersNeedsHeaders
	reasonClusterNameConflict
	reasonDuplicateServerName
	reasonKicked
)

var reasonText = [...]string{
	reasonNone:                      "",
	reasonClientClosed:              "Client Closed",
	reasonAuthTimeout:               "Authentication Timeout",
	reasonAuthViolation:             "Authentication Failure",
	reasonTLSHandshake:              "TLS Handshake Failure",
	reasonSlowConsumerPendingBytes:  "Slow Consumer (Pending Bytes)",
	reasonSlowConsumerWriteDeadline: "Slow Consumer (Write Deadline)",
	reasonWriteError:                "Write Error",
	reasonReadError:                 "Read Error",
	reasonParseError:                "Parse Error",
	reasonStaleConnection:           "Stale Connection",
	reasonProtocolViolation:         "Protocol Violation",
	reasonBadClientProtocol:         "Bad Client Protocol Version",
	reasonMaxPayload:                "Maximum Message Payload Exceeded",
	reasonMaxControlLine:            "Maximum Control Line Exceeded",
	reasonMaxConnections:            "Maximum Connections Exceeded",
	reasonServerShutdown:            "Server Shutdown",
	reasonNoRespondersNeedsHeaders:  "No Responders Requires Headers",
	reasonClusterNameConflict:       "Cluster Name Conflict",
	reasonDuplicateServerName:       "Duplicate Server Name",
	reasonKicked:                    "Kicked",
}

func (r closeReason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "Unknown"
}

// flushes reports whether a connection closed for r first sends what is
// queued (an -ERR, earlier replies, pending messages on shutdown). As in
// nats-server, it does not when the socket is broken or the peer is the
// reason data piled up.
func (r closeReason) flushes() bool {
	switch r {
	case reasonReadError, reasonWriteError, reasonSlowConsumerPendingBytes,
		reasonSlowConsumerWriteDeadline, reasonTLSHandshake:
		return false
	}
	return true
}

// close ends the connection once; later calls do nothing. When the reason
// flushes, the writer sends what is queued, bounded by the write deadline,
// and then closes the socket; otherwise queued data is dropped and the socket
// closed at once.
func (c *client) close(reason closeReason) {
	flush := reason.flushes()
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	c.reason = reason
	subs := c.subs
	c.subs = nil
	c.closedSubs = subs
	c.mu.Unlock()
	for _, sub := range subs {
		c.acc.unsubscribe(sub)
	}
	c.stopAuthTimer()
	c.shutdown(flush)
	c.log.Debug("client connection closing", "reason", reason.String())
}

// finish runs once the writer has closed the socket.
func (c *client) timing() (time.Duration, int, time.Duration) {
	o := c.srv.getOpts()
	return o.PingInterval, o.PingMax, o.WriteDeadline
}

func (c *client) finish() {
	c.mu.Lock()
	subs := c.closedSubs
	c.closedSubs = nil
	c.mu.Unlock()
	ci := c.infoWith(subs, true)
	ci.Stop = time.Now()
	c.srv.accountClosed(c, &ci) // leaves the server's list here
	c.srv.closed.add(ci)
	if c.connected.Load() {
		c.srv.emitClient(EventDisconnect, c, &ci)
	}
	c.log.Debug("client connection closed", "reason", ci.Reason)
}

func (c *client) stopAuthTimer() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.authTimer != nil {
		c.authTimer.Stop()
		c.authTimer = nil
	}
}

func (c *client) authTimeout() {
	if c.closing.Load() {
		return
	}
	c.log.Debug("authentication timeout")
	c.sendErrAndClose(proto.ErrTextAuthTimeout, reasonAuthTimeout)
}

// Bounds of a lingering close.
const (
	lingerTime  = 250 * time.Millisecond
	lingerBytes = 1 << 20
)

// lingerClose half-closes conn and reads what the peer still sends, for a
// moment, before the caller closes it. Closing a socket with unread input
// makes the kernel send a reset, which can destroy the -ERR we just wrote
// before the client reads it: a client that wrote CONNECT and PING right
// after INFO would see "connection reset" or "broken pipe" instead of
// "maximum connections exceeded". nats-server has that problem; we wait.
func lingerClose(conn net.Conn) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	if err := tc.CloseWrite(); err != nil {
		return
	}
	if err := tc.SetReadDeadline(time.Now().Add(lingerTime)); err != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, tc, lingerBytes)
}
