package core

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/proto"
)

// Events: what core tells the system account's services (internal/sysacct)
// about. Core knows nothing of subjects or JSON here; it calls an
// EventSink at the moment something happens, on whatever goroutine that
// is, holding no lock. A sink must only queue, except ServerShutdown,
// which may wait (bounded) until the event is on its way, since the
// routes close right after it.

// EventKind names a client event.
type EventKind uint8

const (
	EventConnect    EventKind = iota + 1 // CONNECT accepted
	EventDisconnect                      // a connected client's connection ended
	EventAuthError                       // CONNECT refused: wrong credentials
)

// ClientEvent describes a client at the moment of an event.
type ClientEvent struct {
	Kind    EventKind
	Account string
	Info    ConnInfo // Stop and Reason set for a disconnect or an auth error
}

// EventSink receives the server's events.
type EventSink interface {
	ClientEvent(ev ClientEvent)
	ServerLameDuck()
	// ServerShutdown runs once the clients are closed and before the
	// routes are; it may wait briefly for the event to be sent.
	ServerShutdown()
}

// eventSinkBox lets an interface value live in an atomic.Pointer.
type eventSinkBox struct{ EventSink }

// SetEventSink installs (or, with nil, removes) the receiver of events.
func (s *Server) SetEventSink(es EventSink) {
	if es == nil {
		s.events.Store(nil)
		return
	}
	s.events.Store(&eventSinkBox{es})
}

func (s *Server) eventSink() EventSink {
	if b := s.events.Load(); b != nil {
		return b.EventSink
	}
	return nil
}

// emitClient tells the sink about c. Called holding no lock.
func (s *Server) emitClient(kind EventKind, c *client, ci *ConnInfo) {
	es := s.eventSink()
	if es == nil {
		return
	}
	ev := ClientEvent{Kind: kind}
	if ci != nil {
		ev.Info = *ci
	} else {
		ev.Info = c.info(false)
	}
	c.mu.Lock()
	ev.Account = c.acc.name
	c.mu.Unlock()
	es.ClientEvent(ev)
}

// emitAuthError tells the sink of a refused CONNECT; o is what the
// client sent, since a refused client's options are not kept.
func (s *Server) emitAuthError(c *client, o *proto.ConnectOptions) {
	if s.eventSink() == nil {
		return
	}
	ci := c.info(false)
	ci.Stop, ci.Reason = time.Now(), reasonAuthViolation.String()
	// The name refused is what the client claimed, for the operator.
	ci.Name, ci.Lang, ci.Version, ci.User = o.Name, o.Lang, o.Version, o.User
	s.emitClient(EventAuthError, c, &ci)
}

func (s *Server) emitLameDuck() {
	if es := s.eventSink(); es != nil {
		es.ServerLameDuck()
	}
}

func (s *Server) emitShutdown() {
	if es := s.eventSink(); es != nil {
		es.ServerShutdown()
	}
}

// NextEventSeq numbers the server's system messages (events, replies,
// trace events), one sequence for all, as nats-server numbers them.
func (s *Server) NextEventSeq() uint64 { return s.traceSeq.Add(1) }

// SystemAccount is the system account, nil when there is none.
func (s *Server) SystemAccount() *Account {
	name := s.getOpts().SystemAccount
	if name == "" {
		return nil
	}
	return s.LookupAccount(name)
}

// Accounts lists every account, the global one first.
func (s *Server) Accounts() []*Account { return s.accountList() }

// ErrNoSuchClient is returned for a client id the server does not have.
var ErrNoSuchClient = errors.New("no such client id")

func (s *Server) clientByID(cid uint64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[cid]
}

// DisconnectClient closes client cid as a kick from an operator.
func (s *Server) DisconnectClient(cid uint64) error {
	c := s.clientByID(cid)
	if c == nil {
		return ErrNoSuchClient
	}
	c.close(reasonKicked)
	return nil
}

// LameDuckClient tells client cid, as lame duck mode tells every client,
// to move to another server.
func (s *Server) LameDuckClient(cid uint64) error {
	c := s.clientByID(cid)
	if c == nil {
		return ErrNoSuchClient
	}
	c.sendAsyncInfo(true)
	return nil
}

// ClientIdentity is what a connected client authenticated as: its user,
// account and permissions (nil: no limits).
func (s *Server) ClientIdentity(cid uint64) (user, account string, perms *auth.Permissions, ok bool) {
	c := s.clientByID(cid)
	if c == nil {
		return "", "", nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authName, c.acc.name, c.rawPerms, true
}

// RequestInfoHeader carries the requester's identity on a request that a
// service import brings into the system account, as nats-server's header
// of that name does.
const RequestInfoHeader = "Nats-Request-Info"

// RequestInfo is the header's JSON: the requesting client, named by its
// server and connection id.
type RequestInfo struct {
	Account string `json:"acc"`
	User    string `json:"user,omitempty"`
	RTT     int64  `json:"rtt,omitempty"`
	Server  string `json:"server"`
	Cluster string `json:"cluster,omitempty"`
	ID      uint64 `json:"id"`
}

// withRequestInfo returns cmd with the requester's RequestInfo header
// added, in a buffer of its own.
func (c *client) withRequestInfo(cmd proto.Cmd) proto.Cmd {
	c.mu.Lock()
	ri := RequestInfo{Account: c.acc.name, User: c.authName, RTT: c.rtt.Load(),
		Server: c.srv.name, Cluster: c.srv.clusterName(), ID: c.cid}
	c.mu.Unlock()
	js, err := json.Marshal(ri)
	if err != nil {
		return cmd
	}
	// A header of that name the client sent is dropped: the services
	// trust this one to say who asks (nats-server replaces it too).
	var hdr []byte
	if cmd.HdrLen > 0 {
		if h := proto.RemoveHeader(cmd.Msg[:cmd.HdrLen], RequestInfoHeader); len(h) >= 2 {
			hdr = append(hdr, h[:len(h)-2]...) // a copy, without the blank line
		}
	}
	if hdr == nil {
		hdr = append(hdr, "NATS/1.0\r\n"...)
	}
	hdr = append(append(append(append(hdr, RequestInfoHeader...), ": "...), js...), "\r\n\r\n"...)
	payload := cmd.Payload()
	msg := make([]byte, 0, len(hdr)+len(payload)+2)
	msg = append(append(append(msg, hdr...), payload...), '\r', '\n')
	cmd.Op = proto.OpHPub
	cmd.Msg = msg
	cmd.HdrLen = len(hdr)
	cmd.Size = len(msg) - 2
	cmd.HdrArg = strconv.AppendInt(nil, int64(cmd.HdrLen), 10)
	cmd.SizeArg = strconv.AppendInt(nil, int64(cmd.Size), 10)
	return cmd
}

// AddSystemServiceImport is AddServiceImport for the system account's
// services: each request also carries the requester's RequestInfo.
func (s *Server) AddSystemServiceImport(dst, sys *Account, subj, to string, rt ResponseType) error {
	return s.addServiceImport("", dst, sys, subj, to, rt, 0, true)
}
