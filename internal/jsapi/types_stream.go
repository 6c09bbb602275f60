package jsapi

import "time"

// StreamConfig is a stream's configuration, as clients send it and as the
// server reports it back once defaults are applied. Durations are integer
// nanoseconds on the wire. Field order is nats-server's, so marshalled
// keys come in the same order.
type StreamConfig struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	Subjects     []string        `json:"subjects,omitempty"`
	Retention    RetentionPolicy `json:"retention"`
	MaxConsumers int             `json:"max_consumers"`
	MaxMsgs      int64           `json:"max_msgs"`
	MaxBytes     int64           `json:"max_bytes"`
	MaxAge       time.Duration   `json:"max_age"`
	MaxMsgsPer   int64           `json:"max_msgs_per_subject"`
	MaxMsgSize   int32           `json:"max_msg_size,omitempty"`
	Discard      DiscardPolicy   `json:"discard"`
	Storage      StorageType     `json:"storage"`
	Replicas     int             `json:"num_replicas"`
	NoAck        bool            `json:"no_ack,omitempty"`
	// Template is the stream template that owns the stream. Templates
	// are gone from current nats-server; 2.9 still sent the field.
	Template    string          `json:"template_owner,omitempty"`
	Duplicates  time.Duration   `json:"duplicate_window,omitempty"`
	Placement   *Placement      `json:"placement,omitempty"`
	Mirror      *StreamSource   `json:"mirror,omitempty"`
	Sources     []*StreamSource `json:"sources,omitempty"`
	Compression Compression     `json:"compression"`
	FirstSeq    uint64          `json:"first_seq,omitempty"`

	// SubjectTransform rewrites the subject of incoming messages before
	// anything else happens to them.
	SubjectTransform *SubjectTransformConfig `json:"subject_transform,omitempty"`
	// RePublish republishes each message once stored.
	RePublish *RePublish `json:"republish,omitempty"`

	AllowDirect   bool `json:"allow_direct"`  // answer $JS.API.DIRECT.GET
	MirrorDirect  bool `json:"mirror_direct"` // a mirror answers direct gets for its origin
	DiscardNewPer bool `json:"discard_new_per_subject,omitempty"`

	// Once true, these can not be turned off by an update.
	Sealed      bool `json:"sealed"`
	DenyDelete  bool `json:"deny_delete"`
	DenyPurge   bool `json:"deny_purge"`
	AllowRollup bool `json:"allow_rollup_hdrs"` // honour Nats-Rollup

	// ConsumerLimits are defaults and caps for the stream's consumers.
	ConsumerLimits StreamConsumerLimits `json:"consumer_limits"`

	AllowMsgTTL            bool            `json:"allow_msg_ttl"` // honour Nats-TTL
	SubjectDeleteMarkerTTL time.Duration   `json:"subject_delete_marker_ttl,omitempty"`
	AllowMsgCounter        bool            `json:"allow_msg_counter,omitempty"`
	AllowAtomicPublish     bool            `json:"allow_atomic,omitempty"`
	AllowMsgSchedules      bool            `json:"allow_msg_schedules,omitempty"`
	PersistMode            PersistModeType `json:"persist_mode,omitempty"`
	AllowBatchPublish      bool            `json:"allow_batched,omitempty"`

	Metadata map[string]string `json:"metadata,omitempty"`
}

// StreamConfigRequest is what STREAM.CREATE and STREAM.UPDATE decode: the
// configuration plus pedantic, which asks the server to refuse rather than
// adjust.
type StreamConfigRequest struct {
	StreamConfig
	Pedantic bool `json:"pedantic,omitempty"`
}

// StreamConsumerLimits are defaults and caps for a stream's consumers.
type StreamConsumerLimits struct {
	InactiveThreshold time.Duration `json:"inactive_threshold,omitempty"`
	MaxAckPending     int           `json:"max_ack_pending,omitempty"`
}

// Placement asks for a cluster or tagged servers.
type Placement struct {
	Cluster   string   `json:"cluster,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Preferred string   `json:"preferred,omitempty"`
}

// StreamSource names a stream to mirror or source from.
type StreamSource struct {
	Name              string                   `json:"name"`
	OptStartSeq       uint64                   `json:"opt_start_seq,omitempty"`
	OptStartTime      *time.Time               `json:"opt_start_time,omitempty"`
	FilterSubject     string                   `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransformConfig `json:"subject_transforms,omitempty"`
	External          *ExternalStream          `json:"external,omitempty"`
	Consumer          *StreamConsumerSource    `json:"consumer,omitempty"`
}

// StreamConsumerSource names a durable consumer on the origin to source
// through, instead of an ephemeral one.
type StreamConsumerSource struct {
	Name           string `json:"name,omitempty"`
	DeliverSubject string `json:"deliver_subject,omitempty"`
}

// ExternalStream is a source in another account or domain, reached
// through an API prefix (such as "$JS.hub.API").
type ExternalStream struct {
	ApiPrefix     string `json:"api"`
	DeliverPrefix string `json:"deliver"`
}

// SubjectTransformConfig maps subjects matching Source to Destination.
type SubjectTransformConfig struct {
	Source      string `json:"src"`
	Destination string `json:"dest"`
}

// RePublish republishes stored messages matching Source to Destination.
type RePublish struct {
	Source      string `json:"src,omitempty"`
	Destination string `json:"dest"`
	HeadersOnly bool   `json:"headers_only,omitempty"`
}

// StreamInfo describes a stream: STREAM.INFO, CREATE, UPDATE and LIST.
type StreamInfo struct {
	Config     StreamConfig        `json:"config"`
	Created    time.Time           `json:"created"`
	State      StreamState         `json:"state"`
	Domain     string              `json:"domain,omitempty"`
	Cluster    *ClusterInfo        `json:"cluster,omitempty"`
	Mirror     *StreamSourceInfo   `json:"mirror,omitempty"`
	Sources    []*StreamSourceInfo `json:"sources,omitempty"`
	Alternates []StreamAlternate   `json:"alternates,omitempty"`
	TimeStamp  time.Time           `json:"ts"` // when the info was gathered
}

// StreamState is what a stream holds. An empty stream reports zero
// sequences and zero times ("0001-01-01T00:00:00Z"); after a purge
// first_seq is last_seq+1.
type StreamState struct {
	Msgs        uint64            `json:"messages"`
	Bytes       uint64            `json:"bytes"`
	FirstSeq    uint64            `json:"first_seq"`
	FirstTime   time.Time         `json:"first_ts"`
	LastSeq     uint64            `json:"last_seq"`
	LastTime    time.Time         `json:"last_ts"`
	NumSubjects int               `json:"num_subjects,omitempty"`
	Subjects    map[string]uint64 `json:"subjects,omitempty"` // only with subjects_filter
	NumDeleted  int               `json:"num_deleted,omitempty"`
	Deleted     []uint64          `json:"deleted,omitempty"` // only with deleted_details
	Lost        *LostStreamData   `json:"lost,omitempty"`
	Consumers   int               `json:"consumer_count"`
}

// LostStreamData lists messages the store could not return intact.
type LostStreamData struct {
	Msgs  []uint64 `json:"msgs"`
	Bytes uint64   `json:"bytes"`
}

// StreamAlternate is a mirror a client may read from instead.
type StreamAlternate struct {
	Name    string `json:"name"`
	Domain  string `json:"domain,omitempty"`
	Cluster string `json:"cluster"`
}

// ClusterInfo describes the group of servers behind a stream or consumer.
type ClusterInfo struct {
	Name        string      `json:"name,omitempty"`
	RaftGroup   string      `json:"raft_group,omitempty"`
	Leader      string      `json:"leader,omitempty"`
	LeaderSince *time.Time  `json:"leader_since,omitempty"`
	SystemAcc   bool        `json:"system_account,omitempty"`
	TrafficAcc  string      `json:"traffic_account,omitempty"`
	Replicas    []*PeerInfo `json:"replicas,omitempty"`
}

// PeerInfo is one replica of a stream or consumer.
type PeerInfo struct {
	Name    string        `json:"name"`
	Current bool          `json:"current"`
	Offline bool          `json:"offline,omitempty"`
	Active  time.Duration `json:"active"` // since last seen
	Lag     uint64        `json:"lag,omitempty"`
	Peer    string        `json:"peer"`
	Pending bool          `json:"pending,omitempty"`
}

// StreamSourceInfo reports a mirror's or source's progress.
type StreamSourceInfo struct {
	Name              string                   `json:"name"`
	External          *ExternalStream          `json:"external,omitempty"`
	Lag               uint64                   `json:"lag"`
	Active            time.Duration            `json:"active"` // since last contact; -1 never
	Error             *ApiError                `json:"error,omitempty"`
	FilterSubject     string                   `json:"filter_subject,omitempty"`
	SubjectTransforms []SubjectTransformConfig `json:"subject_transforms,omitempty"`
}
