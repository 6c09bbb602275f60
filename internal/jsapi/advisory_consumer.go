package jsapi

import "time"

// Consumer advisories added with nats-server 2.11 (pause, priority group
// pins) and the NAK advisory, published on AdvisoryPrefix + the subject
// prefix below + ".<stream>.<consumer>".
const (
	AdvisoryConsumerPause    = "CONSUMER.PAUSE"
	AdvisoryConsumerPinned   = "CONSUMER.PINNED"
	AdvisoryConsumerUnpinned = "CONSUMER.UNPINNED"
	AdvisoryConsumerNak      = "CONSUMER.MSG_NAKED"

	TypeConsumerPause         = "io.nats.jetstream.advisory.v1.consumer_pause"
	TypeConsumerGroupPinned   = "io.nats.jetstream.advisory.v1.consumer_group_pinned"
	TypeConsumerGroupUnpinned = "io.nats.jetstream.advisory.v1.consumer_group_unpinned"
	TypeConsumerDeliveryNaked = "io.nats.jetstream.advisory.v1.nak"

	UnpinReasonAdmin   = "admin"   // CONSUMER.UNPIN
	UnpinReasonTimeout = "timeout" // the pinned client stopped asking in time
)

// Priority groups on the wire: the header carrying a pinned client's id
// on each delivery, and the status a pull request with a stale id gets.
const (
	HdrPinID         = "Nats-Pin-Id"
	StatusWrongPinID = "NATS/1.0 423 Nats-Wrong-Pin-Id\r\n\r\n"
)

// GlobalAccount is the account advisories name on a server without
// accounts.
const GlobalAccount = "$G"

// ConsumerPauseAdvisory reports a consumer paused, or resumed (Paused
// false: by request or because the deadline passed).
type ConsumerPauseAdvisory struct {
	TypedEvent
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Paused     bool      `json:"paused"`
	PauseUntil time.Time `json:"pause_until,omitempty"`
	Domain     string    `json:"domain,omitempty"`
}

// ConsumerGroupPinnedAdvisory reports a new pinned client of a priority
// group.
type ConsumerGroupPinnedAdvisory struct {
	TypedEvent
	Account        string `json:"account,omitempty"`
	Stream         string `json:"stream"`
	Consumer       string `json:"consumer"`
	Domain         string `json:"domain,omitempty"`
	Group          string `json:"group"`
	PinnedClientID string `json:"pinned_id"`
}

// ConsumerGroupUnpinnedAdvisory reports a pin given up, with a reason:
// UnpinReasonAdmin or UnpinReasonTimeout.
type ConsumerGroupUnpinnedAdvisory struct {
	TypedEvent
	Account  string `json:"account,omitempty"`
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Domain   string `json:"domain,omitempty"`
	Group    string `json:"group"`
	Reason   string `json:"reason"`
}

// ConsumerDeliveryNakAdvisory reports a delivery answered with -NAK.
type ConsumerDeliveryNakAdvisory struct {
	TypedEvent
	Stream      string `json:"stream"`
	Consumer    string `json:"consumer"`
	ConsumerSeq uint64 `json:"consumer_seq"`
	StreamSeq   uint64 `json:"stream_seq"`
	Deliveries  int    `json:"deliveries"`
	Domain      string `json:"domain,omitempty"`
}
