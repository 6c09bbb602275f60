package jsapi

import (
	"encoding/json"
	"time"
)

// DeliverPolicy says where a consumer starts.
type DeliverPolicy int

const (
	DeliverAll DeliverPolicy = iota
	DeliverLast
	DeliverNew
	DeliverByStartSequence
	DeliverByStartTime
	DeliverLastPerSubject
)

var deliverNames = []string{"all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject"}

func (p DeliverPolicy) String() string               { return name(deliverNames, int(p)) }
func (p DeliverPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(deliverNames, int(p)) }
func (p *DeliverPolicy) UnmarshalJSON(b []byte) error {
	// nats-server also accepts "undefined" (older clients) as all.
	if string(b) == `"undefined"` {
		*p = DeliverAll
		return nil
	}
	v, err := enumUnmarshal("deliver policy", deliverNames, b)
	*p = DeliverPolicy(v)
	return err
}

// AckPolicy says which deliveries need an ack.
type AckPolicy int

const (
	AckNone AckPolicy = iota
	AckAll
	AckExplicit
)

var ackNames = []string{"none", "all", "explicit"}

func (p AckPolicy) String() string               { return name(ackNames, int(p)) }
func (p AckPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(ackNames, int(p)) }
func (p *AckPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("ack policy", ackNames, b)
	*p = AckPolicy(v)
	return err
}

// ReplayPolicy says whether stored timing is reproduced.
type ReplayPolicy int

const (
	ReplayInstant ReplayPolicy = iota
	ReplayOriginal
)

var replayNames = []string{"instant", "original"}

func (p ReplayPolicy) String() string               { return name(replayNames, int(p)) }
func (p ReplayPolicy) MarshalJSON() ([]byte, error) { return enumMarshal(replayNames, int(p)) }
func (p *ReplayPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("replay policy", replayNames, b)
	*p = ReplayPolicy(v)
	return err
}

// ConsumerAction is what a create request may do.
type ConsumerAction int

const (
	ActionCreateOrUpdate ConsumerAction = iota
	ActionUpdate
	ActionCreate
)

func (a ConsumerAction) MarshalJSON() ([]byte, error) {
	switch a {
	case ActionCreate:
		return []byte(`"create"`), nil
	case ActionUpdate:
		return []byte(`"update"`), nil
	}
	return []byte(`""`), nil
}

func (a *ConsumerAction) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	switch s {
	case "create":
		*a = ActionCreate
	case "update":
		*a = ActionUpdate
	case "":
		*a = ActionCreateOrUpdate
	default:
		return &json.UnsupportedValueError{Str: s}
	}
	return nil
}

// ConsumerConfig is a consumer's configuration.
type ConsumerConfig struct {
	Durable            string            `json:"durable_name,omitempty"`
	Name               string            `json:"name,omitempty"`
	Description        string            `json:"description,omitempty"`
	DeliverPolicy      DeliverPolicy     `json:"deliver_policy"`
	OptStartSeq        uint64            `json:"opt_start_seq,omitempty"`
	OptStartTime       *time.Time        `json:"opt_start_time,omitempty"`
	AckPolicy          AckPolicy         `json:"ack_policy"`
	AckWait            time.Duration     `json:"ack_wait,omitempty"`
	MaxDeliver         int               `json:"max_deliver,omitempty"`
	BackOff            []time.Duration   `json:"backoff,omitempty"`
	FilterSubject      string            `json:"filter_subject,omitempty"`
	FilterSubjects     []string          `json:"filter_subjects,omitempty"`
	ReplayPolicy       ReplayPolicy      `json:"replay_policy"`
	RateLimit          uint64            `json:"rate_limit_bps,omitempty"`
	SampleFrequency    string            `json:"sample_freq,omitempty"`
	MaxWaiting         int               `json:"max_waiting,omitempty"`
	MaxAckPending      int               `json:"max_ack_pending,omitempty"`
	FlowControl        bool              `json:"flow_control,omitempty"`
	HeadersOnly        bool              `json:"headers_only,omitempty"`
	MaxRequestBatch    int               `json:"max_batch,omitempty"`
	MaxRequestExpires  time.Duration     `json:"max_expires,omitempty"`
	MaxRequestMaxBytes int               `json:"max_bytes,omitempty"`
	DeliverSubject     string            `json:"deliver_subject,omitempty"`
	DeliverGroup       string            `json:"deliver_group,omitempty"`
	Heartbeat          time.Duration     `json:"idle_heartbeat,omitempty"`
	InactiveThreshold  time.Duration     `json:"inactive_threshold,omitempty"`
	Replicas           int               `json:"num_replicas"`
	MemoryStorage      bool              `json:"mem_storage,omitempty"`
	Direct             bool              `json:"direct,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	PauseUntil         *time.Time        `json:"pause_until,omitempty"`
	PriorityGroups     []string          `json:"priority_groups,omitempty"`
	PriorityPolicy     json.RawMessage   `json:"priority_policy,omitempty"`
}

// SequenceInfo is a position in the consumer's and the stream's sequences.
type SequenceInfo struct {
	Consumer uint64     `json:"consumer_seq"`
	Stream   uint64     `json:"stream_seq"`
	Last     *time.Time `json:"last_active,omitempty"`
}

// ConsumerInfo describes a consumer.
type ConsumerInfo struct {
	Stream         string          `json:"stream_name"`
	Name           string          `json:"name"`
	Created        time.Time       `json:"created"`
	Config         *ConsumerConfig `json:"config,omitempty"`
	Delivered      SequenceInfo    `json:"delivered"`
	AckFloor       SequenceInfo    `json:"ack_floor"`
	NumAckPending  int             `json:"num_ack_pending"`
	NumRedelivered int             `json:"num_redelivered"`
	NumWaiting     int             `json:"num_waiting"`
	NumPending     uint64          `json:"num_pending"`
	Cluster        *ClusterInfo    `json:"cluster,omitempty"`
	PushBound      bool            `json:"push_bound,omitempty"`
	TimeStamp      time.Time       `json:"ts"`
}

// CreateConsumerRequest is CONSUMER.CREATE's body.
type CreateConsumerRequest struct {
	Stream   string         `json:"stream_name"`
	Config   ConsumerConfig `json:"config"`
	Action   ConsumerAction `json:"action"`
	Pedantic bool           `json:"pedantic,omitempty"`
}

// ConsumerCreateResponse answers CONSUMER.CREATE (and INFO).
type ConsumerCreateResponse struct {
	ApiResponse
	*ConsumerInfo
}

// ConsumerInfoResponse answers CONSUMER.INFO.
type ConsumerInfoResponse = ConsumerCreateResponse

// ConsumerDeleteResponse answers CONSUMER.DELETE.
type ConsumerDeleteResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}

// ConsumerNamesResponse answers CONSUMER.NAMES.
type ConsumerNamesResponse struct {
	ApiResponse
	ApiPaged
	Consumers []string `json:"consumers"`
}

// ConsumerListResponse answers CONSUMER.LIST.
type ConsumerListResponse struct {
	ApiResponse
	ApiPaged
	Consumers []*ConsumerInfo `json:"consumers"`
	Missing   []string        `json:"missing,omitempty"`
}

// NextRequest is a pull request (CONSUMER.MSG.NEXT) body.
type NextRequest struct {
	Expires   time.Duration `json:"expires,omitempty"`
	Batch     int           `json:"batch,omitempty"`
	MaxBytes  int           `json:"max_bytes,omitempty"`
	NoWait    bool          `json:"no_wait,omitempty"`
	Heartbeat time.Duration `json:"idle_heartbeat,omitempty"`
}

// Consumer API subjects and response types.
const (
	SubjConsumerCreate        = "$JS.API.CONSUMER.CREATE.>"
	SubjConsumerDurableCreate = "$JS.API.CONSUMER.DURABLE.CREATE.*.*"
	SubjConsumerInfo          = "$JS.API.CONSUMER.INFO.*.*"
	SubjConsumerDelete        = "$JS.API.CONSUMER.DELETE.*.*"
	SubjConsumerNames         = "$JS.API.CONSUMER.NAMES.*"
	SubjConsumerList          = "$JS.API.CONSUMER.LIST.*"
	SubjConsumerNext          = "$JS.API.CONSUMER.MSG.NEXT.*.*"

	TypeConsumerCreateResponse = "io.nats.jetstream.api.v1.consumer_create_response"
	TypeConsumerInfoResponse   = "io.nats.jetstream.api.v1.consumer_info_response"
	TypeConsumerDeleteResponse = "io.nats.jetstream.api.v1.consumer_delete_response"
	TypeConsumerNamesResponse  = "io.nats.jetstream.api.v1.consumer_names_response"
	TypeConsumerListResponse   = "io.nats.jetstream.api.v1.consumer_list_response"
)
