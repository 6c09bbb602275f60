package jsapi

import "time"

// Advisories are published on $JS.EVENT.ADVISORY.… so applications can
// react to consumer events (dead-letter handling on max deliveries).
const AdvisoryPrefix = "$JS.EVENT.ADVISORY."

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
