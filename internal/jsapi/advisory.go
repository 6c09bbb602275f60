package jsapi

import "time"

// Advisories are published on $JS.EVENT.ADVISORY.… so applications and
// operators (nats events --js-advisory) see what changes: streams and
// consumers created, updated and deleted, leaders elected, API requests
// served, messages given up on.
const AdvisoryPrefix = "$JS.EVENT.ADVISORY."

// Advisory subjects; the stream (and consumer) name follows as more tokens.
const (
	AdvisoryStreamCreated         = AdvisoryPrefix + "STREAM.CREATED"
	AdvisoryStreamUpdated         = AdvisoryPrefix + "STREAM.UPDATED"
	AdvisoryStreamDeleted         = AdvisoryPrefix + "STREAM.DELETED"
	AdvisoryStreamLeaderElected   = AdvisoryPrefix + "STREAM.LEADER_ELECTED"
	AdvisoryConsumerLeaderElected = AdvisoryPrefix + "CONSUMER.LEADER_ELECTED"
	// AdvisoryAPI is the audit of every API request served; it takes no
	// further tokens.
	AdvisoryAPI = AdvisoryPrefix + "API"
)

// Actions of stream and consumer action advisories.
const (
	AdvisoryCreate = "create"
	AdvisoryModify = "modify" // stream updated
	AdvisoryDelete = "delete"
)

// MetricPrefix starts metric events such as consumer ack samples.
const MetricPrefix = "$JS.EVENT.METRIC."

// TypeConsumerAckMetric is an ack sample's type.
const TypeConsumerAckMetric = "io.nats.jetstream.metric.v1.consumer_ack"

// ConsumerAckMetric is one sampled ack (sample_freq): how long the
// message waited for its ack.
type ConsumerAckMetric struct {
	TypedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Delay       int64  `json:"ack_time"`
	Deliveries  int    `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}

// Advisory type names.
const (
	TypeConsumerAction = "io.nats.jetstream.advisory.v1.consumer_action"
	TypeStreamAction   = "io.nats.jetstream.advisory.v1.stream_action"
	TypeMaxDeliver     = "io.nats.jetstream.advisory.v1.max_deliver"
	TypeTerminated     = "io.nats.jetstream.advisory.v1.terminated"

	TypeStreamLeaderElected   = "io.nats.jetstream.advisory.v1.stream_leader_elected"
	TypeConsumerLeaderElected = "io.nats.jetstream.advisory.v1.consumer_leader_elected"
	TypeAPIAudit              = "io.nats.jetstream.advisory.v1.api_audit"
)

// TypedEvent starts every advisory.
type TypedEvent struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

// ConsumerActionAdvisory reports a consumer created or deleted.
type ConsumerActionAdvisory struct {
	TypedEvent
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Action   string `json:"action"`
	Domain   string `json:"domain,omitempty"`
}

// StreamActionAdvisory reports a stream created, updated or deleted.
type StreamActionAdvisory struct {
	TypedEvent
	Stream string `json:"stream"`
	Action string `json:"action"`
	Domain string `json:"domain,omitempty"`
}

// StreamLeaderElectedAdvisory reports the server now leading a stream.
// Replicas lists every peer of the stream's group, the leader included.
type StreamLeaderElectedAdvisory struct {
	TypedEvent
	Account  string      `json:"account,omitempty"` // set only in the system account's copy
	Stream   string      `json:"stream"`
	Leader   string      `json:"leader"`
	Replicas []*PeerInfo `json:"replicas"`
	Domain   string      `json:"domain,omitempty"`
}

// ConsumerLeaderElectedAdvisory reports the server now leading a consumer.
type ConsumerLeaderElectedAdvisory struct {
	TypedEvent
	Account  string      `json:"account,omitempty"`
	Stream   string      `json:"stream"`
	Consumer string      `json:"consumer"`
	Leader   string      `json:"leader"`
	Replicas []*PeerInfo `json:"replicas"`
	Domain   string      `json:"domain,omitempty"`
}

// APIAudit records one JetStream API request and the response it got.
// Request and Response are the JSON bodies as sent.
type APIAudit struct {
	TypedEvent
	Server   string      `json:"server"`
	Client   *ClientInfo `json:"client"`
	Subject  string      `json:"subject"`
	Request  string      `json:"request,omitempty"`
	Response string      `json:"response"`
	Domain   string      `json:"domain,omitempty"`
}

// ClientInfo describes the connection that made a request, with
// nats-server's field names (the fields Starling knows).
type ClientInfo struct {
	Start      *time.Time    `json:"start,omitempty"`
	Host       string        `json:"host,omitempty"`
	ID         uint64        `json:"id,omitempty"`
	Account    string        `json:"acc,omitempty"`
	User       string        `json:"user,omitempty"`
	Name       string        `json:"name,omitempty"`
	Lang       string        `json:"lang,omitempty"`
	Version    string        `json:"ver,omitempty"`
	RTT        time.Duration `json:"rtt,omitempty"`
	Server     string        `json:"server,omitempty"`
	Cluster    string        `json:"cluster,omitempty"`
	Kind       string        `json:"kind,omitempty"`
	ClientType string        `json:"client_type,omitempty"`
}

// MaxDeliverAdvisory reports a message given up on after max_deliver.
type MaxDeliverAdvisory struct {
	TypedEvent
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries int    `json:"deliveries"`
	Domain     string `json:"domain,omitempty"`
}

// TerminatedAdvisory reports a message acknowledged with +TERM.
type TerminatedAdvisory struct {
	TypedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  int    `json:"deliveries"`
	Reason      string `json:"reason,omitempty"`
	Domain      string `json:"domain,omitempty"`
}
