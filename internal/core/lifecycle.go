package core

import (
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
}

func (r closeReason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "Unknown"
}

// close ends the connection once; later calls do nothing. With flush, the
// writer first sends what is queued (an -ERR, or pending messages on
// shutdown), bounded by the write deadline; without, queued data is dropped
// and the socket closed at once.
func (c *client) close(reason closeReason, flush bool) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	c.reason = reason
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for _, sub := range subs {
		c.srv.sublist.Remove(sub.subject, sub.queue, sub)
	}
	c.stopTimers()

	c.out.mu.Lock()
	if flush {
		c.out.closed = true
		c.out.wakeStalled()
	} else {
		c.out.release()
	}
	c.out.mu.Unlock()
	c.out.signal()
	// Wake the read loop; it sees closing and exits.
	_ = c.conn.SetReadDeadline(time.Now())
	if !flush {
		// Unblock a writer stuck on a peer that does not read.
		_ = c.conn.Close()
	}
	c.log.Debug("client connection closing", "reason", reason.String())
}

// finish runs once the writer has closed the socket.
func (c *client) finish() {
	c.srv.removeClient(c)
	c.mu.Lock()
	reason := c.reason
	c.mu.Unlock()
	c.log.Debug("client connection closed", "reason", reason.String())
}

func (c *client) slowConsumer() {
	c.srv.stats.slowConsumers.Add(1)
	c.log.Info("slow consumer detected: max pending exceeded", "max_pending", c.srv.opts.MaxPending)
	c.close(reasonSlowConsumerPendingBytes, false)
}

func (c *client) stopTimers() {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
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

// pingTick runs every ping interval. A client that has sent nothing and
// left PingMax of our PINGs unanswered is stale. A client that sent data
// during the interval has shown it is alive, so it gets no PING.
func (c *client) pingTick() {
	if c.closing.Load() {
		return
	}
	interval := c.srv.opts.PingInterval
	if int(c.pingsOut.Load())+1 > c.srv.opts.PingMax {
		c.log.Debug("stale client connection")
		c.sendErrAndClose(proto.ErrTextStaleConnection, reasonStaleConnection)
		return
	}
	if time.Since(time.Unix(0, c.lastIn.Load())) >= interval || c.pingsOut.Load() > 0 {
		c.pingsOut.Add(1)
		c.rttStart.CompareAndSwap(0, time.Now().UnixNano())
		c.send(proto.PingLine)
	}
	c.timerMu.Lock()
	if c.pingTimer != nil && !c.closing.Load() {
		c.pingTimer.Reset(interval)
	}
	c.timerMu.Unlock()
}
