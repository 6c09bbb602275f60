package jsapi

// The cluster's administrative API: leader step-downs, peer removal.
const (
	SubjStreamLeaderStepDown   = "$JS.API.STREAM.LEADER.STEPDOWN.*"
	SubjConsumerLeaderStepDown = "$JS.API.CONSUMER.LEADER.STEPDOWN.*.*"
	SubjMetaLeaderStepDown     = "$JS.API.META.LEADER.STEPDOWN"
	SubjStreamPeerRemove       = "$JS.API.STREAM.PEER.REMOVE.*"

	TypeStreamLeaderStepDownResponse   = "io.nats.jetstream.api.v1.stream_leader_stepdown_response"
	TypeConsumerLeaderStepDownResponse = "io.nats.jetstream.api.v1.consumer_leader_stepdown_response"
	TypeMetaLeaderStepDownResponse     = "io.nats.jetstream.api.v1.meta_leader_stepdown_response"
	TypeStreamRemovePeerResponse       = "io.nats.jetstream.api.v1.stream_remove_peer_response"
)

// StreamRemovePeerRequest names, by server name, the member to take out
// of a stream's group.
type StreamRemovePeerRequest struct {
	Peer string `json:"peer"`
}

// LeaderStepDownRequest may name the server to lead next.
type LeaderStepDownRequest struct {
	Placement *Placement `json:"placement,omitempty"`
}

// SuccessResponse is the answer of the step-downs.
type SuccessResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}
