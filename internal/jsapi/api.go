package jsapi

import "time"

// API subjects. Handlers are subscribed per pattern; the stream name is the
// last token.
const (
	Prefix           = "$JS.API."
	SubjInfo         = "$JS.API.INFO"
	SubjStreamCreate = "$JS.API.STREAM.CREATE.*"
	SubjStreamUpdate = "$JS.API.STREAM.UPDATE.*"
	SubjStreamInfo   = "$JS.API.STREAM.INFO.*"
	SubjStreamDelete = "$JS.API.STREAM.DELETE.*"
	SubjStreamNames  = "$JS.API.STREAM.NAMES"
	SubjStreamList   = "$JS.API.STREAM.LIST"
	SubjStreamPurge  = "$JS.API.STREAM.PURGE.*"
	SubjMsgGet       = "$JS.API.STREAM.MSG.GET.*"
	SubjMsgDelete    = "$JS.API.STREAM.MSG.DELETE.*"
	// DirectGetPrefix + <stream> takes a JSON request; + <stream>.<subject>
	// answers the last message on that subject.
	DirectGetPrefix = "$JS.API.DIRECT.GET."
)

// Response type names, sent in every response's "type".
const (
	TypeAccountInfoResponse  = "io.nats.jetstream.api.v1.account_info_response"
	TypeStreamCreateResponse = "io.nats.jetstream.api.v1.stream_create_response"
	TypeStreamUpdateResponse = "io.nats.jetstream.api.v1.stream_update_response"
	TypeStreamInfoResponse   = "io.nats.jetstream.api.v1.stream_info_response"
	TypeStreamDeleteResponse = "io.nats.jetstream.api.v1.stream_delete_response"
	TypeStreamNamesResponse  = "io.nats.jetstream.api.v1.stream_names_response"
	TypeStreamListResponse   = "io.nats.jetstream.api.v1.stream_list_response"
	TypeStreamPurgeResponse  = "io.nats.jetstream.api.v1.stream_purge_response"
	TypeMsgGetResponse       = "io.nats.jetstream.api.v1.stream_msg_get_response"
	TypeMsgDeleteResponse    = "io.nats.jetstream.api.v1.stream_msg_delete_response"
)

// ApiResponse starts every API response.
type ApiResponse struct {
	Type  string    `json:"type"`
	Error *ApiError `json:"error,omitempty"`
}

// APIError returns the response's error, nil on success.
func (r ApiResponse) APIError() *ApiError { return r.Error }

// ApiPaged is the paging part of listing responses.
type ApiPaged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// ApiPagedRequest asks for a page starting at Offset.
type ApiPagedRequest struct {
	Offset int `json:"offset"`
}

// JetStreamAccountLimits are an account's limits (-1: unlimited).
type JetStreamAccountLimits struct {
	MaxMemory            int64 `json:"max_memory"`
	MaxStore             int64 `json:"max_storage"`
	MaxStreams           int   `json:"max_streams"`
	MaxConsumers         int   `json:"max_consumers"`
	MaxAckPending        int   `json:"max_ack_pending"`
	MemoryMaxStreamBytes int64 `json:"memory_max_stream_bytes"`
	StoreMaxStreamBytes  int64 `json:"storage_max_stream_bytes"`
	MaxBytesRequired     bool  `json:"max_bytes_required"`
}

// JetStreamTier is usage and limits.
type JetStreamTier struct {
	Memory         uint64                 `json:"memory"`
	Store          uint64                 `json:"storage"`
	ReservedMemory uint64                 `json:"reserved_memory"`
	ReservedStore  uint64                 `json:"reserved_storage"`
	Streams        int                    `json:"streams"`
	Consumers      int                    `json:"consumers"`
	Limits         JetStreamAccountLimits `json:"limits"`
}

// JetStreamAPIStats counts API use; Level is the API level served.
type JetStreamAPIStats struct {
	Level    int    `json:"level"`
	Total    uint64 `json:"total"`
	Errors   uint64 `json:"errors"`
	Inflight uint64 `json:"inflight,omitempty"`
}

// JetStreamAccountStats is $JS.API.INFO's body.
type JetStreamAccountStats struct {
	JetStreamTier
	Domain string                   `json:"domain,omitempty"`
	API    JetStreamAPIStats        `json:"api"`
	Tiers  map[string]JetStreamTier `json:"tiers,omitempty"`
}

// AccountInfoResponse answers $JS.API.INFO.
type AccountInfoResponse struct {
	ApiResponse
	*JetStreamAccountStats
}

// StreamCreateResponse answers STREAM.CREATE.
type StreamCreateResponse struct {
	ApiResponse
	*StreamInfo
	DidCreate bool `json:"did_create,omitempty"`
}

// StreamUpdateResponse answers STREAM.UPDATE.
type StreamUpdateResponse struct {
	ApiResponse
	*StreamInfo
}

// StreamInfoRequest is STREAM.INFO's optional body.
type StreamInfoRequest struct {
	ApiPagedRequest
	DeletedDetails bool   `json:"deleted_details,omitempty"`
	SubjectsFilter string `json:"subjects_filter,omitempty"`
}

// StreamInfoResponse answers STREAM.INFO.
type StreamInfoResponse struct {
	ApiResponse
	ApiPaged
	*StreamInfo
}

// StreamDeleteResponse answers STREAM.DELETE.
type StreamDeleteResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}

// StreamNamesRequest filters STREAM.NAMES by subject.
type StreamNamesRequest struct {
	ApiPagedRequest
	Subject string `json:"subject,omitempty"`
}

// StreamNamesResponse answers STREAM.NAMES.
type StreamNamesResponse struct {
	ApiResponse
	ApiPaged
	Streams []string `json:"streams"`
}

// StreamListRequest filters STREAM.LIST by subject.
type StreamListRequest struct {
	ApiPagedRequest
	Subject string `json:"subject,omitempty"`
}

// StreamListResponse answers STREAM.LIST.
type StreamListResponse struct {
	ApiResponse
	ApiPaged
	Streams []*StreamInfo     `json:"streams"`
	Missing []string          `json:"missing,omitempty"`
	Offline map[string]string `json:"offline,omitempty"`
}

// StreamPurgeRequest selects what STREAM.PURGE removes.
type StreamPurgeRequest struct {
	Sequence uint64 `json:"seq,omitempty"`
	Subject  string `json:"filter,omitempty"`
	Keep     uint64 `json:"keep,omitempty"`
}

// StreamPurgeResponse answers STREAM.PURGE.
type StreamPurgeResponse struct {
	ApiResponse
	Success bool   `json:"success,omitempty"`
	Purged  uint64 `json:"purged"`
}

// MsgGetRequest selects a message (STREAM.MSG.GET and DIRECT.GET).
type MsgGetRequest struct {
	Seq          uint64     `json:"seq,omitempty"`
	LastFor      string     `json:"last_by_subj,omitempty"`
	NextFor      string     `json:"next_by_subj,omitempty"`
	Batch        int        `json:"batch,omitempty"`
	MaxBytes     int        `json:"max_bytes,omitempty"`
	StartTime    *time.Time `json:"start_time,omitempty"`
	MultiLastFor []string   `json:"multi_last,omitempty"`
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`
	UpToTime     *time.Time `json:"up_to_time,omitempty"`
	NoHeaders    bool       `json:"no_hdr,omitempty"`
}

// MsgGetResponse answers STREAM.MSG.GET.
type MsgGetResponse struct {
	ApiResponse
	Message *StoredMsg `json:"message,omitempty"`
}

// MsgDeleteRequest names the message STREAM.MSG.DELETE removes.
type MsgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// MsgDeleteResponse answers STREAM.MSG.DELETE.
type MsgDeleteResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}
