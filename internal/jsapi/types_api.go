package jsapi

import "time"

// ApiResponse starts every API response: its type name and, on failure,
// the error. Responses embed it first, so "type" is the first key and
// "error" the second.
type ApiResponse struct {
	Type  string    `json:"type"`
	Error *ApiError `json:"error,omitempty"`
}

// APIError returns the response's error, nil on success.
func (r ApiResponse) APIError() *ApiError { return r.Error }

// ToError returns the response's error as an error, a true nil on success.
func (r ApiResponse) ToError() error {
	if r.Error == nil {
		return nil
	}
	return r.Error
}

// ApiPaged is the paging part of listing responses. nats-server also
// sends it, all zeros, in STREAM.INFO responses without subjects_filter.
type ApiPaged struct {
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// ApiPagedRequest asks for the page starting at Offset.
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

// JetStreamTier is usage and limits, for the account or one tier.
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

// StreamCreateResponse answers STREAM.CREATE. DidCreate is set whenever
// the create succeeded, also when an identical stream already existed.
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

// StreamInfoRequest is STREAM.INFO's optional body. Offset pages through
// the subjects that SubjectsFilter selects.
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

// StreamNamesRequest filters STREAM.NAMES by subject and pages it.
type StreamNamesRequest struct {
	ApiPagedRequest
	Subject string `json:"subject,omitempty"`
}

// StreamNamesResponse answers STREAM.NAMES. Streams is null, not [], when
// none match (as nats-server sends it).
type StreamNamesResponse struct {
	ApiResponse
	ApiPaged
	Streams []string `json:"streams"`
}

// StreamListRequest filters STREAM.LIST by subject and pages it.
type StreamListRequest struct {
	ApiPagedRequest
	Subject string `json:"subject,omitempty"`
}

// StreamListResponse answers STREAM.LIST. Streams is [], not null, when
// none match. Missing and Offline name streams a cluster could not report.
type StreamListResponse struct {
	ApiResponse
	ApiPaged
	Streams []*StreamInfo     `json:"streams"`
	Missing []string          `json:"missing,omitempty"`
	Offline map[string]string `json:"offline,omitempty"`
}

// StreamPurgeRequest selects what STREAM.PURGE removes: everything, or
// messages matching Subject (wildcards allowed), up to but not including
// Sequence, or all but the newest Keep. Sequence and Keep exclude each
// other.
type StreamPurgeRequest struct {
	Sequence uint64 `json:"seq,omitempty"`
	Subject  string `json:"filter,omitempty"`
	Keep     uint64 `json:"keep,omitempty"`
}

// StreamPurgeResponse answers STREAM.PURGE. Purged is always sent.
type StreamPurgeResponse struct {
	ApiResponse
	Success bool   `json:"success,omitempty"`
	Purged  uint64 `json:"purged"`
}

// MsgGetRequest selects a message for STREAM.MSG.GET and DIRECT.GET: by
// sequence, the last on a subject, or the next on a subject at or after
// Seq. The batch fields (Batch through NoHeaders) are for DIRECT.GET only.
type MsgGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`

	Batch        int        `json:"batch,omitempty"`      // up to this many messages
	MaxBytes     int        `json:"max_bytes,omitempty"`  // stop a batch after this many bytes
	StartTime    *time.Time `json:"start_time,omitempty"` // first message at or after this time
	MultiLastFor []string   `json:"multi_last,omitempty"` // the last message on each matching subject
	UpToSeq      uint64     `json:"up_to_seq,omitempty"`  // multi_last as of this sequence
	UpToTime     *time.Time `json:"up_to_time,omitempty"` // multi_last as of this time
	NoHeaders    bool       `json:"no_hdr,omitempty"`     // leave the stored headers out
}

// MsgGetResponse answers STREAM.MSG.GET.
type MsgGetResponse struct {
	ApiResponse
	Message *StoredMsg `json:"message,omitempty"`
}

// StoredMsg is a message as STREAM.MSG.GET returns it. Header (the raw
// "NATS/1.0\r\n…" block) and Data are base64 in JSON, as []byte marshals,
// and left out when empty.
type StoredMsg struct {
	Subject  string    `json:"subject"`
	Sequence uint64    `json:"seq"`
	Header   []byte    `json:"hdrs,omitempty"`
	Data     []byte    `json:"data,omitempty"`
	Time     time.Time `json:"time"`
}

// MsgDeleteRequest names the message STREAM.MSG.DELETE removes. NoErase
// skips overwriting its bytes on disk.
type MsgDeleteRequest struct {
	Seq     uint64 `json:"seq"`
	NoErase bool   `json:"no_erase,omitempty"`
}

// MsgDeleteResponse answers STREAM.MSG.DELETE.
type MsgDeleteResponse struct {
	ApiResponse
	Success bool `json:"success,omitempty"`
}

// PubAck acknowledges a stored message. Value is a counter stream's new
// total; BatchId and BatchSize acknowledge a committed batch.
type PubAck struct {
	Stream    string `json:"stream"`
	Sequence  uint64 `json:"seq"`
	Domain    string `json:"domain,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Value     string `json:"val,omitempty"`
	BatchId   string `json:"batch,omitempty"`
	BatchSize uint64 `json:"count,omitempty"`
}

// PubAckResponse is a publish's reply: an ack, or an error followed by the
// stream's name and seq 0 ({"error":{…},"stream":"S","seq":0}). It has no
// "type". nats-server writes successful acks by hand; json.Marshal of a
// PubAckResponse gives the same JSON up to insignificant spaces (2.9 sent
// {"stream":"S", "seq":1}; a duplicate ends ,"duplicate": true}).
type PubAckResponse struct {
	Error *ApiError `json:"error,omitempty"`
	*PubAck
}

// ToError returns the response's error as an error, a true nil on success.
func (r PubAckResponse) ToError() error {
	if r.Error == nil {
		return nil
	}
	return r.Error
}
