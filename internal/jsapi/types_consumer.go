package jsapi

import (
	"encoding/json"
	"fmt"
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

func (p DeliverPolicy) String() string { return enumName(deliverNames, int(p)) }

func (p DeliverPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal("deliver policy", deliverNames, int(p))
}

// UnmarshalJSON also takes "undefined" (sent by older clients) as all, as
// nats-server does.
func (p *DeliverPolicy) UnmarshalJSON(b []byte) error {
	if string(b) == `"undefined"` {
		*p = DeliverAll
		return nil
	}
	v, err := enumUnmarshal("deliver policy", deliverNames, b)
	if err == nil {
		*p = DeliverPolicy(v)
	}
	return err
}

// AckPolicy says which deliveries need an ack. Current nats-server also
// has "flow_control" (acks carried by flow control replies, for sourcing);
// it is left out until the consumer package implements it, so a request
// using it fails to decode, as it does on nats-server 2.9.
type AckPolicy int

const (
	AckNone AckPolicy = iota
	AckAll
	AckExplicit
)

var ackNames = []string{"none", "all", "explicit"}

func (p AckPolicy) String() string { return enumName(ackNames, int(p)) }

func (p AckPolicy) MarshalJSON() ([]byte, error) { return enumMarshal("ack policy", ackNames, int(p)) }

func (p *AckPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("ack policy", ackNames, b)
	if err == nil {
		*p = AckPolicy(v)
	}
	return err
}

// ReplayPolicy says whether stored timing is reproduced.
type ReplayPolicy int

const (
	ReplayInstant ReplayPolicy = iota
	ReplayOriginal
)

var replayNames = []string{"instant", "original"}

func (p ReplayPolicy) String() string { return enumName(replayNames, int(p)) }

func (p ReplayPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal("replay policy", replayNames, int(p))
}

func (p *ReplayPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("replay policy", replayNames, b)
	if err == nil {
		*p = ReplayPolicy(v)
	}
	return err
}

// PriorityPolicy says how a pull consumer with priority groups picks
// among waiting requests. Only the policies of nats-server 2.11 are
// known; any other value (2.12's "prioritized" among them) fails to
// decode with 2.11's error, so a request using it is refused as invalid
// JSON rather than run under a policy this server does not implement.
type PriorityPolicy int

const (
	PriorityNone         PriorityPolicy = iota // "none"
	PriorityOverflow                           // "overflow": only when min_pending/min_ack_pending are met
	PriorityPinnedClient                       // "pinned_client": one client at a time
)

var priorityNames = []string{"none", "overflow", "pinned_client"}

func (p PriorityPolicy) String() string { return enumName(priorityNames, int(p)) }

func (p PriorityPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal("priority policy", priorityNames, int(p))
}

func (p *PriorityPolicy) UnmarshalJSON(b []byte) error {
	for i, n := range priorityNames {
		if string(b) == `"`+n+`"` {
			*p = PriorityPolicy(i)
			return nil
		}
	}
	return fmt.Errorf("unknown priority policy: %s", b)
}

// ConsumerAction is what a create request may do: "" creates or
// updates, "create" fails if the consumer exists with another
// configuration, "update" fails if it does not exist.
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
	case ActionCreateOrUpdate:
		return []byte(`""`), nil
	}
	return nil, fmt.Errorf("jsapi: can not marshal consumer action %d", int(a))
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
		return fmt.Errorf("unknown consumer action: %q", s)
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
	Sourcing           bool              `json:"sourcing,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	// PauseUntil stops deliveries until then; nil or the zero time (which
	// natscli always sends) means not paused.
	PauseUntil     *time.Time     `json:"pause_until,omitempty"`
	PriorityGroups []string       `json:"priority_groups,omitempty"`
	PriorityPolicy PriorityPolicy `json:"priority_policy,omitempty"`
	PinnedTTL      time.Duration  `json:"priority_timeout,omitempty"`
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
	Paused         bool            `json:"paused,omitempty"`
	PauseRemaining time.Duration   `json:"pause_remaining,omitempty"`
	TimeStamp      time.Time       `json:"ts"`
	// PriorityGroups reports pinned clients of pinned_client consumers.
	PriorityGroups []PriorityGroupState `json:"priority_groups,omitempty"`
}

// PriorityGroupState is one priority group's pinned client.
type PriorityGroupState struct {
	Group          string    `json:"group"`
	PinnedClientID string    `json:"pinned_client_id,omitempty"`
	PinnedTS       time.Time `json:"pinned_ts,omitempty"`
}

// ConsumerCreateRequest is the body of CONSUMER.CREATE and
// CONSUMER.DURABLE.CREATE.
type ConsumerCreateRequest struct {
	Stream   string         `json:"stream_name"`
	Config   ConsumerConfig `json:"config"`
	Action   ConsumerAction `json:"action"`
	Pedantic bool           `json:"pedantic,omitempty"`
}

// CreateConsumerRequest is nats-server's name for ConsumerCreateRequest.
type CreateConsumerRequest = ConsumerCreateRequest

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

// ConsumerNamesRequest pages CONSUMER.NAMES (and CONSUMER.LIST).
type ConsumerNamesRequest struct {
	ApiPagedRequest
}

// ConsumerListResponse answers CONSUMER.LIST.
type ConsumerListResponse struct {
	ApiResponse
	ApiPaged
	Consumers []*ConsumerInfo   `json:"consumers"`
	Missing   []string          `json:"missing,omitempty"`
	Offline   map[string]string `json:"offline,omitempty"`
}

// NextRequest is a pull request (CONSUMER.MSG.NEXT) body. A body that is
// a bare number is a batch size, and an empty body means batch 1; callers
// handle those before decoding.
type NextRequest struct {
	Expires   time.Duration `json:"expires,omitempty"`
	Batch     int           `json:"batch,omitempty"`
	MaxBytes  int           `json:"max_bytes,omitempty"`
	NoWait    bool          `json:"no_wait,omitempty"`
	Heartbeat time.Duration `json:"idle_heartbeat,omitempty"`
	PriorityGroup
}

// PriorityGroup is the priority part of a pull request.
type PriorityGroup struct {
	Group         string `json:"group,omitempty"`
	MinPending    int64  `json:"min_pending,omitempty"`
	MinAckPending int64  `json:"min_ack_pending,omitempty"`
	Id            string `json:"id,omitempty"`
}

// ConsumerPauseRequest is CONSUMER.PAUSE's body; a zero time resumes.
type ConsumerPauseRequest struct {
	PauseUntil time.Time `json:"pause_until,omitempty"`
}

// ConsumerPauseResponse answers CONSUMER.PAUSE.
type ConsumerPauseResponse struct {
	ApiResponse
	Paused         bool          `json:"paused"`
	PauseUntil     time.Time     `json:"pause_until"`
	PauseRemaining time.Duration `json:"pause_remaining,omitempty"`
}

// ConsumerResetRequest is CONSUMER.RESET's body: the stream sequence to
// start delivering from again (0: the consumer's configured start).
type ConsumerResetRequest struct {
	Seq uint64 `json:"seq,omitempty"`
}

// ConsumerResetResponse answers CONSUMER.RESET: the consumer as reset and
// the sequence it restarts from.
type ConsumerResetResponse struct {
	ApiResponse
	*ConsumerInfo
	ResetSeq uint64 `json:"reset_seq"`
}

// ConsumerUnpinRequest is CONSUMER.UNPIN's body.
type ConsumerUnpinRequest struct {
	Group string `json:"group"`
}

// ConsumerUnpinResponse answers CONSUMER.UNPIN.
type ConsumerUnpinResponse struct {
	ApiResponse
}

// Consumer API subjects (the first '*' is the stream, the second the
// consumer) and response types. CONSUMER.CREATE takes
// <stream>, <stream>.<consumer> or <stream>.<consumer>.<filter subject>;
// SubjConsumerCreate matches all three.
const (
	SubjConsumerCreate        = "$JS.API.CONSUMER.CREATE.>"
	SubjConsumerDurableCreate = "$JS.API.CONSUMER.DURABLE.CREATE.*.*"
	SubjConsumerInfo          = "$JS.API.CONSUMER.INFO.*.*"
	SubjConsumerDelete        = "$JS.API.CONSUMER.DELETE.*.*"
	SubjConsumerNames         = "$JS.API.CONSUMER.NAMES.*"
	SubjConsumerList          = "$JS.API.CONSUMER.LIST.*"
	SubjConsumerNext          = "$JS.API.CONSUMER.MSG.NEXT.*.*"
	SubjConsumerPause         = "$JS.API.CONSUMER.PAUSE.*.*"
	SubjConsumerUnpin         = "$JS.API.CONSUMER.UNPIN.*.*"
	SubjConsumerReset         = "$JS.API.CONSUMER.RESET.*.*"

	TypeConsumerCreateResponse = "io.nats.jetstream.api.v1.consumer_create_response"
	TypeConsumerInfoResponse   = "io.nats.jetstream.api.v1.consumer_info_response"
	TypeConsumerDeleteResponse = "io.nats.jetstream.api.v1.consumer_delete_response"
	TypeConsumerNamesResponse  = "io.nats.jetstream.api.v1.consumer_names_response"
	TypeConsumerListResponse   = "io.nats.jetstream.api.v1.consumer_list_response"
	TypeConsumerPauseResponse  = "io.nats.jetstream.api.v1.consumer_pause_response"
	TypeConsumerUnpinResponse  = "io.nats.jetstream.api.v1.consumer_unpin_response"
	TypeConsumerResetResponse  = "io.nats.jetstream.api.v1.consumer_reset_response"
)
