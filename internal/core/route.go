package core

import (
	"errors"
	"net"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/interest"
	"github.com/starling-mq/starling/internal/options"
	"github.com/starling-mq/starling/internal/proto"
	"github.com/starling-mq/starling/internal/subject"
)

// route is the protocol of a connection to another server of the cluster,
// on the same transport as a client connection. What it does:
//
//   - the handshake: the dialler sends CONNECT then INFO, the acceptor
//     INFO; each side learns the other's server ID from its INFO, and a
//     connection to oneself or a second route to a known server is closed;
//   - interest: this server's own interest goes out as RS+/RS- (a watch on
//     the account: the current interest, then every change, in order);
//     the peer's RS+/RS- become subscriptions in the account's trie whose
//     receiver is the route;
//   - messages: RMSG/HMSG from the peer are delivered to local subscribers
//     only (forward.go: one hop), through a client value that carries the
//     route's messages; local messages reach the route through sendMsg.
//
// cluster.go holds the listener and names, dialer.go the routes this
// server dials, gossip.go how servers learn of each other.
type route struct {
	transport
	solicited bool
	dialer    *dialer // the dialer of a solicited route; nil in tests
	parser    proto.RouteParser
	cmd       proto.RouteCmd
	pcmd      proto.Cmd // a routed message, as the delivery path takes it
	// pub delivers the peer's messages of the global account to local
	// subscribers; pubs those of each account, by name (only the read loop
	// uses them).
	pub  *client
	pubs map[string]*client

	perms      routePerms    // the cluster's permissions, as at the start
	connected  atomic.Bool   // an accepted route's CONNECT passed the checks
	registered atomic.Bool   // became the route to its peer (addRoute)
	noRedial   atomic.Bool   // leads back to this server: not dialled again
	done       chan struct{} // closed once the connection is gone

	mu         sync.Mutex
	remoteID   string // the peer's server ID, from its INFO
	remoteName string // and its name
	// peerStarling: the peer is a Starling server (its INFO says so),
	// which settles duplicate routes by the same rule as this one.
	peerStarling atomic.Bool
	peerJS       atomic.Bool // its INFO says it runs JetStream (peers.go)
	peerMeta     []string    // the meta group its INFO named (peers.go); under mu
	// addrs are the host:port the peer's cluster listener is known by (its
	// INFO's host and port, its advertised address, the address it was
	// reached at): a dialer that would dial one of them waits instead.
	addrs    []string
	subs     map[string]routeSub // the peer's interest, by "account subject queue"
	watched  map[*Account]func() // the accounts whose interest this route tells, and how to stop
	scratch  []byte              // control lines of routed messages
	replyBuf []byte              // a delivery's encoded reply (sendMsg), under out.mu like scratch
	// late is the peer's interest in accounts this server does not have
	// (yet), by account and "subject queue"; lateN counts it all, and
	// lateDropped what did not fit (routelate.go).
	late        map[string]map[string]lateSub
	lateN       int
	lateDropped uint64
}

// startRoute runs the route protocol on conn: dialled by this server
// (solicited, presenting no credentials) or accepted on the cluster
// listener.
func (s *Server) startRoute(conn net.Conn, solicited bool) *route {
	if solicited {
		return s.startRouteWith(conn, s.routeConnect(nil), nil)
	}
	return s.startRouteWith(conn, nil, nil)
}

// startRouteWith runs the route protocol on conn: dialled by this server
// when connect is set (sent first, d is its dialer), accepted otherwise.
func (s *Server) startRouteWith(conn net.Conn, connect *proto.RouteConnect, d *dialer) *route {
	solicited := connect != nil
	netConn := rawConn(conn)
	r := &route{
		dialer: d,
		transport: transport{
			srv:     s,
			cid:     s.nextCID.Add(1),
			conn:    conn,
			netConn: netConn,
			start:   time.Now(),
		},
		solicited: solicited,
		perms:     newRoutePerms(s.getOpts().Cluster.Permissions),
		parser:    proto.RouteParser{MaxControlLine: proto.DefaultRouteMaxControlLine, MaxPayload: proto.DefaultRouteMaxPayload},
		subs:      map[string]routeSub{},
		watched:   map[*Account]func(){},
		done:      make(chan struct{}),
	}
	r.connected.Store(solicited)
	r.p = r
	r.log = s.log.With("rid", r.cid, "remote", netConn.RemoteAddr().String())
	r.out.init(s.getOpts().MaxPending)
	r.lastIn.Store(r.start.UnixNano())
	r.pub = &client{
		transport: transport{srv: s, cid: r.cid, log: r.log, start: r.start},
		acc:       s.gacc,
		subs:      map[string]*subscription{},
		cache:     map[string]*subject.Result[*subscription]{},
		fromRoute: r,
	}
	r.pub.p = r.pub
	r.pub.headers.Store(true)
	r.pubs = map[string]*client{s.gacc.name: r.pub}
	if !s.trackRoute(r) {
		conn.Close()
		close(r.done)
		return r
	}
	var hello []byte
	if solicited {
		hello = proto.AppendRouteConnectLine(hello, connect)
	}
	hello = proto.AppendRouteInfoLine(hello, s.routeInfo())
	r.out.mu.Lock()
	r.out.appendLocked(hello)
	r.out.mu.Unlock()
	s.wg.Add(2)
	go r.writeLoop()
	go r.readLoop()
	r.out.signal()
	r.timerMu.Lock()
	// The first PING comes early (as for clients), so /routez has the
	// round trip soon; later ones every ping interval.
	r.pingTimer = time.AfterFunc(min(s.routePingInterval(), firstPingMax), r.pingTick)
	r.timerMu.Unlock()
	if !solicited {
		wait := s.getOpts().Cluster.AuthTimeout
		if wait <= 0 {
			wait = options.DefaultAuthTimeout
		}
		time.AfterFunc(wait, func() {
			if !r.connected.Load() && !r.closing.Load() {
				r.sendErrAndClose(proto.ErrTextAuthTimeout, reasonAuthTimeout)
			}
		})
	}
	return r
}

// routePingInterval is the route's: the cluster's, else the client one,
// capped as nats-server caps it.
func (s *Server) routePingInterval() time.Duration {
	d, _, _ := s.routeTiming()
	return d
}

// routeTiming is the ping interval, unanswered PINGs allowed and write
// deadline of routes: the cluster's settings, else the clients'.
func (s *Server) routeTiming() (time.Duration, int, time.Duration) {
	o := s.getOpts()
	d, max, wd := o.Cluster.PingInterval, o.Cluster.PingMax, o.Cluster.WriteDeadline
	if d <= 0 {
		d = o.PingInterval
	}
	if max <= 0 {
		max = o.PingMax
	}
	if wd <= 0 {
		wd = o.WriteDeadline
	}
	return min(d, options.MaxRoutePingInterval), max, wd
}

func (r *route) timing() (time.Duration, int, time.Duration) { return r.srv.routeTiming() }

// routeInfo is this server's route INFO.
func (s *Server) routeInfo() *proto.RouteInfo {
	o := s.getOpts()
	info := &proto.RouteInfo{
		ServerID:     s.id,
		ServerName:   s.name,
		Version:      ProtocolVersion,
		Proto:        proto.RouteProtoV2,
		GitCommit:    starlingMark + Version,
		Go:           runtime.Version(),
		Host:         o.Cluster.Host,
		Headers:      true,
		MaxPayload:   int32(o.MaxPayload),
		AuthRequired: o.Cluster.Username != "" || o.Cluster.Password != "",
		TLSRequired:  o.Cluster.TLSConfig != nil,
		TLSVerify:    o.Cluster.TLSConfig != nil,
		LameDuckMode: s.IsLameDuck(),
		// Read by Starling peers only (peers.go).
		StarlingJetStream: s.announceJS.Load(),
		StarlingMeta:      s.metaMembers(),
	}
	if addr, ok := s.ClusterAddr().(*net.TCPAddr); ok {
		info.Port = addr.Port
	}
	if o.Cluster.Advertise != "" {
		if host, port, err := o.Cluster.AdvertiseHostPort(); err == nil {
			if port == 0 || port == options.RandomPort {
				port = info.Port
			}
			info.Host, info.Port = host, port
			info.IP = routeURL(host, port)
		}
	}
	if !o.Cluster.NoAdvertise && !info.LameDuckMode {
		info.ConnectURLs = s.ownClientURLs()
	}
	if p := o.Cluster.Permissions; p != nil {
		info.Import, info.Export = wirePerm(p.Import), wirePerm(p.Export)
	}
	s.cluster.mu.Lock()
	info.Cluster, info.ClusterDynamic = s.cluster.name, s.cluster.dynamic
	s.cluster.mu.Unlock()
	return info
}

// wirePerm is a permission as a route INFO carries it.
func wirePerm(p *auth.SubjectPermission) *proto.SubjectPermission {
	if p == nil {
		return nil
	}
	return &proto.SubjectPermission{Allow: p.Allow, Deny: p.Deny}
}

// starlingMark starts the git_commit of a Starling server's route INFO
// (nats-server puts its build's commit there and reads nothing from it),
// so that two Starling servers know they share the duplicate-route rule.
const starlingMark = "starling-"

func (r *route) want() int { return r.parser.Want }

// processInput handles every complete route operation in buf[start:end].
func (r *route) processInput(buf []byte, start, end int) int {
	for start < end && !r.closing.Load() {
		n, err := r.parser.Parse(buf[start:end], &r.cmd)
		if err != nil {
			r.log.Debug("route protocol error", "err", err)
			var perr *proto.Error
			if errors.As(err, &perr) && perr.Text != "" {
				// nats-server says so for an unknown operation; a
				// malformed one is closed without a word, as there.
				r.sendErrAndClose(perr.Text, reasonProtocolViolation)
			} else {
				r.close(reasonProtocolViolation)
			}
			return end
		}
		if n == 0 {
			break
		}
		start += n
		r.dispatch(&r.cmd)
	}
	return start
}

func (r *route) dispatch(cmd *proto.RouteCmd) {
	switch cmd.Op {
	case proto.RouteOpPing:
		r.send(proto.PongLine)
	case proto.RouteOpPong:
		r.gotPong()
	case proto.RouteOpInfo:
		r.processInfo(cmd.Arg)
	case proto.RouteOpConnect:
		r.processConnect(cmd.Arg)
	case proto.RouteOpErr:
		r.log.Info("route error from the peer", "err", string(cmd.Arg))
		r.close(reasonClientClosed)
	case proto.RouteOpSub:
		if r.ownAccount(cmd.Account) {
			r.remoteSub(cmd)
		} else {
			r.keepLate(cmd)
		}
	case proto.RouteOpUnsub:
		if r.ownAccount(cmd.Account) {
			r.remoteUnsub(cmd)
		} else {
			r.dropLate(cmd)
		}
	case proto.RouteOpMsg, proto.RouteOpHMsg:
		if r.ownAccount(cmd.Account) {
			r.deliverRouted(cmd)
		}
	case proto.RouteOpOK:
	default:
		// Leafnode interest and messages: no leafnodes here, and a peer
		// sends them only to servers that announced lnoc.
		r.log.Debug("route operation ignored", "op", cmd.Op.String())
	}
}

// ownAccount reports whether this server has account acc: a nats-server
// peer also sends interest and messages of its system account and of
// accounts this server does not have, which have no subscribers here:
// the messages are dropped, the interest kept aside for when the account
// comes (routelate.go).
func (r *route) ownAccount(acc []byte) bool { return r.pubFor(acc) != nil }

// pubFor is the client that delivers the peer's messages of account acc,
// nil when this server has no such account. Read loop only.
func (r *route) pubFor(acc []byte) *client {
	if c := r.pubs[string(acc)]; c != nil {
		if !c.acc.removed.Load() {
			return c
		}
		delete(r.pubs, string(acc)) // a reload removed it; it may be back
	}
	a := r.srv.LookupAccount(string(acc))
	if a == nil {
		return nil
	}
	c := &client{
		transport: transport{srv: r.srv, cid: r.cid, log: r.log, start: r.start},
		acc:       a,
		subs:      map[string]*subscription{},
		cache:     map[string]*subject.Result[*subscription]{},
		fromRoute: r,
	}
	c.p = c
	c.headers.Store(true)
	r.pubs[a.name] = c
	return c
}

// processConnect takes a dialler's CONNECT on an accepted route.
func (r *route) processConnect(arg []byte) {
	if r.solicited || r.connected.Load() {
		return // only the dialler sends one, once
	}
	var c proto.RouteConnect
	if err := proto.ParseRouteConnect(arg, &c); err != nil {
		r.close(reasonProtocolViolation)
		return
	}
	if c.Lang != "" {
		r.log.Debug("a client dialled the route port")
		r.sendErrAndClose(proto.ErrTextRoutePort, reasonProtocolViolation)
		return
	}
	if c.Gateway != "" {
		r.log.Debug("a gateway dialled the route port")
		r.close(reasonProtocolViolation)
		return
	}
	if text := r.srv.checkRouteConnect(&c); text != "" {
		r.log.Info("route refused", "err", text)
		s := r.srv
		s.stats.routesRefused.Add(1)
		reason := reasonAuthViolation
		if text != proto.ErrTextAuthViolation {
			reason = reasonClusterNameConflict
		}
		r.sendErrAndClose(text, reason)
		return
	}
	r.connected.Store(true)
}

// processInfo takes the peer's INFO. The first one completes the
// handshake: the route joins the server's routes and starts sending this
// server's interest.
func (r *route) processInfo(arg []byte) {
	var info proto.RouteInfo
	if err := proto.ParseRouteInfo(arg, &info); err != nil {
		r.close(reasonProtocolViolation)
		return
	}
	r.mu.Lock()
	first := r.remoteID == ""
	if first {
		r.remoteID, r.remoteName = info.ServerID, info.ServerName
		starling := strings.HasPrefix(info.GitCommit, starlingMark)
		r.peerStarling.Store(starling)
		// A nats-server says "jetstream"; a Starling leaves that unset
		// (peers.go) and says "starling_jetstream".
		r.peerJS.Store(info.StarlingJetStream || (!starling && info.JetStream))
		r.peerMeta = info.StarlingMeta
		r.addrs = r.peerAddrs(&info)
	}
	r.mu.Unlock()
	s := r.srv
	if !first {
		r.processLaterInfo(&info)
		return
	}
	if info.ServerID == s.id {
		r.log.Debug("route to self closed")
		r.noRedial.Store(true)
		r.close(reasonClientClosed)
		return
	}
	if !r.solicited && info.ServerName == s.name {
		// Server names identify servers in monitoring and, later, in
		// replicated streams: two servers may not share one.
		r.log.Error("route refused: the remote server has a duplicate name", "name", info.ServerName)
		s.stats.routesRefused.Add(1)
		r.close(reasonDuplicateServerName)
		return
	}
	if !r.connected.Load() {
		// An accepted route's INFO before its CONNECT.
		r.sendErrAndClose(proto.ErrTextAuthViolation, reasonAuthViolation)
		return
	}
	if r.solicited {
		if text := s.checkClusterName(info.Cluster, info.ClusterDynamic); text != "" {
			r.log.Info("route refused", "err", text)
			s.stats.routesRefused.Add(1)
			r.sendErrAndClose(text, reasonClusterNameConflict)
			return
		}
	}
	news := r.solicited && r.dialer != nil && !r.dialer.implicit && info.ServerName != "" &&
		r.dialer.noteReached(info.ServerName)
	if !s.addRoute(r, info.ServerID) {
		r.log.Debug("second route to a known server closed", "server", info.ServerID)
		r.close(reasonClientClosed)
		if news {
			// The peer's address for Raft changed although its route
			// did not (peers.go).
			s.notifyPeers(r)
		}
		return
	}
	r.registered.Store(true)
	s.notifyPeers(r)
	r.log.Info("route connection created", "server", info.ServerID, "name", info.ServerName)
	if !info.LameDuckMode {
		s.setPeerURLs(info.ServerID, info.ConnectURLs)
	}
	s.gossipNewRoute(r, info)
	for _, acc := range s.accountList() {
		r.watchAccount(acc)
	}
	if !r.peerStarling.Load() && r.peerJS.Load() {
		s.proxyJetStreamIfWanted()
	}
}

// processLaterInfo takes an INFO after the first: gossip about another
// server, or news of the peer (lame duck: its clients' URLs go).
func (r *route) processLaterInfo(info *proto.RouteInfo) {
	s := r.srv
	id := r.peerID()
	if info.ServerID != id {
		s.processGossip(info)
		return
	}
	if !r.registered.Load() {
		return
	}
	if info.LameDuckMode {
		r.log.Info("route peer entered lame duck mode", "server", id)
		s.setPeerURLs(id, nil)
		return
	}
	s.setPeerURLs(id, info.ConnectURLs)
}

// peerAddrs lists the addresses the peer's cluster listener is reached
// at, from its INFO and the connection.
func (r *route) peerAddrs(info *proto.RouteInfo) []string {
	port := strconv.Itoa(info.Port)
	addrs := []string{net.JoinHostPort(info.Host, port)}
	if u, err := url.Parse(info.IP); err == nil && u.Host != "" {
		addrs = append(addrs, u.Host)
	}
	if r.solicited {
		addrs = append(addrs, r.netConn.RemoteAddr().String())
	} else if addr, ok := r.netConn.RemoteAddr().(*net.TCPAddr); ok {
		addrs = append(addrs, net.JoinHostPort(addr.IP.String(), port))
	}
	return addrs
}

// reachedAt reports whether the peer's cluster listener is known by
// hostPort.
func (r *route) reachedAt(hostPort string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.addrs {
		if strings.EqualFold(a, hostPort) {
			return true
		}
	}
	return false
}

// peerID is the peer's server ID, "" before its INFO.
func (r *route) peerID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.remoteID
}

// implicit reports whether this server dialled r because of gossip.
func (r *route) implicit() bool { return r.dialer != nil && r.dialer.implicit }

// watchAccount starts telling the peer of acc's interest (its current
// interest, then every change), once per account.
func (r *route) watchAccount(acc *Account) {
	r.mu.Lock()
	if r.watched == nil || r.watched[acc] != nil { // closing, or watched
		r.mu.Unlock()
		return
	}
	r.watched[acc] = func() {} // reserved: a concurrent call stops here
	r.mu.Unlock()
	cancel := acc.WatchInterest(func(ev interest.Event) { r.sendInterest(acc.nameb, ev) })
	r.mu.Lock()
	if r.watched == nil { // closed meanwhile: close found no watch to end
		r.mu.Unlock()
		cancel()
		return
	}
	r.watched[acc] = cancel
	r.mu.Unlock()
}

// sendInterest queues one RS+ or RS- of account acc. It runs under the
// account's lock, so it only appends: a route over its limit is closed
// from a goroutine.
func (r *route) sendInterest(acc []byte, ev interest.Event) {
	if !r.perms.canImportSub(ev.Subject) {
		return
	}
	var line []byte
	if ev.Removed {
		line = proto.AppendRouteUnsub(nil, acc, []byte(ev.Subject), []byte(ev.Queue))
	} else {
		line = proto.AppendRouteSub(nil, acc, []byte(ev.Subject), []byte(ev.Queue), int(ev.Weight))
	}
	o := &r.out
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.appendLocked(line)
	over := o.pending > o.maxPending
	o.mu.Unlock()
	if over {
		go r.slowConsumer()
		return
	}
	o.signal()
}

// routeSub is a peer's interest recorded in one of this server's accounts.
type routeSub struct {
	acc *Account
	sub *subscription
}

func subKey(acc, subj, queue []byte) string {
	return string(acc) + " " + string(subj) + " " + string(queue)
}

// remoteSub records the peer's interest in a subject or queue group.
func (r *route) remoteSub(cmd *proto.RouteCmd) {
	if !r.perms.canExportSub(string(cmd.Subject)) {
		r.log.Debug("route interest not exported", "subject", string(cmd.Subject))
		return
	}
	pub := r.pubFor(cmd.Account)
	if pub == nil {
		return
	}
	key := subKey(cmd.Account, cmd.Subject, cmd.Queue)
	r.mu.Lock()
	if pub.acc.removed.Load() {
		// A reload removed the account since pubFor looked; its
		// forgetAccount (after the flag, under r.mu) is done or will not
		// see this, so it waits with the late interest instead.
		r.mu.Unlock()
		r.keepLate(cmd)
		return
	}
	defer r.mu.Unlock()
	if r.subs == nil {
		return // closing
	}
	if rs, ok := r.subs[key]; ok {
		rs.sub.weight.Store(int32(cmd.Weight)) // a queue group's new size
		return
	}
	sub := &subscription{route: r, subject: string(cmd.Subject), queue: string(cmd.Queue)}
	sub.weight.Store(int32(cmd.Weight))
	if len(cmd.Queue) > 0 {
		sub.qb = []byte(sub.queue)
	}
	if err := pub.acc.subscribeRemote(sub); err != nil {
		r.log.Debug("route interest refused", "subject", sub.subject, "err", err)
		return
	}
	r.subs[key] = routeSub{acc: pub.acc, sub: sub}
}

// remoteUnsub drops the peer's interest.
func (r *route) remoteUnsub(cmd *proto.RouteCmd) {
	key := subKey(cmd.Account, cmd.Subject, cmd.Queue)
	r.mu.Lock()
	defer r.mu.Unlock()
	if rs, ok := r.subs[key]; ok {
		delete(r.subs, key)
		rs.acc.unsubscribeRemote(rs.sub)
	}
}

// deliverRouted hands a routed message to this server's own subscribers:
// plain ones, and the queue groups the sender named.
func (r *route) deliverRouted(cmd *proto.RouteCmd) {
	r.inMsgs.Add(1)
	r.inBytes.Add(int64(cmd.Size))
	p := &r.pcmd
	p.Op = proto.OpPub
	if cmd.Op == proto.RouteOpHMsg {
		p.Op = proto.OpHPub
	}
	p.Subject, p.Reply, p.HdrLen, p.Size = cmd.Subject, cmd.Reply, cmd.HdrLen, cmd.Size
	p.HdrArg, p.SizeArg, p.Msg = cmd.HdrArg, cmd.SizeArg, cmd.Msg
	pub := r.pubFor(cmd.Account)
	if pub == nil {
		return
	}
	pub.routeQueues = cmd.Queues
	pub.route(p)
	pub.routeQueues = nil
}

// endBatch kicks the writers of every connection the read batch wrote to.
func (r *route) endBatch() {
	r.lastIn.Store(time.Now().UnixNano())
	for _, pub := range r.pubs {
		pub.endBatch()
	}
}

// sendMsg queues a local message for the peer, naming the queue groups
// this server picked it for. c is the publishing connection.
func (r *route) sendMsg(c *client, cmd *proto.Cmd, queues [][]byte) bool {
	hdrArg := cmd.HdrArg
	if cmd.HdrLen == 0 {
		hdrArg = nil
	}
	o := &r.out
	o.mu.Lock()
	if c.mayStall(&r.transport) {
		// As for a client receiver (deliver): the publisher waits while
		// the route drains, rather than the route being cut.
		need := len(cmd.Msg) + len(cmd.Subject) + len(cmd.Reply) + 64
		for stall := o.overStall(need); stall != nil; stall = o.overStall(need) {
			o.mu.Unlock()
			released := c.stallFor(&r.transport, stall)
			o.mu.Lock()
			if !released {
				break
			}
		}
	}
	if o.closed {
		o.mu.Unlock()
		return false
	}
	acc := c.acc
	if c.fwdAcc != nil {
		acc = c.fwdAcc // a message published again in another account
	}
	subj, reply := cmd.Subject, cmd.Reply
	if c.deliverSubj != nil {
		// A consumer's delivery to a deliver subject another server's
		// client holds: sent on that subject, the message's own after an
		// '@' in the reply (nats-server's encoding; route() undoes it).
		subj = c.deliverSubj
		if len(reply) > 0 {
			r.replyBuf = append(append(append(r.replyBuf[:0], reply...), '@'), cmd.Subject...)
			reply = r.replyBuf
		}
	}
	r.scratch = proto.AppendRouteMsgHeader(r.scratch[:0], acc.nameb, subj, reply, queues, hdrArg, cmd.SizeArg)
	o.appendLocked(r.scratch)
	o.appendLocked(cmd.Msg)
	o.outMsgs++
	o.outBytes += int64(cmd.Size)
	over := o.pending > o.maxPending
	o.mu.Unlock()
	if over {
		// A slow route is closed, never waited for: clients go on.
		r.slowConsumer()
		return false
	}
	c.flushes.add(&r.transport)
	return true
}

// close ends the route once: the peer's interest leaves the trie and this
// server stops telling it of its own.
func (r *route) close(reason closeReason) {
	if !r.closing.CompareAndSwap(false, true) {
		return
	}
	r.mu.Lock()
	subs, watched, id := r.subs, r.watched, r.remoteID
	r.subs, r.watched, r.late, r.lateN = nil, nil, nil, 0
	r.mu.Unlock()
	for _, cancel := range watched {
		cancel()
	}
	for _, rs := range subs {
		rs.acc.unsubscribeRemote(rs.sub)
	}
	if r.srv.removeRoute(r, id) {
		r.srv.setPeerURLs(id, nil)
		r.srv.notifyPeers(r)
	}
	r.shutdown(reason.flushes())
	r.log.Debug("route connection closing", "reason", reason.String())
}

func (r *route) finish() {
	r.srv.mu.Lock()
	delete(r.srv.routeConns, r)
	r.srv.mu.Unlock()
	close(r.done)
	r.log.Info("route connection closed")
}

// trackRoute adds r to the route connections Shutdown closes, unless the
// server is shutting down.
func (s *Server) trackRoute(r *route) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	if s.routeConns == nil {
		s.routeConns = map[*route]struct{}{}
	}
	s.routeConns[r] = struct{}{}
	return true
}

func (s *Server) routeList() []*route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*route, 0, len(s.routeConns))
	for r := range s.routeConns {
		out = append(out, r)
	}
	return out
}

// addRoute registers r as the route to server id. When a route to it is
// already up (the two servers dialled each other at the same moment, or
// one dialled twice) both servers keep the same connection: between
// Starling servers, the one dialled by the server with the lower ID, or
// the first when both were dialled by the same server. nats-server keeps
// the first route it registered, so with a nats-server peer this server
// does the same; when the two picked different connections and both end,
// the dialers try again after a random pause until they agree, as
// nats-server's do. The route that loses is closed.
func (s *Server) addRoute(r *route, id string) bool {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return false
	}
	if s.routes == nil {
		s.routes = map[string]*route{}
	}
	cur := s.routes[id]
	if cur != nil && !s.prefers(r, cur, id) {
		s.mu.Unlock()
		return false
	}
	s.routes[id] = r
	if s.routeUps == nil {
		s.routeUps = map[string]int64{}
	}
	s.routeUps[id]++
	s.mu.Unlock()
	if cur != nil {
		cur.log.Debug("route replaced by the one both servers keep", "server", id)
		cur.close(reasonClientClosed)
	}
	return true
}

// prefers reports whether route r to server peer wins over cur.
func (s *Server) prefers(r, cur *route, peer string) bool {
	if !r.peerStarling.Load() {
		return false // nats-server's rule: the first one stays
	}
	dialler := func(x *route) string {
		if x.solicited {
			return s.id
		}
		return peer
	}
	return dialler(r) < dialler(cur)
}

// removeRoute drops r as the route to id, reporting whether it was.
func (s *Server) removeRoute(r *route, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" && s.routes[id] == r {
		delete(s.routes, id)
		return true
	}
	return false
}

// NumRoutes is the number of routes up.
func (s *Server) NumRoutes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.routes)
}

// dialRoute connects to a peer's cluster address.
func (s *Server) dialRoute(addr string) (*route, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return s.startRoute(conn, true), nil
}

// serveRoutes accepts route connections on ln until it is closed.
func (s *Server) serveRoutes(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Debug("route accept failed", "err", err)
			}
			return
		}
		s.acceptRoute(conn)
	}
}

// RouteSnapshot describes one route for /routez.
type RouteSnapshot struct {
	RID               uint64
	RemoteID          string
	RemoteName        string
	DidSolicit        bool
	IsConfigured      bool          // dialled because the configuration names it
	RTT               time.Duration // the last PING's round trip, 0 before one
	IP                string
	Port              int
	Start             time.Time
	LastActivity      time.Time
	Pending           int
	InMsgs, InBytes   int64
	OutMsgs, OutBytes int64
	NumSubs           int      // the peer's interest: how many subjects and queue groups
	Subs              []string // with RoutesWithSubs: each, as subject or "subject queue"
	// Reconnects counts the routes to this peer that came up after the
	// first one, over the server's life.
	Reconnects int64
}

// Routes describes the routes that are up, ordered by route ID, without
// listing the peers' interest (cheap enough for every metrics scrape).
func (s *Server) Routes() []RouteSnapshot { return s.routeSnapshots(false) }

// RoutesWithSubs is Routes with each peer's interest listed (/routez?subs=1).
func (s *Server) RoutesWithSubs() []RouteSnapshot { return s.routeSnapshots(true) }

func (s *Server) routeSnapshots(withSubs bool) []RouteSnapshot {
	s.mu.Lock()
	list := make([]*route, 0, len(s.routes))
	ups := make(map[*route]int64, len(s.routes))
	for id, r := range s.routes {
		list = append(list, r)
		ups[r] = s.routeUps[id]
	}
	s.mu.Unlock()
	out := make([]RouteSnapshot, 0, len(list))
	for _, r := range list {
		rs := RouteSnapshot{
			RID: r.cid, DidSolicit: r.solicited, Start: r.start,
			IsConfigured: r.dialer != nil && !r.dialer.implicit,
			RTT:          time.Duration(r.rtt.Load()),
			LastActivity: time.Unix(0, r.lastIn.Load()),
			InMsgs:       r.inMsgs.Load(), InBytes: r.inBytes.Load(),
			Reconnects: max(ups[r]-1, 0),
		}
		if addr, ok := r.netConn.RemoteAddr().(*net.TCPAddr); ok {
			rs.IP, rs.Port = addr.IP.String(), addr.Port
		}
		r.mu.Lock()
		rs.RemoteID, rs.RemoteName = r.remoteID, r.remoteName
		rs.NumSubs = len(r.subs)
		for _, sub := range r.subs {
			if !withSubs {
				break
			}
			name := sub.sub.subject
			if sub.sub.queue != "" {
				name += " " + sub.sub.queue
			}
			rs.Subs = append(rs.Subs, name)
		}
		r.mu.Unlock()
		sort.Strings(rs.Subs)
		r.out.mu.Lock()
		rs.Pending, rs.OutMsgs, rs.OutBytes = r.out.pending, r.out.outMsgs, r.out.outBytes
		r.out.mu.Unlock()
		out = append(out, rs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RID < out[j].RID })
	return out
}
