package monitor

import (
	"fmt"
	"net/http"
	"time"

	"github.com/starling-mq/starling/internal/subject"
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
	subs, _, err := querySubs(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	m.count("/routez")
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
	writeJSON(w, r, rz)
}

// Accountz is /accountz. Without configured accounts every client is in
// nats-server's global account, $G, and that is all there is to list.
type Accountz struct {
	ID       string       `json:"server_id"`
	Now      time.Time    `json:"now"`
	Accounts []string     `json:"accounts,omitempty"`
	Account  *AccountInfo `json:"account_detail,omitempty"`
}

// AccountInfo is one account's detail.
type AccountInfo struct {
	Name         string        `json:"account_name"`
	LastUpdate   time.Time     `json:"update_time"`
	Expired      bool          `json:"expired"`
	Complete     bool          `json:"complete"`
	JetStream    bool          `json:"jetstream_enabled"`
	LeafCnt      int           `json:"leafnode_connections"`
	ClientCnt    int           `json:"client_connections"`
	SubCnt       uint32        `json:"subscriptions"`
	SublistStats *SublistStats `json:"sublist_stats,omitempty"`
}

// SublistStats is the subscription trie's statistics as nats-server shows
// them inside /accountz.
type SublistStats struct {
	NumSubs   uint32  `json:"num_subscriptions"`
	NumCache  uint32  `json:"num_cache"`
	NumInsert uint64  `json:"num_inserts"`
	NumRemove uint64  `json:"num_removes"`
	NumMatch  uint64  `json:"num_matches"`
	CacheHit  float64 `json:"cache_hit_rate"`
	MaxFanout uint32  `json:"max_fanout"`
	AvgFanout float64 `json:"avg_fanout"`
}

func sublistStats(st subject.Stats) *SublistStats {
	return &SublistStats{
		NumSubs: uint32(st.Subscriptions), NumCache: uint32(st.Cached), NumInsert: st.Inserts,
		NumRemove: st.Removes, NumMatch: st.Matches, CacheHit: st.CacheHitRate,
		MaxFanout: uint32(st.MaxFanout), AvgFanout: st.AvgFanout,
	}
}

func (m *Server) handleAccountz(w http.ResponseWriter, r *http.Request) {
	m.count("/accountz")
	az := &Accountz{ID: m.core.ID(), Now: time.Now().UTC()}
	acc := r.URL.Query().Get("acc")
	switch acc {
	case "":
		az.Accounts = []string{globalAccount}
	case globalAccount:
		st := m.core.Stats()
		sl := m.core.SublistStats()
		az.Account = &AccountInfo{
			Name: globalAccount, LastUpdate: st.ConfigLoad.UTC(), Complete: true,
			ClientCnt: st.Connections, SubCnt: uint32(st.Subscriptions), SublistStats: sublistStats(sl),
		}
	default:
		badRequest(w, fmt.Sprintf("Account %s does not exist", acc))
		return
	}
	writeJSON(w, r, az)
}
