package monitor

import (
	"net/http"
	"time"
)

// Routez is /routez, in nats-server's shape.
type Routez struct {
	ID        string       `json:"server_id"`
	Name      string       `json:"server_name"`
	Now       time.Time    `json:"now"`
	NumRoutes int          `json:"num_routes"`
	Routes    []*RouteInfo `json:"routes"`
}

// RouteInfo is one route in /routez.
type RouteInfo struct {
	Rid          uint64    `json:"rid"`
	RemoteID     string    `json:"remote_id"`
	RemoteName   string    `json:"remote_name"`
	DidSolicit   bool      `json:"did_solicit"`
	IsConfigured bool      `json:"is_configured"`
	IP           string    `json:"ip"`
	Port         int       `json:"port"`
	Start        time.Time `json:"start"`
	LastActivity time.Time `json:"last_activity"`
	RTT          string    `json:"rtt,omitempty"`
	Uptime       string    `json:"uptime"`
	Idle         string    `json:"idle"`
	Pending      int       `json:"pending_size"`
	InMsgs       int64     `json:"in_msgs"`
	OutMsgs      int64     `json:"out_msgs"`
	InBytes      int64     `json:"in_bytes"`
	OutBytes     int64     `json:"out_bytes"`
	NumSubs      uint32    `json:"subscriptions"`
	Subs         []string  `json:"subscriptions_list,omitempty"`
}

func (m *Server) handleRoutez(w http.ResponseWriter, r *http.Request) {
	var o RoutezOptions
	var err error
	if o.Subscriptions, o.SubscriptionsDetail, err = querySubs(r); err != nil {
		badRequest(w, err.Error())
		return
	}
	m.count("/routez")
	writeJSON(w, r, m.routez(&o))
}

func (m *Server) routez(o *RoutezOptions) *Routez {
	subs := o.Subscriptions || o.SubscriptionsDetail
	now := time.Now()
	rz := &Routez{ID: m.core.ID(), Name: m.core.Name(), Now: now.UTC(), Routes: []*RouteInfo{}}
	list := m.core.Routes
	if subs {
		list = m.core.RoutesWithSubs
	}
	for _, rs := range list() {
		ri := &RouteInfo{
			Rid: rs.RID, RemoteID: rs.RemoteID, RemoteName: rs.RemoteName,
			DidSolicit: rs.DidSolicit, IsConfigured: rs.IsConfigured, IP: rs.IP, Port: rs.Port,
			Start: rs.Start.UTC(), LastActivity: rs.LastActivity.UTC(), RTT: rtt(rs.RTT),
			Uptime: uptime(now.Sub(rs.Start)), Idle: uptime(now.Sub(rs.LastActivity)),
			Pending: rs.Pending, InMsgs: rs.InMsgs, OutMsgs: rs.OutMsgs, InBytes: rs.InBytes, OutBytes: rs.OutBytes,
			NumSubs: uint32(rs.NumSubs),
		}
		if subs {
			ri.Subs = rs.Subs
		}
		rz.Routes = append(rz.Routes, ri)
	}
	rz.NumRoutes = len(rz.Routes)
	return rz
}
