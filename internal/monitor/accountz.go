package monitor

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/subject"
)

// Accountz is /accountz: the accounts' names, or one account's detail.
type Accountz struct {
	ID            string       `json:"server_id"`
	Now           time.Time    `json:"now"`
	SystemAccount string       `json:"system_account,omitempty"`
	Accounts      []string     `json:"accounts,omitempty"`
	Account       *AccountInfo `json:"account_detail,omitempty"`
}

// AccountInfo is one account's detail, in /accountz and in the answer to
// $SYS.REQ.ACCOUNT.<account>.INFO.
type AccountInfo struct {
	Name         string        `json:"account_name"`
	LastUpdate   time.Time     `json:"update_time"`
	IsSystem     bool          `json:"is_system,omitempty"`
	Expired      bool          `json:"expired"`
	Complete     bool          `json:"complete"`
	JetStream    bool          `json:"jetstream_enabled"`
	LeafCnt      int           `json:"leafnode_connections"`
	ClientCnt    int           `json:"client_connections"`
	SubCnt       uint32        `json:"subscriptions"`
	Exports      []ExportInfo  `json:"exports,omitempty"`
	Imports      []ImportInfo  `json:"imports,omitempty"`
	SublistStats *SublistStats `json:"sublist_stats,omitempty"`
}

// ExportInfo is one export in an account's detail.
type ExportInfo struct {
	Subject      string `json:"subject"`
	Type         string `json:"type"` // stream or service
	ResponseType string `json:"response_type,omitempty"`
}

// ImportInfo is one import in an account's detail. A stream import names
// its subject here in local_subject, a service import in to, as
// nats-server does.
type ImportInfo struct {
	Subject      string `json:"subject"`
	Account      string `json:"account"`
	To           string `json:"to,omitempty"`
	LocalSubject string `json:"local_subject,omitempty"`
	Type         string `json:"type"`
	Share        bool   `json:"share"`
	Invalid      bool   `json:"invalid"`
	Tracking     bool   `json:"tracking"`
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
	az, err := m.accountz(&AccountzOptions{Account: r.URL.Query().Get("acc")})
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	writeJSON(w, r, az)
}

func (m *Server) accountz(o *AccountzOptions) (*Accountz, error) {
	az := &Accountz{ID: m.core.ID(), Now: time.Now().UTC(), SystemAccount: m.core.SystemAccountName()}
	if o.Account == "" {
		az.Accounts = m.core.AccountNames()
		return az, nil
	}
	info, err := m.accountInfo(o.Account)
	if err != nil {
		return nil, err
	}
	az.Account = info
	return az, nil
}

// accountInfo is one account's detail; an error when there is no such
// account.
func (m *Server) accountInfo(name string) (*AccountInfo, error) {
	st, ok := m.core.AccountStatsOf(name)
	sl, _ := m.core.AccountSublistStats(name)
	if !ok {
		return nil, badOption(fmt.Errorf("Account %s does not exist", name))
	}
	info := &AccountInfo{
		Name: name, LastUpdate: m.core.Stats().ConfigLoad.UTC(), Complete: true,
		IsSystem:  name == m.core.SystemAccountName(),
		JetStream: m.core.AccountJetStreamEnabled(name) && m.jetStream() != nil,
		ClientCnt: st.Conns, SubCnt: uint32(st.Subscriptions), SublistStats: sublistStats(sl),
	}
	for _, e := range m.core.AccountExports(name) {
		ei := ExportInfo{Subject: e.Subject, Type: "stream"}
		if e.Service {
			ei.Type, ei.ResponseType = "service", e.ResponseType
		}
		info.Exports = append(info.Exports, ei)
	}
	for _, im := range m.core.AccountImports(name) {
		ii := ImportInfo{Subject: im.Subject, Account: im.Account, Type: "stream", LocalSubject: im.Local}
		if im.Service {
			ii.Type, ii.LocalSubject, ii.To, ii.Share = "service", "", im.Local, im.Share
		}
		info.Imports = append(info.Imports, ii)
	}
	return info, nil
}

// AccountStatz is /accstatz and the answer to the accounts' STATZ
// requests.
type AccountStatz struct {
	ID       string         `json:"server_id"`
	Now      time.Time      `json:"now"`
	Accounts []*AccountStat `json:"account_statz"`
}

// AccountStat is one account's connections and traffic.
type AccountStat struct {
	Account       string    `json:"acc"`
	Conns         int       `json:"conns"`
	LeafNodes     int       `json:"leafnodes"`
	TotalConns    int       `json:"total_conns"`
	Sent          DataStats `json:"sent"`
	Received      DataStats `json:"received"`
	SlowConsumers int64     `json:"slow_consumers"`
}

// DataStats counts messages and their bytes.
type DataStats struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

func (m *Server) handleAccountStatz(w http.ResponseWriter, r *http.Request) {
	m.count("/accstatz")
	var o AccountStatzOptions
	for _, name := range []string{"unused", "include_unused"} {
		v, err := queryBool(r, name)
		if err != nil {
			badRequest(w, err.Error())
			return
		}
		o.IncludeUnused = o.IncludeUnused || v
	}
	if list := r.URL.Query().Get("accounts"); list != "" {
		o.Accounts = strings.Split(list, ",")
	}
	writeJSON(w, r, m.accountStatz(&o))
}

// accountStatzReport is the STATZ requests' answer: none at all when no
// account is listed and unused ones were not asked for, as nats-server.
func (m *Server) accountStatzReport(o *AccountStatzOptions) (*AccountStatz, error) {
	stz := m.accountStatz(o)
	if len(stz.Accounts) == 0 && !o.IncludeUnused {
		return nil, ErrNoReply
	}
	return stz, nil
}

// accountStatz lists the accounts asked for (every one when none is
// named) that have connections, or all of them with IncludeUnused.
func (m *Server) accountStatz(o *AccountStatzOptions) *AccountStatz {
	stz := &AccountStatz{ID: m.core.ID(), Now: time.Now().UTC(), Accounts: []*AccountStat{}}
	var all []core.AccountStats
	if len(o.Accounts) == 0 {
		all = m.core.AllAccountStats()
	} else {
		for _, name := range o.Accounts {
			if st, ok := m.core.AccountStatsOf(name); ok {
				all = append(all, st)
			}
		}
	}
	for _, st := range all {
		if st.Conns == 0 && !o.IncludeUnused {
			continue
		}
		stz.Accounts = append(stz.Accounts, accountStat(st))
	}
	return stz
}

func accountStat(st core.AccountStats) *AccountStat {
	return &AccountStat{
		Account: st.Name, Conns: st.Conns, TotalConns: st.Conns,
		Sent:     DataStats{Msgs: st.OutMsgs, Bytes: st.OutBytes},
		Received: DataStats{Msgs: st.InMsgs, Bytes: st.InBytes},
	}
}
