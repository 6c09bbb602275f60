package sysacct

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/proto"
)

// Server is what the services need of the core server (*core.Server).
type Server interface {
	ID() string
	Name() string
	ClusterName() string
	NextEventSeq() uint64
	DisconnectClient(cid uint64) error
	LameDuckClient(cid uint64) error
	ClientIdentity(cid uint64) (user, account string, perms *auth.Permissions, ok bool)
}

// job is a request waiting for the worker; its slices are copies.
type job struct {
	req    request
	reply  string
	hdr    []byte
	body   []byte
	client uint64 // the publishing connection
}

// serverInfo fills the server block for one message.
func (s *Service) serverInfo() *ServerInfo {
	si := &ServerInfo{
		Name: s.srv.Name(), Host: s.cfg.Host, ID: s.srv.ID(), Cluster: s.srv.ClusterName(),
		Domain: s.cfg.Domain, Version: core.ProtocolVersion, JetStream: s.cfg.JetStream,
		Seq: s.srv.NextEventSeq(), Time: time.Now().UTC(),
	}
	if si.JetStream {
		si.Flags = flagJetStream
	}
	return si
}

// filtered reports whether the request's filter leaves this server out.
func (s *Service) filtered(f *eventFilter) bool {
	switch {
	case f.Name != "" && !strings.Contains(s.srv.Name(), f.Name),
		f.Host != "" && !strings.Contains(s.cfg.Host, f.Host),
		f.Cluster != "" && !strings.Contains(s.srv.ClusterName(), f.Cluster),
		f.Domain != "" && f.Domain != s.cfg.Domain,
		len(f.Tags) > 0: // this server has no tags
		return true
	}
	return false
}

// answer computes the reply to j; send is false when nats-server would
// not reply (a filter leaves this server out, a request about another
// server's client, an unreadable KICK).
func (s *Service) answer(j *job) (reply any, send bool) {
	var cidReq struct {
		CID uint64 `json:"cid"`
	}
	if j.req.kind == "KICK" || j.req.kind == "LDM" {
		if err := json.Unmarshal(j.body, &cidReq); err != nil {
			s.log.Debug("unreadable system request", "kind", j.req.kind, "err", err)
			return nil, false
		}
	}
	if len(j.body) > 0 {
		var f eventFilter
		if err := json.Unmarshal(j.body, &f); err != nil {
			return &response{Server: s.serverInfo(), Error: &apiError{Code: http.StatusBadRequest, Description: err.Error()}}, true
		}
		if s.filtered(&f) {
			return nil, false
		}
	}
	resp := &response{}
	var data any
	var err error
	switch j.req.scope {
	case scopeUser:
		ri, ok := requestInfo(j.hdr)
		if !ok || ri.Server != s.srv.Name() {
			return nil, false // the requester's own server answers
		}
		data, err = s.userInfo(ri)
	case scopeAccount:
		acc := j.req.account
		if acc == accountPingTok {
			acc = s.requesterAccount(j)
		}
		if acc == s.sysName && j.req.account == accountPingTok && j.req.kind == "STATZ" {
			// Asked in the system account itself: every account's
			// statistics, as nats-server answers.
			acc = ""
		}
		data, err = s.report(j.req.kind, acc, j.body)
	default:
		switch j.req.kind {
		case "IDZ":
			// The one reply nats-server sends without the envelope.
			return &serverID{Name: s.srv.Name(), Host: s.cfg.Host, ID: s.srv.ID()}, true
		case "KICK":
			if err = s.srv.DisconnectClient(cidReq.CID); errors.Is(err, core.ErrNoSuchClient) {
				err = errKickNoClient
			}
		case "LDM":
			err = s.srv.LameDuckClient(cidReq.CID)
		case "RELOAD":
			err = s.reload()
		case "STATSZ":
			data, err = s.report(j.req.kind, "", j.body)
			if err == nil {
				return &statszMsg{Server: s.serverInfo(), Stats: data}, true
			}
		default:
			data, err = s.report(j.req.kind, "", j.body)
		}
	}
	var nr interface{ NoReply() bool }
	if errors.As(err, &nr) && nr.NoReply() {
		return nil, false
	}
	resp.Server = s.serverInfo()
	if err != nil {
		resp.Error, resp.Data = errorResponse(err)
	} else {
		resp.Data = data
	}
	return resp, true
}

func (s *Service) report(kind, account string, body []byte) (any, error) {
	r := s.reporter()
	if r == nil {
		return nil, errNoReporter
	}
	return r.Report(kind, account, body)
}

func (s *Service) reload() error {
	if s.cfg.Reload == nil {
		return errNoReload
	}
	return s.cfg.Reload()
}

// requesterAccount is the account an ACCOUNT.PING request is about: the
// requester's, named by the request's header or found by its connection;
// the system account's when neither says (a request from another server).
func (s *Service) requesterAccount(j *job) string {
	if ri, ok := requestInfo(j.hdr); ok && ri.Account != "" {
		return ri.Account
	}
	if _, acc, _, ok := s.srv.ClientIdentity(j.client); ok {
		return acc
	}
	return s.sysName
}

// userInfoData is USER.INFO's data.
type userInfoData struct {
	User        string            `json:"user"`
	Account     string            `json:"account"`
	Permissions *auth.Permissions `json:"permissions,omitempty"`
	Expires     time.Duration     `json:"expires,omitempty"`
}

func (s *Service) userInfo(ri core.RequestInfo) (any, error) {
	user, acc, perms, ok := s.srv.ClientIdentity(ri.ID)
	if !ok {
		return nil, errRequesterGone
	}
	return &userInfoData{User: user, Account: acc, Permissions: publicPermissions(perms)}, nil
}

// publicPermissions is perms as USER.INFO shows them: a direction without
// rules is an empty object, as nats-server writes it.
func publicPermissions(perms *auth.Permissions) *auth.Permissions {
	if perms == nil {
		return nil
	}
	p := *perms
	if p.Publish == nil {
		p.Publish = &auth.SubjectPermission{}
	}
	if p.Subscribe == nil {
		p.Subscribe = &auth.SubjectPermission{}
	}
	return &p
}

// serverID is IDZ's reply.
type serverID struct {
	Name string `json:"name"`
	Host string `json:"host"`
	ID   string `json:"id"`
}

// requestInfo reads the requester's identity from a request's headers.
func requestInfo(hdr []byte) (core.RequestInfo, bool) {
	var ri core.RequestInfo
	v, found := proto.HeaderValue(hdr, core.RequestInfoHeader)
	if !found {
		return ri, false
	}
	if err := json.Unmarshal([]byte(v), &ri); err != nil {
		return ri, false
	}
	return ri, true
}
