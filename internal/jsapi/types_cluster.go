package jsapi

// The cluster's administrative API: leader step-downs.
const (
	SubjStreamLeaderStepDown   = "$JS.API.STREAM.LEADER.STEPDOWN.*"
	SubjConsumerLeaderStepDown = "$JS.API.CONSUMER.LEADER.STEPDOWN.*.*"
	SubjMetaLeaderStepDown     = "$JS.API.META.LEADER.STEPDOWN"

	TypeStreamLeaderStepDownResponse   = "io.nats.jetstream.api.v1.stream_leader_stepdown_response"
	TypeConsumerLeaderStepDownResponse = "io.nats.jetstream.api.v1.consumer_leader_stepdown_response"
	TypeMetaLeaderStepDownResponse     = "io.nats.jetstream.api.v1.meta_leader_stepdown_response"
)

// LeaderStepDownRequest may name the server to lead next.
type LeaderStepDownRequest struct {
	Placement *Placement `json:"placement,omitempty"`
}

// SuccessResponse is the answer of the step-downs.
type SuccessResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}
