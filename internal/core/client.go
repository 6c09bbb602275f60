package core

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/msgtrace"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/subject"
)

const l1CacheMax = 256 // per-connection match results kept

// subscription is one SUB of one client. Its delivery count and limit are
// guarded by the owning client's outbound lock, which every delivery takes
// anyway.
type subscription struct {
	client  *client
	subject string
	queue   string
	sid     []byte

	delivered int64 // messages delivered so far (outbound.mu)
	max       int64 // auto-unsubscribe after this many; 0 = none (outbound.mu)

	handler MsgHandler // set for subscriptions of in-process services
	// route is set (and client nil) for a peer server's interest: the
	// message goes to that route, once per message (route.go).
	route  *route
	weight atomic.Int32 // a route's queue subscription: members it stands for (updated by RS+ while publishers read it)
	qb     []byte       // a route's queue subscription: queue as bytes, for RMSG
	imp    *imp         // set for an import: the delivery publishes in another account (imports.go)
}

// client is one connection. Fields under "read loop" are touched only by
// the goroutine running readLoop.
type client struct {
	transport
	acc *Account // the subject space it publishes and subscribes in

	mu     sync.Mutex
	opts   proto.ConnectOptions
	subs   map[string]*subscription
	reason closeReason
	// closedSubs keeps the subscriptions a closed connection held, for its
	// entry in the closed-connections ring.
	closedSubs map[string]*subscription
	tlsState   *tls.ConnectionState // set once before the loops start; nil without TLS

	// Copied from opts by CONNECT; read by this client's read loop and by
	// producers delivering to it.
	echo, headers, noResponders, verbose, pedantic atomic.Bool

	connected atomic.Bool // CONNECT accepted (or no_auth_user applied)

	// Authentication: the nonce sent in INFO (when NKey users exist), and
	// the resulting identity's name and permission checker.
	nonce    string
	authName string                       // mu
	perms    atomic.Pointer[auth.Checker] // nil: no limits
	rawPerms *auth.Permissions            // mu; what perms was built from, for USER.INFO

	// Read loop.
	parserOpts   *Options // the options the parser's limits came from
	parser       proto.Parser
	cmd          proto.Cmd
	flushes      flushSet
	cache        map[string]*subject.Result[*subscription]
	cacheGen     uint64
	lastSubj     []byte // the subject of lastResult (a copy)
	lastResult   *subject.Result[*subscription]
	batchMsgs    int64
	batchSize    int64
	batchOut     int64
	batchActive  bool // the batch held a PUB, SUB, UNSUB or PING
	batchOutSize int64
	scratch      [256]byte       // a delivery's control line when it does not fit a chunk
	sizeScratch  [20]byte        // a size token the server computes
	trace        *msgtrace.Trace // the message being routed is traced (trace.go)
	// Routes: the routes the message being routed goes to (forward.go),
	// and for a client that carries a route's messages, that route and the
	// queue groups the sender picked this server for.
	forwards    []forward
	fromRoute   *route
	deliverSubj []byte // routeTo's subject while it differs from the message's (route.sendMsg)
	routeQueues [][]byte
	// Imports: while a message is published again in another account
	// (imports.go), that account (its routes' RMSG name it) and how many
	// imports deep the message is.
	fwdAcc      *Account
	importDepth int

	authTimer *time.Timer // guarded by transport.timerMu
}

func (s *Server) createClient(conn net.Conn) {
	c := &client{
		transport: transport{
			srv:     s,
			cid:     s.nextCID.Add(1),
			conn:    conn,
			netConn: conn,
			start:   time.Now(),
		},
		acc:   s.gacc,
		subs:  map[string]*subscription{},
		opts:  proto.DefaultConnectOptions(),
		cache: map[string]*subject.Result[*subscription]{},
	}
	c.p = c
	c.echo.Store(true)
	c.verbose.Store(true)
	c.pedantic.Store(true)
	c.parser = proto.Parser{MaxControlLine: s.getOpts().MaxControlLine, MaxPayload: s.getOpts().MaxPayload}
	c.out.init(s.getOpts().MaxPending)
	if addr, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		c.host, c.port = addr.IP.String(), addr.Port
	}
	c.log = s.log.With("cid", c.cid, "remote", net.JoinHostPort(c.host, strconv.Itoa(c.port)))
	c.lastIn.Store(c.start.UnixNano())
	s.totalConns.Add(1)
	inf := s.info(c.cid, c.host)
	if s.authn.Load().NeedsNonce() {
		c.nonce = auth.NewNonce()
		inf.Nonce = c.nonce
	}
	info := proto.AppendInfoLine(nil, &inf)

	if s.getOpts().TLSConfig != nil {
		// The handshake can take up to the TLS timeout: not in the accept
		// loop.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if c.handshake(info) {
				c.register(nil)
			}
		}()
		return
	}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.out.raw = raw
		}
	}
	c.register(info)
}

// register makes c a live connection: it joins the server's client set and
// gets its read and write loops and timers. info, when set, is queued as
// the first thing to write.
func (c *client) register(info []byte) {
	s := c.srv
	if info != nil {
		c.out.mu.Lock()
		c.out.appendLocked(info)
		c.out.mu.Unlock()
	}
	if !s.addClient(c) {
		c.netConn.Close()
		return
	}
	s.wg.Add(2)
	go c.writeLoop()
	go c.readLoop()
	c.out.signal()

	if s.NumClients() > s.getOpts().MaxConnections {
		c.sendErrAndClose(proto.ErrTextMaxConnections, reasonMaxConnections)
		return
	}
	c.log.Debug("client connection created")
	c.timerMu.Lock()
	if s.authn.Load().Required() {
		c.authTimer = time.AfterFunc(s.getOpts().AuthTimeout, c.authTimeout)
	}
	c.pingTimer = time.AfterFunc(s.getOpts().PingInterval, c.pingTick)
	c.timerMu.Unlock()
}

// processInput handles every complete operation in buf[start:end] and
// returns where the unparsed remainder begins.
func (c *client) processInput(buf []byte, start, end int) int {
	if o := c.srv.getOpts(); o != c.parserOpts {
		// First batch, or the options were reloaded.
		c.parser.MaxControlLine, c.parser.MaxPayload = o.MaxControlLine, o.MaxPayload
		c.parserOpts = o
	}
	for start < end && !c.closing.Load() {
		n, err := c.parser.Parse(buf[start:end], &c.cmd)
		if err != nil {
			c.protocolError(err, buf[start:end])
			return end
		}
		if n == 0 {
			break
		}
		start += n
		c.dispatch(&c.cmd)
	}
	return start
}

// protocolError ends the connection for a parse error in data, which
// starts at the operation that failed.
func (c *client) protocolError(err error, data []byte) {
	var pe *proto.Error
	if !errors.As(err, &pe) {
		c.close(reasonProtocolViolation)
		return
	}
	c.log.Debug("protocol error", "err", pe.Error())
	reason := reasonProtocolViolation
	switch pe.Text {
	case proto.ErrTextMaxPayload:
		reason = reasonMaxPayload
		if c.cmd.Op == proto.OpHPub && c.connected.Load() {
			c.traceRefused(data, c.cmd.Size, msgtrace.ErrMaxPayload)
		}
	case proto.ErrTextMaxControlLine:
		reason = reasonMaxControlLine
	case proto.ErrTextUnknownOp:
		reason = reasonParseError
	}
	if !c.connected.Load() && c.srv.authn.Load().Required() && c.srv.getOpts().NoAuthUser == "" {
		// Nothing but CONNECT is acceptable before authentication.
		c.sendErrAndClose(proto.ErrTextAuthViolation, reasonAuthViolation)
		return
	}
	if pe.Text == "" {
		c.close(reason)
		return
	}
	c.sendErrAndClose(pe.Text, reason)
}

func (c *client) dispatch(cmd *proto.Cmd) {
	if c.srv.getOpts().Trace {
		c.traceIn(cmd)
	}
	if !c.connected.Load() && cmd.Op != proto.OpConnect && !c.implicitLogin() {
		c.sendErrAndClose(proto.ErrTextAuthViolation, reasonAuthViolation)
		return
	}
	switch cmd.Op {
	case proto.OpPub, proto.OpHPub:
		c.batchActive = true
		c.processPub(cmd)
	case proto.OpSub:
		c.batchActive = true
		c.processSub(cmd)
	case proto.OpUnsub:
		c.batchActive = true
		c.processUnsub(cmd)
	case proto.OpPing:
		c.batchActive = true
		c.queue(proto.PongLine)
	case proto.OpPong:
		c.processPong()
	case proto.OpConnect:
		c.processConnect(cmd.Arg)
	case proto.OpInfo:
		// Clients have nothing to tell us in INFO; nats-server only checks
		// that it is JSON.
		var info proto.Info
		if err := proto.ParseInfo(cmd.Arg, &info); err != nil {
			c.close(reasonProtocolViolation)
		}
	case proto.OpOK:
	case proto.OpErr:
		c.log.Info("client sent an error", "err", string(cmd.Arg))
		c.close(reasonParseError)
	}
}

func (c *client) traceIn(cmd *proto.Cmd) {
	attrs := []any{"op", cmd.Op.String()}
	switch cmd.Op {
	case proto.OpPub, proto.OpHPub:
		attrs = append(attrs, "subject", string(cmd.Subject), "reply", string(cmd.Reply), "size", cmd.Size)
	case proto.OpSub:
		attrs = append(attrs, "subject", string(cmd.Subject), "queue", string(cmd.Queue), "sid", string(cmd.Sid))
	case proto.OpUnsub:
		attrs = append(attrs, "sid", string(cmd.Sid), "max", cmd.Max)
	case proto.OpConnect:
		attrs = append(attrs, "arg", redactConnect(cmd.Arg))
	}
	c.log.Log(nil, LevelTrace, "<<-", attrs...)
}

func (c *client) processConnect(arg []byte) {
	// CONNECT is here: checking it (a bcrypt compare can take a while)
	// must not race the auth timer. nats-server clears it first too.
	c.stopAuthTimer()
	c.mu.Lock()
	opts := c.opts
	c.mu.Unlock()
	if err := proto.ParseConnect(arg, &opts); err != nil {
		c.log.Debug("bad CONNECT", "err", err)
		c.close(reasonProtocolViolation)
		return
	}
	if !c.authenticate(&opts) {
		c.sendErrAndClose(proto.ErrTextAuthViolation, reasonAuthViolation)
		c.srv.emitAuthError(c, &opts)
		return
	}
	if opts.Account != "" || opts.NewAccount {
		// Accounts come from configuration, never from the client.
		c.sendErrAndClose(proto.ErrTextAuthViolation, reasonAuthViolation)
		return
	}
	if opts.Protocol < proto.ClientProtoZero || opts.Protocol > proto.ClientProtoInfo {
		c.sendErrAndClose(proto.ErrTextBadClientProtocol, reasonBadClientProtocol)
		return
	}
	headers := opts.Headers && !c.srv.getOpts().NoHeaderSupport
	if opts.NoResponders && !headers {
		c.sendErrAndClose(proto.ErrTextNoRespondersNeedsH, reasonNoRespondersNeedsHeaders)
		return
	}
	c.mu.Lock()
	c.opts = opts
	c.mu.Unlock()
	c.echo.Store(opts.Echo)
	c.headers.Store(headers)
	c.noResponders.Store(opts.NoResponders)
	c.verbose.Store(opts.Verbose)
	c.pedantic.Store(opts.Pedantic)
	if !c.connected.Load() {
		c.connected.Store(true)
		c.stopAuthTimer()
		c.armFirstPing()
		c.srv.emitClient(EventConnect, c, nil)
	}
	if opts.Verbose {
		c.queue(proto.OKLine)
	}
}

func (c *client) processSub(cmd *proto.Cmd) {
	sid := string(cmd.Sid)
	subj := string(cmd.Subject)
	queue := string(cmd.Queue)
	// A nil checker still refuses the queue group the server reserves.
	if !c.perms.Load().CanSubscribe(subj, queue) {
		c.log.Info("subscription permission violation", "subject", subj, "queue", queue)
		c.queue(proto.ErrLine(auth.SubscribeViolation(subj, queue)))
		return
	}
	c.mu.Lock()
	if c.subs == nil { // closing
		c.mu.Unlock()
		return
	}
	if max := c.srv.getOpts().MaxSubscriptions; max > 0 && len(c.subs) >= max {
		c.mu.Unlock()
		c.log.Info("maximum subscriptions exceeded", "max", max)
		c.queue(proto.ErrLine(proto.ErrTextMaxSubscriptions))
		return
	}
	if _, dup := c.subs[sid]; !dup {
		sub := &subscription{client: c, subject: subj, queue: queue, sid: []byte(sid)}
		// Queue names are not validated, as in nats-server: the protocol's
		// whitespace splitting is the only rule.
		if err := c.acc.subscribe(sub); err != nil {
			c.mu.Unlock()
			c.queue(proto.ErrLine(proto.ErrTextInvalidSubject))
			return
		}
		c.subs[sid] = sub
	}
	c.mu.Unlock()
	if c.verbose.Load() {
		c.queue(proto.OKLine)
	}
}

func (c *client) processUnsub(cmd *proto.Cmd) {
	c.mu.Lock()
	sub := c.subs[string(cmd.Sid)]
	c.mu.Unlock()
	if sub != nil {
		max := int64(cmd.Max)
		c.out.mu.Lock()
		later := max > 0 && max > sub.delivered
		if later {
			sub.max = max
		}
		c.out.mu.Unlock()
		if !later {
			c.removeSub(sub)
		}
	}
	if c.verbose.Load() {
		c.queue(proto.OKLine)
	}
}

// removeSub drops sub from the client and the trie. Safe from any
// goroutine; a second call is a no-op.
func (c *client) removeSub(sub *subscription) {
	c.mu.Lock()
	if cur, ok := c.subs[string(sub.sid)]; !ok || cur != sub {
		c.mu.Unlock()
		return
	}
	delete(c.subs, string(sub.sid))
	c.acc.unsubscribe(sub)
	c.mu.Unlock()
}

func (c *client) processPong() { c.gotPong() }

// queue appends protocol bytes for this client from its own read loop; the
// writer is kicked at the end of the read batch.
func (c *client) queue(p []byte) {
	if c.appendProto(p) {
		c.flushes.add(&c.transport)
	}
}

// want is the parser's: the length of the operation being read.
func (c *client) want() int { return c.parser.Want }

// endBatch runs after each read: it publishes the batch's counters and
// kicks the writers of every connection the batch wrote to.
func (c *client) endBatch() {
	if c.batchActive {
		c.lastIn.Store(time.Now().UnixNano())
		c.batchActive = false
	}
	if c.batchMsgs > 0 {
		c.inMsgs.Add(c.batchMsgs)
		c.inBytes.Add(c.batchSize)
		c.srv.stats.inMsgs.Add(c.batchMsgs)
		c.srv.stats.inBytes.Add(c.batchSize)
		c.batchMsgs, c.batchSize = 0, 0
	}
	if c.batchOut > 0 {
		c.srv.stats.outMsgs.Add(c.batchOut)
		c.srv.stats.outBytes.Add(c.batchOutSize)
		c.batchOut, c.batchOutSize = 0, 0
	}
	c.flushes.signalAll()
}

// flushSet collects the connections a read batch has written to, each once.
type flushSet struct {
	list []*transport
	seen map[*transport]struct{} // used once the list is long
}

func (f *flushSet) add(c *transport) {
	n := len(f.list)
	if n > 0 && f.list[n-1] == c {
		return
	}
	if n < 16 {
		for _, x := range f.list {
			if x == c {
				return
			}
		}
	} else {
		if f.seen == nil {
			f.seen = make(map[*transport]struct{}, 2*n)
		}
		if len(f.seen) == 0 {
			for _, x := range f.list {
				f.seen[x] = struct{}{}
			}
		}
		if _, ok := f.seen[c]; ok {
			return
		}
		f.seen[c] = struct{}{}
	}
	f.list = append(f.list, c)
}

// signalAll gets every collected connection's queue written: inline when
// it is small and the socket takes it, by its writer otherwise.
func (f *flushSet) signalAll() {
	for i, c := range f.list {
		if !c.out.flushInline() {
			c.out.signal()
		}
		f.list[i] = nil
	}
	f.list = f.list[:0]
	if len(f.seen) > 0 {
		clear(f.seen)
	}
}
