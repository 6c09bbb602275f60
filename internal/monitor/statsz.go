package monitor

import (
	"runtime"
	"time"

	"github.com/starling-mq/starling/internal/jetstream"
)

// Statsz is the "statsz" of nats-server's $SYS.SERVER.<id>.STATSZ event
// and of the answer to a STATSZ request: the server's load in brief.
type Statsz struct {
	Start            time.Time      `json:"start"`
	Mem              int64          `json:"mem"`
	Cores            int            `json:"cores"`
	CPU              float64        `json:"cpu"`
	Connections      int            `json:"connections"`
	TotalConnections uint64         `json:"total_connections"`
	ActiveAccounts   int            `json:"active_accounts"`
	NumSubs          uint32         `json:"subscriptions"`
	Sent             DataStats      `json:"sent"`
	Received         DataStats      `json:"received"`
	SlowConsumers    int64          `json:"slow_consumers"`
	Routes           []*RouteStat   `json:"routes,omitempty"`
	ActiveServers    int            `json:"active_servers,omitempty"`
	JetStream        *JetStreamVarz `json:"jetstream,omitempty"`
}

// RouteStat is one route's traffic in Statsz.
type RouteStat struct {
	ID       uint64    `json:"rid"`
	Name     string    `json:"name,omitempty"`
	Sent     DataStats `json:"sent"`
	Received DataStats `json:"received"`
	Pending  int       `json:"pending"`
}

func (m *Server) statsz() *Statsz {
	st := m.core.Stats()
	sz := &Statsz{
		Start:            st.Start.UTC(),
		Mem:              rss(),
		Cores:            runtime.NumCPU(),
		CPU:              m.cpu.percent(),
		Connections:      st.Connections,
		TotalConnections: st.TotalConnections,
		NumSubs:          uint32(m.core.TotalSubscriptions()),
		Sent:             DataStats{Msgs: st.OutMsgs, Bytes: st.OutBytes},
		Received:         DataStats{Msgs: st.InMsgs, Bytes: st.InBytes},
		SlowConsumers:    st.SlowConsumers,
		ActiveServers:    1 + m.core.NumRoutes(),
	}
	for _, acc := range m.core.AllAccountStats() {
		if acc.Conns > 0 {
			sz.ActiveAccounts++
		}
	}
	for _, rs := range m.core.Routes() {
		sz.Routes = append(sz.Routes, &RouteStat{
			ID: rs.RID, Name: rs.RemoteName, Pending: rs.Pending,
			Sent:     DataStats{Msgs: rs.OutMsgs, Bytes: rs.OutBytes},
			Received: DataStats{Msgs: rs.InMsgs, Bytes: rs.InBytes},
		})
	}
	if js := m.jetStream(); js != nil {
		info := js.JSZ(m.core.ID(), jetstream.JSZOptions{})
		if info.Disabled {
			return sz // left to the cluster's nats-server JetStream: off here
		}
		// The event is sent every few seconds to every watcher: the
		// limits only, as nats-server, not where the files are.
		cfg := jetstream.JSConfig{MaxMemory: info.Config.MaxMemory, MaxStore: info.Config.MaxStore, CompressOK: info.Config.CompressOK}
		sz.JetStream = &JetStreamVarz{Config: &cfg, Stats: &JetStreamVarzStats{
			Memory: info.Memory, Store: info.Store, Accounts: info.Accounts, API: info.API,
		}}
	}
	return sz
}
