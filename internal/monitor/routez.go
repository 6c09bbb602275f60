package monitor

import (
	"fmt"
	"net/http"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Routez is /routez. Starling has no cluster routes yet, so the list is
// always empty, but the shape is nats-server's, for tools that poll it.
type Routez struct {
	ID        string    `json:"server_id"`
	Name      string    `json:"server_name"`
	Now       time.Time `json:"now"`
	NumRoutes int       `json:"num_routes"`
	Routes    []any     `json:"routes"`
}

func (m *Server) handleRoutez(w http.ResponseWriter, r *http.Request) {
	if _, _, err := querySubs(r); err != nil {
		badRequest(w, err.Error())
		return
	}
	m.count("/routez")
	writeJSON(w, r, &Routez{ID: m.core.ID(), Name: m.core.Name(), Now: time.Now().UTC(), Routes: []any{}})
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
