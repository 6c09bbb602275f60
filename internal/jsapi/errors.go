package jsapi

import (
	"fmt"
	"strings"
)

// ApiError is an API error as clients decode it: an HTTP-like status, a
// JetStream error code clients map to typed errors, and a description.
type ApiError struct {
	Code        int    `json:"code"`
	ErrCode     uint16 `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

func (e *ApiError) Error() string { return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode) }

// ErrorID names a catalog entry.
type ErrorID int

// The catalog: the errors the stream API returns, with nats-server's codes
// and descriptions (clients compare err_code; people read descriptions).
// A description may hold one {placeholder}, filled by NewError's argument.
const (
	ErrBadRequest ErrorID = iota
	ErrInvalidJSON
	ErrNotEnabled
	ErrInsufficientResources
	ErrMaximumStreamsLimit
	ErrNoMessageFound
	ErrSequenceNotFound
	ErrStreamNotFound
	ErrStreamNameExist
	ErrStreamMismatch
	ErrStreamNameContainsPathSeparators
	ErrStreamReplicasNotSupported
	ErrStreamInvalidConfig
	ErrStreamSubjectOverlap
	ErrStreamCreate
	ErrStreamUpdate
	ErrStreamDelete
	ErrStreamPurgeFailed
	ErrStreamMsgDeleteFailed
	ErrStreamSealed
	ErrStreamNotMatch
	ErrStreamWrongLastSequence
	ErrStreamExpectedLastSeqPerSubjectInvalid
	ErrStreamWrongLastMsgID
	ErrStreamRollupFailed
	ErrStreamMessageExceedsMaximum
	ErrStreamHeaderExceedsMaximum
	ErrStreamStoreFailed
	ErrStreamLimits
	ErrStreamMirrorNotUpdatable
	ErrStreamReplicasNotUpdatable
	ErrMirrorWithSubjects
	ErrStreamTransformInvalidSource
	ErrStreamTransformInvalidDestination
	ErrMessageTTLInvalid
	ErrMessageTTLDisabled
	ErrStreamInfoMaxSubjects
	ErrConsumerNotFound
	ErrConsumerCreate
	ErrConsumerNameExist
	ErrConsumerAlreadyExists
	ErrConsumerDoesNotExist
	ErrConsumerDurableNameNotMatchSubject
	ErrConsumerCreateDurableAndNameMismatch
	ErrConsumerCreateFilterSubjectMismatch
	ErrConsumerBadDurableName
	ErrConsumerDeliverToWildcards
	ErrConsumerPushMaxWaiting
	ErrConsumerMaxPendingAckPolicyRequired
	ErrConsumerSmallHeartbeat
	ErrConsumerHBRequiresPush
	ErrConsumerFCRequiresPush
	ErrConsumerWithFlowControlNeedsHeartbeats
	ErrConsumerDuplicateFilterSubjects
	ErrConsumerOverlappingSubjectFilters
	ErrConsumerEmptyFilter
	ErrConsumerFilterNotSubset
	ErrConsumerWQRequiresExplicitAck
	ErrConsumerWQMultipleUnfiltered
	ErrConsumerWQConsumerNotUnique
	ErrConsumerWQConsumerNotDeliverAll
	ErrConsumerInvalidPolicy
	ErrConsumerMaxDeliverBackoff
	ErrConsumerMultipleFiltersNotAllowed
	ErrConsumerConfigRequired
	ErrConsumerNameContainsPathSeparators
	ErrMaximumConsumersLimit
	ErrConsumerReplicasExceedsStream
	ErrConsumerPullWithRateLimit
	ErrConsumerInvalidSampling
	numErrors
)

type catalogEntry struct {
	code    int
	errCode uint16
	desc    string
}

var catalog = [numErrors]catalogEntry{
	ErrBadRequest:                             {400, 10003, "bad request"},
	ErrInvalidJSON:                            {400, 10025, "invalid JSON: {err}"},
	ErrNotEnabled:                             {503, 10076, "JetStream not enabled"},
	ErrInsufficientResources:                  {503, 10023, "insufficient resources"},
	ErrMaximumStreamsLimit:                    {400, 10027, "maximum number of streams reached"},
	ErrNoMessageFound:                         {404, 10037, "no message found"},
	ErrSequenceNotFound:                       {400, 10043, "sequence {seq} not found"},
	ErrStreamNotFound:                         {404, 10059, "stream not found"},
	ErrStreamNameExist:                        {400, 10058, "stream name already in use with a different configuration"},
	ErrStreamMismatch:                         {400, 10056, "stream name in subject does not match request"},
	ErrStreamNameContainsPathSeparators:       {400, 10128, "Stream name can not contain path separators"},
	ErrStreamReplicasNotSupported:             {500, 10074, "replicas > 1 not supported in non-clustered mode"},
	ErrStreamInvalidConfig:                    {500, 10052, "{err}"},
	ErrStreamSubjectOverlap:                   {400, 10065, "subjects overlap with an existing stream"},
	ErrStreamCreate:                           {500, 10049, "{err}"},
	ErrStreamUpdate:                           {500, 10069, "{err}"},
	ErrStreamDelete:                           {500, 10050, "{err}"},
	ErrStreamPurgeFailed:                      {500, 10110, "{err}"},
	ErrStreamMsgDeleteFailed:                  {500, 10057, "{err}"},
	ErrStreamSealed:                           {400, 10109, "invalid operation on sealed stream"},
	ErrStreamNotMatch:                         {400, 10060, "expected stream does not match"},
	ErrStreamWrongLastSequence:                {400, 10071, "wrong last sequence: {seq}"},
	ErrStreamExpectedLastSeqPerSubjectInvalid: {400, 10193, "missing sequence for expected last sequence per subject"},
	ErrStreamWrongLastMsgID:                   {400, 10070, "wrong last msg ID: {id}"},
	ErrStreamRollupFailed:                     {500, 10111, "{err}"},
	ErrStreamMessageExceedsMaximum:            {400, 10054, "message size exceeds maximum allowed"},
	ErrStreamHeaderExceedsMaximum:             {400, 10097, "header size exceeds maximum allowed of 64k"},
	ErrStreamStoreFailed:                      {503, 10077, "{err}"},
	ErrStreamLimits:                           {500, 10053, "{err}"},
	ErrStreamMirrorNotUpdatable:               {400, 10055, "stream mirror configuration can not be updated"},
	ErrStreamReplicasNotUpdatable:             {400, 10061, "Replicas configuration can not be updated"},
	ErrMirrorWithSubjects:                     {400, 10034, "stream mirrors can not contain subjects"},
	ErrStreamTransformInvalidSource:           {400, 10155, "stream transform source: {err}"},
	ErrStreamTransformInvalidDestination:      {400, 10156, "stream transform: {err}"},
	ErrMessageTTLInvalid:                      {400, 10165, "invalid per-message TTL"},
	ErrMessageTTLDisabled:                     {400, 10166, "per-message TTL is disabled"},
	ErrStreamInfoMaxSubjects:                  {500, 10117, "subject details would exceed maximum allowed"},
	ErrConsumerNotFound:                       {404, 10014, "consumer not found"},
	ErrConsumerCreate:                         {500, 10012, "{err}"},
	ErrConsumerNameExist:                      {400, 10013, "consumer name already in use"},
	ErrConsumerAlreadyExists:                  {400, 10148, "consumer already exists"},
	ErrConsumerDoesNotExist:                   {400, 10149, "consumer does not exist"},
	ErrConsumerDurableNameNotMatchSubject:     {400, 10017, "consumer name in subject does not match durable name in request"},
	ErrConsumerCreateDurableAndNameMismatch:   {400, 10132, "Consumer Durable and Name have to be equal if both are provided"},
	ErrConsumerCreateFilterSubjectMismatch:    {400, 10131, "Consumer create request did not match filtered subject from create subject"},
	ErrConsumerBadDurableName:                 {400, 10103, "durable name can not contain '.', '*', '>'"},
	ErrConsumerDeliverToWildcards:             {400, 10079, "consumer deliver subject has wildcards"},
	ErrConsumerPushMaxWaiting:                 {400, 10080, "consumer in push mode can not set max waiting"},
	ErrConsumerMaxPendingAckPolicyRequired:    {400, 10082, "consumer requires ack policy for max ack pending"},
	ErrConsumerSmallHeartbeat:                 {400, 10083, "consumer idle heartbeat needs to be >= 100ms"},
	ErrConsumerHBRequiresPush:                 {400, 10088, "consumer idle heartbeat requires a push based consumer"},
	ErrConsumerFCRequiresPush:                 {400, 10089, "consumer flow control requires a push based consumer"},
	ErrConsumerWithFlowControlNeedsHeartbeats: {400, 10108, "consumer with flow control also needs heartbeats"},
	ErrConsumerDuplicateFilterSubjects:        {400, 10136, "consumer cannot have both FilterSubject and FilterSubjects specified"},
	ErrConsumerOverlappingSubjectFilters:      {400, 10138, "consumer subject filters cannot overlap"},
	ErrConsumerEmptyFilter:                    {400, 10139, "consumer filter in FilterSubjects cannot be empty"},
	ErrConsumerFilterNotSubset:                {400, 10093, "consumer filter subject is not a valid subset of the interest subjects"},
	ErrConsumerWQRequiresExplicitAck:          {400, 10098, "workqueue stream requires explicit ack"},
	ErrConsumerWQMultipleUnfiltered:           {400, 10099, "multiple non-filtered consumers not allowed on workqueue stream"},
	ErrConsumerWQConsumerNotUnique:            {400, 10100, "filtered consumer not unique on workqueue stream"},
	ErrConsumerWQConsumerNotDeliverAll:        {400, 10101, "consumer must be deliver all on workqueue stream"},
	ErrConsumerInvalidPolicy:                  {400, 10094, "{err}"},
	ErrConsumerMaxDeliverBackoff:              {400, 10116, "max deliver is required to be > length of backoff values"},
	ErrConsumerMultipleFiltersNotAllowed:      {400, 10137, "consumer with multiple subject filters cannot use subject based API"},
	ErrConsumerConfigRequired:                 {400, 10078, "consumer config required"},
	ErrConsumerNameContainsPathSeparators:     {400, 10127, "Consumer name can not contain path separators"},
	ErrMaximumConsumersLimit:                  {400, 10026, "maximum consumers limit reached"},
	ErrConsumerReplicasExceedsStream:          {400, 10126, "consumer config replica count exceeds parent stream"},
	ErrConsumerPullWithRateLimit:              {400, 10086, "consumer in pull mode can not have rate limit set"},
	ErrConsumerInvalidSampling:                {400, 10095, "failed to parse consumer sampling configuration: {err}"},
}

// NewError builds the catalog error id. An argument fills the
// description's placeholder; an *ApiError argument is returned as it is,
// so an error that already carries its own code keeps it (nats-server's
// "unless" rule).
func NewError(id ErrorID, args ...any) *ApiError {
	if len(args) > 0 {
		if ae, ok := args[0].(*ApiError); ok && ae != nil {
			return ae
		}
	}
	e := catalog[id]
	desc := e.desc
	if i := strings.IndexByte(desc, '{'); i >= 0 {
		if j := strings.IndexByte(desc[i:], '}'); j >= 0 && len(args) > 0 {
			desc = desc[:i] + fmt.Sprint(args[0]) + desc[i+j+1:]
		}
	}
	return &ApiError{Code: e.code, ErrCode: e.errCode, Description: desc}
}

// Is reports whether err is the catalog error id (by err_code).
func (e *ApiError) IsID(id ErrorID) bool {
	return e != nil && e.ErrCode == catalog[id].errCode
}
