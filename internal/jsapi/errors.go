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
