package jsapi

import "time"

// Stream snapshots ($JS.API.STREAM.SNAPSHOT.<stream>) and restores
// ($JS.API.STREAM.RESTORE.<stream>): the requests, responses, the
// subjects the data flows on, and the advisories, as nats-server has them.

// Subjects of the data transfer. The snapshot sends each chunk with a
// reply subject SnapshotAckPrefix + "<stream>.<id>.<chunk size>.<chunk
// number>" that the receiver answers to open the window; the restore
// takes chunks on RestoreDeliverPrefix + "<stream>.<id>".
const (
	SnapshotAckPrefix    = "$JS.SNAPSHOT.ACK."
	RestoreDeliverPrefix = "$JS.SNAPSHOT.RESTORE."
)

// StreamSnapshotRequest asks for a stream's snapshot.
type StreamSnapshotRequest struct {
	// DeliverSubject receives the chunks; it must be a literal subject.
	DeliverSubject string `json:"deliver_subject"`
	// NoConsumers leaves the consumers out.
	NoConsumers bool `json:"no_consumers,omitempty"`
	// ChunkSize is the size of each chunk (128 KiB by default).
	ChunkSize int `json:"chunk_size,omitempty"`
	// WindowSize bounds the bytes sent and not yet acknowledged (8 MiB by
	// default; nats-server 2.12 added it).
	WindowSize int `json:"window_size,omitempty"`
	// CheckMsgs checks every message before the snapshot starts.
	CheckMsgs bool `json:"jsck,omitempty"`
}

// StreamSnapshotResponse answers the request before the chunks follow.
type StreamSnapshotResponse struct {
	ApiResponse
	Config *StreamConfig `json:"config,omitempty"`
	State  *StreamState  `json:"state,omitempty"`
}

// StreamRestoreRequest starts a restore: the configuration to restore
// under and the state the backup recorded (informational).
type StreamRestoreRequest struct {
	Config StreamConfig `json:"config"`
	State  StreamState  `json:"state"`
}

// StreamRestoreResponse tells the client where to send the chunks. The
// final reply, to the empty chunk that ends the upload, is a
// StreamCreateResponse.
type StreamRestoreResponse struct {
	ApiResponse
	DeliverSubject string `json:"deliver_subject"`
}

// Advisory subjects (the stream name follows) and types.
const (
	AdvisorySnapshotCreate   = AdvisoryPrefix + "STREAM.SNAPSHOT_CREATE"
	AdvisorySnapshotComplete = AdvisoryPrefix + "STREAM.SNAPSHOT_COMPLETE"
	AdvisoryRestoreCreate    = AdvisoryPrefix + "STREAM.RESTORE_CREATE"
	AdvisoryRestoreComplete  = AdvisoryPrefix + "STREAM.RESTORE_COMPLETE"

	TypeSnapshotCreate   = "io.nats.jetstream.advisory.v1.snapshot_create"
	TypeSnapshotComplete = "io.nats.jetstream.advisory.v1.snapshot_complete"
	TypeRestoreCreate    = "io.nats.jetstream.advisory.v1.restore_create"
	TypeRestoreComplete  = "io.nats.jetstream.advisory.v1.restore_complete"
)

// The advisories carry the requesting client as "client" (null for an
// in-process requester).

// SnapshotCreateAdvisory reports a snapshot started.
type SnapshotCreateAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	State  StreamState `json:"state"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
}

// SnapshotCompleteAdvisory reports a snapshot finished; Error is set when
// it failed (nats-server 2.12 and later).
type SnapshotCompleteAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	Start  time.Time   `json:"start"`
	End    time.Time   `json:"end"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// RestoreCreateAdvisory reports a restore started.
type RestoreCreateAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
}

// RestoreCompleteAdvisory reports a restore finished, with the bytes
// received.
type RestoreCompleteAdvisory struct {
	TypedEvent
	Stream string      `json:"stream"`
	Start  time.Time   `json:"start"`
	End    time.Time   `json:"end"`
	Bytes  int64       `json:"bytes"`
	Client *ClientInfo `json:"client"`
	Domain string      `json:"domain,omitempty"`
}
