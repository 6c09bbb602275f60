package monitor

import (
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jetstream"
)

// Varz is /varz, in nats-server's field order. Nested objects for features
// Starling does not run yet are present and empty, as nats-server writes
// them (and so is "cluster" without clustering). StarlingVersion is ours: Version is the NATS feature level, which
// tools compare against nats-server releases.
type Varz struct {
	ID                string            `json:"server_id"`
	Name              string            `json:"server_name"`
	Version           string            `json:"version"`
	Proto             int               `json:"proto"`
	GitCommit         string            `json:"git_commit,omitempty"`
	GoVersion         string            `json:"go"`
	Host              string            `json:"host"`
	Port              int               `json:"port"`
	AuthRequired      bool              `json:"auth_required,omitempty"`
	TLSRequired       bool              `json:"tls_required,omitempty"`
	TLSVerify         bool              `json:"tls_verify,omitempty"`
	IP                string            `json:"ip,omitempty"`
	ClientConnectURLs []string          `json:"connect_urls,omitempty"`
	MaxConn           int               `json:"max_connections"`
	MaxSubs           int               `json:"max_subscriptions,omitempty"`
	PingInterval      time.Duration     `json:"ping_interval"`
	MaxPingsOut       int               `json:"ping_max"`
	HTTPHost          string            `json:"http_host"`
	HTTPPort          int               `json:"http_port"`
	HTTPBasePath      string            `json:"http_base_path"`
	HTTPSPort         int               `json:"https_port"`
	AuthTimeout       float64           `json:"auth_timeout"`
	MaxControlLine    int               `json:"max_control_line"`
	MaxPayload        int               `json:"max_payload"`
	MaxPending        int64             `json:"max_pending"`
	Cluster           ClusterOptsVarz   `json:"cluster"`
	Gateway           struct{}          `json:"gateway"`
	LeafNode          struct{}          `json:"leaf"`
	MQTT              struct{}          `json:"mqtt"`
	Websocket         struct{}          `json:"websocket"`
	JetStream         JetStreamVarz     `json:"jetstream"`
	TLSTimeout        float64           `json:"tls_timeout"`
	WriteDeadline     time.Duration     `json:"write_deadline"`
	Start             time.Time         `json:"start"`
	Now               time.Time         `json:"now"`
	Uptime            string            `json:"uptime"`
	Mem               int64             `json:"mem"`
	Cores             int               `json:"cores"`
	MaxProcs          int               `json:"gomaxprocs"`
	CPU               float64           `json:"cpu"`
	Connections       int               `json:"connections"`
	TotalConnections  uint64            `json:"total_connections"`
	Routes            int               `json:"routes"`
	Remotes           int               `json:"remotes"`
	Leafs             int               `json:"leafnodes"`
	InMsgs            int64             `json:"in_msgs"`
	OutMsgs           int64             `json:"out_msgs"`
	InBytes           int64             `json:"in_bytes"`
	OutBytes          int64             `json:"out_bytes"`
	SlowConsumers     int64             `json:"slow_consumers"`
	Subscriptions     uint32            `json:"subscriptions"`
	HTTPReqStats      map[string]uint64 `json:"http_req_stats"`
	SystemAccount     string            `json:"system_account,omitempty"`
	ConfigLoadTime    time.Time         `json:"config_load_time"`
	SlowConsumerStats SlowConsumerStats `json:"slow_consumer_stats"`
	StarlingVersion   string            `json:"starling_version"`
}

// SlowConsumerStats splits slow consumers by connection kind.
type SlowConsumerStats struct {
	Clients  uint64 `json:"clients"`
	Routes   uint64 `json:"routes"`
	Gateways uint64 `json:"gateways"`
	Leafs    uint64 `json:"leafs"`
}

// defaultTLSTimeout is what nats-server reports when TLS is not configured.
const defaultTLSTimeout = 2.0

func (m *Server) handleVarz(w http.ResponseWriter, r *http.Request) {
	m.count("/varz")
	writeJSON(w, r, m.varz())
}

func (m *Server) varz() *Varz {
	opts := m.core.Options()
	st := m.core.Stats()
	now := time.Now()
	v := &Varz{
		ID:             m.core.ID(),
		Name:           m.core.Name(),
		Version:        core.ProtocolVersion,
		Proto:          1,
		GoVersion:      runtime.Version(),
		Host:           opts.Host,
		Port:           opts.Port,
		AuthRequired:   opts.Username != "" || opts.Authorization != "",
		MaxConn:        opts.MaxConnections,
		MaxSubs:        opts.MaxSubscriptions,
		PingInterval:   opts.PingInterval,
		MaxPingsOut:    opts.PingMax,
		HTTPHost:       opts.HTTPHost,
		HTTPPort:       opts.HTTPPort,
		HTTPSPort:      opts.HTTPSPort,
		AuthTimeout:    opts.AuthTimeout.Seconds(),
		MaxControlLine: opts.MaxControlLine,
		MaxPayload:     opts.MaxPayload,
		MaxPending:     int64(opts.MaxPending),
		TLSTimeout:     defaultTLSTimeout,
		WriteDeadline:  opts.WriteDeadline,
		Start:          st.Start.UTC(),
		Now:            now.UTC(),
		Uptime:         uptime(now.Sub(st.Start)),
		Mem:            rss(),
		Cores:          runtime.NumCPU(),
		MaxProcs:       runtime.GOMAXPROCS(0),
		CPU:            m.cpu.percent(),
		Connections:    st.Connections,
		Routes:         m.core.NumRoutes(),

		TotalConnections: st.TotalConnections,
		InMsgs:           st.InMsgs,
		OutMsgs:          st.OutMsgs,
		InBytes:          st.InBytes,
		OutBytes:         st.OutBytes,
		SlowConsumers:    st.SlowConsumers,
		Subscriptions:    uint32(m.core.TotalSubscriptions()),
		SystemAccount:    m.core.SystemAccountName(),
		HTTPReqStats:     m.requestStats(),
		ConfigLoadTime:   st.ConfigLoad.UTC(),
		StarlingVersion:  core.Version,
	}
	v.SlowConsumerStats.Clients = uint64(st.SlowConsumers - st.SlowRoutes)
	v.SlowConsumerStats.Routes = uint64(st.SlowRoutes)
	v.Cluster = clusterVarz(&opts.Cluster, m.core.ClusterName(), m.core.ClusterAddr())
	if addr, ok := m.core.Addr().(*net.TCPAddr); ok {
		v.Port = addr.Port
	}
	if addr, ok := m.Addr().(*net.TCPAddr); ok {
		v.HTTPPort = addr.Port
	}
	if js := m.jetStream(); js != nil {
		// Left to the cluster's nats-server JetStream, it is off here, as
		// nats-server shows a server without JetStream.
		if info := js.JSZ(m.core.ID(), jetstream.JSZOptions{}); !info.Disabled {
			v.JetStream = JetStreamVarz{Config: &info.Config, Stats: &JetStreamVarzStats{
				Memory: info.Memory, Store: info.Store, Accounts: info.Accounts, API: info.API,
			}}
		}
	}
	return v
}

// JetStreamVarz is /varz's "jetstream": empty when JetStream is off.
type JetStreamVarz struct {
	Config *jetstream.JSConfig `json:"config,omitempty"`
	Stats  *JetStreamVarzStats `json:"stats,omitempty"`
}

// JetStreamVarzStats is JetStream usage in /varz, as nats-server's.
type JetStreamVarzStats struct {
	Memory         uint64               `json:"memory"`
	Store          uint64               `json:"storage"`
	ReservedMemory uint64               `json:"reserved_memory"`
	ReservedStore  uint64               `json:"reserved_storage"`
	Accounts       int                  `json:"accounts"`
	HAAssets       int                  `json:"ha_assets"`
	API            jetstream.JSAPIStats `json:"api"`
}
