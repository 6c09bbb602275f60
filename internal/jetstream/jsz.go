package jetstream

import (
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// JSInfo is /jsz's body, shaped as nats-server's so tools read it. There
// is one account ($G); its streams are listed when asked for.
type JSInfo struct {
	ServerID string `json:"server_id"`
	// Disabled: this server's JetStream serves nothing, having left the
	// API to the cluster's nats-server JetStream (mixed.go); nats-server
	// says so of a server with JetStream off.
	Disabled       bool             `json:"disabled,omitempty"`
	Now            time.Time        `json:"now"`
	Config         JSConfig         `json:"config"`
	Memory         uint64           `json:"memory"`
	Store          uint64           `json:"storage"`
	ReservedMemory uint64           `json:"reserved_memory"`
	ReservedStore  uint64           `json:"reserved_storage"`
	Accounts       int              `json:"accounts"`
	HAAssets       int              `json:"ha_assets"`
	API            JSAPIStats       `json:"api"`
	Streams        int              `json:"streams"`
	Consumers      int              `json:"consumers"`
	Messages       uint64           `json:"messages"`
	Bytes          uint64           `json:"bytes"`
	LostMessages   uint64           `json:"lost_messages"` // Starling: records found corrupt, never served
	AccountDetails []*AccountDetail `json:"account_details,omitempty"`
	// Meta is the meta group in a cluster (nats-server's meta_cluster).
	Meta *JSZMeta `json:"meta_cluster,omitempty"`
	// Total is the number of JetStream accounts, whichever are detailed.
	Total int `json:"total"`
	// Starling, in a cluster: leadership changes this server saw (meta
	// group and streams), and the replicated publishes it led with the
	// time from proposal to acknowledgement summed.
	LeaderChanges     uint64  `json:"leader_changes,omitempty"`
	ReplicatedAcks    uint64  `json:"replicated_acks,omitempty"`
	ReplicatedAckSecs float64 `json:"replicated_ack_seconds,omitempty"`

	// Starling: events dropped because a bounded queue was full.
	AdvisoriesDropped uint64 `json:"advisories_dropped,omitempty"`
	RepublishDropped  uint64 `json:"republish_dropped,omitempty"`
	// In-process publishes a stream's ingest queue dropped (429).
	IngestDropped uint64 `json:"ingest_dropped,omitempty"`
	// Acks, pull requests and flow-control replies the consumers' queues
	// dropped after the publisher waited for room.
	ConsumerInboundDropped uint64 `json:"consumer_inbound_dropped,omitempty"`
}

// JSZMeta is /jsz's meta_cluster: the group as this server sees it, and
// the votes a decision needs (nats-server's quorum_needed, which natscli's
// JetStream report shows as the quorum size).
type JSZMeta struct {
	*MetaClusterInfo
	QuorumNeeded int `json:"quorum_needed"`
}

// JSConfig is the JetStream configuration in force.
type JSConfig struct {
	MaxMemory    int64         `json:"max_memory"`
	MaxStore     int64         `json:"max_storage"`
	StoreDir     string        `json:"store_dir,omitempty"`
	SyncInterval time.Duration `json:"sync_interval,omitempty"`
	SyncAlways   bool          `json:"sync_always,omitempty"`
	Domain       string        `json:"domain,omitempty"`
	CompressOK   bool          `json:"compress_ok,omitempty"`
}

// JSAPIStats counts API requests.
type JSAPIStats struct {
	Level   int    `json:"level"`
	Total   uint64 `json:"total"`
	Errors  uint64 `json:"errors"`
	Dropped uint64 `json:"dropped,omitempty"`
}

// AccountDetail is one account's JetStream in /jsz, shaped as
// nats-server's: the reservations are the account's limits (a limit of
// -1 reads as the largest unsigned number, as nats-server writes it).
type AccountDetail struct {
	Name           string         `json:"name"`
	ID             string         `json:"id"`
	Memory         uint64         `json:"memory"`
	Store          uint64         `json:"storage"`
	ReservedMemory uint64         `json:"reserved_memory"`
	ReservedStore  uint64         `json:"reserved_storage"`
	Accounts       int            `json:"accounts"`
	HAAssets       int            `json:"ha_assets"`
	API            JSAPIStats     `json:"api"`
	Streams        []StreamDetail `json:"stream_detail,omitempty"`
}

// StreamDetail is one stream in /jsz.
type StreamDetail struct {
	Name      string                `json:"name"`
	Created   time.Time             `json:"created"`
	Cluster   *jsapi.ClusterInfo    `json:"cluster,omitempty"`
	Config    *jsapi.StreamConfig   `json:"config,omitempty"`
	State     jsapi.StreamState     `json:"state"`
	Consumers []*jsapi.ConsumerInfo `json:"consumer_detail,omitempty"`
	// With Raft: the stream's group and its consumers' (nats-server 2.10+).
	RaftGroup          string             `json:"stream_raft_group,omitempty"`
	ConsumerRaftGroups []*RaftGroupDetail `json:"consumer_raft_groups,omitempty"`
}

// JSZOptions selects /jsz's detail.
type JSZOptions struct {
	Account   string // only this account ("": every account)
	Accounts  bool   // list the accounts
	Streams   bool   // list each stream (implies Accounts)
	Config    bool   // include each stream's configuration
	Consumers bool   // list each stream's consumers (with Streams)
	Raft      bool   // name each listed stream's and consumer's Raft group
	// LeaderOnly asks for a report only from the meta leader (any server
	// that is not clustered leads itself); the others have none.
	LeaderOnly bool
}

// Leads reports whether this server answers a leader-only report: it
// leads the meta group, or runs JetStream unclustered (and has not left
// it to the cluster's nats-server JetStream, mixed.go).
func (m *Manager) Leads() bool { return !m.yieldedAPI() && (!m.clustered() || m.cl.isMetaLeader()) }

// JSZ reports JetStream's state for monitoring: the totals of every
// account, and the accounts' details when asked for. It is nil when only
// the leader's report is asked for and this server does not lead.
func (m *Manager) JSZ(serverID string, o JSZOptions) *JSInfo {
	if o.LeaderOnly && !m.Leads() {
		return nil
	}
	info := &JSInfo{
		ServerID: serverID,
		Now:      time.Now().UTC(),
		Config: JSConfig{
			MaxMemory:    m.cfg.MaxMemory,
			MaxStore:     m.cfg.MaxStore,
			StoreDir:     Dir(m.cfg.StoreDir),
			SyncInterval: m.cfg.SyncInterval,
			SyncAlways:   m.cfg.SyncInterval == 0,
			Domain:       m.cfg.Domain,
			CompressOK:   true,
		},
		API: JSAPIStats{Level: apiLevel},
	}
	if m.yieldedAPI() {
		info.Disabled = true
		return info
	}
	if m.clustered() {
		info.HAAssets = 1 // the meta group's member here, as nats-server counts it
		mi := m.cl.metaInfo()
		info.Meta = &JSZMeta{MetaClusterInfo: mi, QuorumNeeded: mi.Size/2 + 1}
		info.LeaderChanges = m.cl.leaderChanges.Load()
		if meta := m.cl.meta.Load(); meta != nil {
			info.LeaderChanges += meta.LeaderChanges()
		}
		info.ReplicatedAcks = m.cl.acks.Load()
		info.ReplicatedAckSecs = time.Duration(m.cl.ackNanos.Load()).Seconds()
	}
	for _, a := range m.accountList() {
		info.Accounts++
		info.Total++
		d := a.jsz(info, o)
		if (o.Accounts || o.Streams || o.Account != "") && (o.Account == "" || o.Account == a.name) {
			info.AccountDetails = append(info.AccountDetails, d)
		}
	}
	return info
}

// jsz adds the account's figures to info's totals and returns its detail.
func (m *jsAccount) jsz(info *JSInfo, o JSZOptions) *AccountDetail {
	lim := m.lim()
	d := &AccountDetail{
		Name: m.name, ID: m.name,
		ReservedMemory: uint64(lim.MaxMemory), ReservedStore: uint64(lim.MaxStore),
		API: JSAPIStats{Total: m.apiTotal.Load(), Errors: m.apiErrors.Load()},
	}
	info.API.Total += d.API.Total
	info.API.Errors += d.API.Errors
	info.API.Dropped += m.dropped.Load()
	_, advDropped := m.advisoryStats()
	info.AdvisoriesDropped += advDropped
	if in := m.in.Load(); in != nil {
		info.ConsumerInboundDropped += in.dropped.Load()
	}
	for _, e := range m.sortedStreams() {
		_, rpDropped := e.s.RepublishStats()
		info.RepublishDropped += rpDropped
		info.IngestDropped += e.s.IngestDropped()
		si := e.s.Info(false, "")
		st := si.State
		info.Streams++
		hosted, haConsumers := e.hostedConsumers(si.Config.Replicas)
		info.Consumers += hosted
		if e.rep != nil && si.Config.Replicas > 1 {
			d.HAAssets += 1 + haConsumers
		}
		info.Messages += st.Msgs
		info.Bytes += st.Bytes
		if st.Lost != nil {
			info.LostMessages += uint64(len(st.Lost.Msgs))
		}
		if e.storage == jsapi.MemoryStorage {
			d.Memory += st.Bytes
		} else {
			d.Store += st.Bytes
		}
		if o.Streams {
			sd := StreamDetail{Name: si.Config.Name, Created: si.Created, State: st, Cluster: m.clusterInfo(e)}
			if o.Config {
				cfg := si.Config
				sd.Config = &cfg
			}
			if o.Consumers {
				for _, c := range e.sortedConsumers() {
					sd.Consumers = append(sd.Consumers, replyInfo(c))
				}
			}
			if o.Raft {
				m.addRaftGroups(&sd, e)
			}
			d.Streams = append(d.Streams, sd)
		}
	}
	info.Memory += d.Memory
	info.Store += d.Store
	info.HAAssets += d.HAAssets
	return d
}
