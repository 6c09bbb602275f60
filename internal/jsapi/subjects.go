package jsapi

import "strings"

// API subjects. A '*' is a stream (then consumer) name; handlers subscribe
// to the patterns and read the names from the subject's tokens. The
// builders below fill them in.
const (
	Prefix = "$JS.API."

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
	SubjSnapshot     = "$JS.API.STREAM.SNAPSHOT.*"
	SubjRestore      = "$JS.API.STREAM.RESTORE.*"

	// SubjDirectGet takes a MsgGetRequest; SubjDirectGetLast (one more
	// token or more after the stream) answers the last message on the
	// subject those tokens spell, with an empty request body.
	SubjDirectGet     = "$JS.API.DIRECT.GET.*"
	SubjDirectGetLast = "$JS.API.DIRECT.GET.*.>"
	// DirectGetPrefix + <stream> takes a JSON request; + <stream>.<subject>
	// answers the last message on that subject.
	DirectGetPrefix = "$JS.API.DIRECT.GET."
)

// SubjectFor fills a pattern's wildcards with names, in order:
// SubjectFor(SubjStreamInfo, "ORDERS") is "$JS.API.STREAM.INFO.ORDERS".
// A trailing '>' takes the last name as it is (it may hold dots).
func SubjectFor(pattern string, names ...string) string {
	toks := strings.Split(pattern, ".")
	for i, t := range toks {
		if (t == "*" || t == ">") && len(names) > 0 {
			toks[i], names = names[0], names[1:]
		}
	}
	return strings.Join(toks, ".")
}

// DirectGetLastSubject is the subject asking stream for the last message
// on subj.
func DirectGetLastSubject(stream, subj string) string { return DirectGetPrefix + stream + "." + subj }

// Response type names, sent in every API response's "type".
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
	TypeSnapshotResponse     = "io.nats.jetstream.api.v1.stream_snapshot_response"
	TypeRestoreResponse      = "io.nats.jetstream.api.v1.stream_restore_response"
	// TypeSystemResponse answers requests the server can not route, such
	// as an unknown API subject in a clustered server.
	TypeSystemResponse = "io.nats.jetstream.api.v1.system_response"
	// TypeOverloaded is sent when the API request queue is full.
	TypeOverloaded = "io.nats.jetstream.api.v1.system_overloaded"
)

// Listing limits and other bounds of the API, as nats-server's.
const (
	NamesPageSize     = 1024    // STREAM.NAMES, CONSUMER.NAMES
	ListPageSize      = 256     // STREAM.LIST, CONSUMER.LIST
	MaxSubjectDetails = 100_000 // subjects per STREAM.INFO page (subjects_filter)
	APILevel          = 1       // the JetStream API level this package describes (per-message TTLs)
)

// Headers a publish to a stream subject may carry.
const (
	HdrMsgID                   = "Nats-Msg-Id"
	HdrExpectedStream          = "Nats-Expected-Stream"
	HdrExpectedLastSeq         = "Nats-Expected-Last-Sequence"
	HdrExpectedLastSubjSeq     = "Nats-Expected-Last-Subject-Sequence"
	HdrExpectedLastSubjSeqSubj = "Nats-Expected-Last-Subject-Sequence-Subject"
	HdrExpectedLastMsgID       = "Nats-Expected-Last-Msg-Id"
	HdrRollup                  = "Nats-Rollup" // "sub" or "all"
	HdrTTL                     = "Nats-TTL"    // "30s", "1h", a number of seconds, or "never"
	HdrIncr                    = "Nats-Incr"
	HdrBatchID                 = "Nats-Batch-Id"
	HdrBatchSeq                = "Nats-Batch-Sequence"
	HdrBatchCommit             = "Nats-Batch-Commit"
	HdrStreamSource            = "Nats-Stream-Source"
	HdrRequiredAPILevel        = "Nats-Required-Api-Level"

	RollupSubject = "sub"
	RollupAll     = "all"
)

// Headers the server puts on messages it sends: direct get replies,
// republished messages, subject delete markers.
const (
	HdrStream       = "Nats-Stream"
	HdrSequence     = "Nats-Sequence"
	HdrTimeStamp    = "Nats-Time-Stamp" // RFC 3339 with nanoseconds, UTC
	HdrSubject      = "Nats-Subject"
	HdrLastSequence = "Nats-Last-Sequence" // previous message of a batch or republish; 0 first
	HdrNumPending   = "Nats-Num-Pending"   // messages left after this one in a direct get batch
	HdrUpToSequence = "Nats-UpTo-Sequence"
	HdrMsgSize      = "Nats-Msg-Size" // payload size when headers only are sent
	HdrMarkerReason = "Nats-Marker-Reason"
)

// Metadata keys nats-server manages in stream and consumer configurations.
const (
	MetaRequiredLevel = "_nats.req.level" // stored: the API level the configuration needs
	MetaServerVersion = "_nats.ver"       // responses only: the server's version
	MetaServerLevel   = "_nats.level"     // responses only: the server's API level
)
