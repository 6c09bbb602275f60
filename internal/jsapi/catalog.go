package jsapi

// The catalog: every error nats-server's server/errors.json defines, keyed
// by its err_code. Clients match on err_code; people read the description,
// whose {placeholders} NewError fills. Entries are transcribed from
// errors.json (testdata/errors.json is the golden copy, and catalog_test.go
// checks each code, status and description against it); the Go name is
// nats-server's constant without the "JS" prefix and "Err"/"ErrF"/"F"
// suffix.
const (
	ErrAccountResourcesExceeded                   ErrorID = 10002
	ErrBadRequest                                 ErrorID = 10003
	ErrClusterIncomplete                          ErrorID = 10004
	ErrClusterNoPeers                             ErrorID = 10005
	ErrClusterNotActive                           ErrorID = 10006
	ErrClusterNotAssigned                         ErrorID = 10007
	ErrClusterNotAvail                            ErrorID = 10008
	ErrClusterNotLeader                           ErrorID = 10009
	ErrClusterRequired                            ErrorID = 10010
	ErrClusterTags                                ErrorID = 10011
	ErrConsumerCreate                             ErrorID = 10012
	ErrConsumerNameExist                          ErrorID = 10013
	ErrConsumerNotFound                           ErrorID = 10014
	ErrSnapshotDeliverSubjectInvalid              ErrorID = 10015
	ErrConsumerDurableNameNotInSubject            ErrorID = 10016
	ErrConsumerDurableNameNotMatchSubject         ErrorID = 10017
	ErrConsumerDurableNameNotSet                  ErrorID = 10018
	ErrConsumerEphemeralWithDurableInSubject      ErrorID = 10019
	ErrConsumerEphemeralWithDurableName           ErrorID = 10020
	ErrStreamExternalApiOverlap                   ErrorID = 10021
	ErrStreamExternalDelPrefixOverlaps            ErrorID = 10022
	ErrInsufficientResources                      ErrorID = 10023
	ErrStreamInvalidExternalDeliverySubj          ErrorID = 10024
	ErrInvalidJSON                                ErrorID = 10025
	ErrMaximumConsumersLimit                      ErrorID = 10026
	ErrMaximumStreamsLimit                        ErrorID = 10027
	ErrMemoryResourcesExceeded                    ErrorID = 10028
	ErrMirrorConsumerSetupFailed                  ErrorID = 10029
	ErrMirrorMaxMessageSizeTooBig                 ErrorID = 10030
	ErrMirrorWithSources                          ErrorID = 10031
	ErrMirrorWithStartSeqAndTime                  ErrorID = 10032
	ErrMirrorWithSubjectFilters                   ErrorID = 10033
	ErrMirrorWithSubjects                         ErrorID = 10034
	ErrNoAccount                                  ErrorID = 10035
	ErrClusterUnSupportFeature                    ErrorID = 10036
	ErrNoMessageFound                             ErrorID = 10037
	ErrNotEmptyRequest                            ErrorID = 10038
	ErrNotEnabledForAccount                       ErrorID = 10039
	ErrClusterPeerNotMember                       ErrorID = 10040
	ErrRaftGeneral                                ErrorID = 10041
	ErrRestoreSubscribeFailed                     ErrorID = 10042
	ErrSequenceNotFound                           ErrorID = 10043
	ErrClusterServerNotMember                     ErrorID = 10044
	ErrSourceConsumerSetupFailed                  ErrorID = 10045
	ErrSourceMaxMessageSizeTooBig                 ErrorID = 10046
	ErrStorageResourcesExceeded                   ErrorID = 10047
	ErrStreamAssignment                           ErrorID = 10048
	ErrStreamCreate                               ErrorID = 10049
	ErrStreamDelete                               ErrorID = 10050
	ErrStreamGeneral                              ErrorID = 10051
	ErrStreamInvalidConfig                        ErrorID = 10052
	ErrStreamLimits                               ErrorID = 10053
	ErrStreamMessageExceedsMaximum                ErrorID = 10054
	ErrStreamMirrorNotUpdatable                   ErrorID = 10055
	ErrStreamMismatch                             ErrorID = 10056
	ErrStreamMsgDeleteFailed                      ErrorID = 10057
	ErrStreamNameExist                            ErrorID = 10058
	ErrStreamNotFound                             ErrorID = 10059
	ErrStreamNotMatch                             ErrorID = 10060
	ErrStreamReplicasNotUpdatable                 ErrorID = 10061
	ErrStreamRestore                              ErrorID = 10062
	ErrStreamSequenceNotMatch                     ErrorID = 10063
	ErrStreamSnapshot                             ErrorID = 10064
	ErrStreamSubjectOverlap                       ErrorID = 10065
	ErrStreamTemplateCreate                       ErrorID = 10066
	ErrStreamTemplateDelete                       ErrorID = 10067
	ErrStreamTemplateNotFound                     ErrorID = 10068
	ErrStreamUpdate                               ErrorID = 10069
	ErrStreamWrongLastMsgID                       ErrorID = 10070
	ErrStreamWrongLastSequence                    ErrorID = 10071
	ErrTempStorageFailed                          ErrorID = 10072
	ErrTemplateNameNotMatchSubject                ErrorID = 10073
	ErrStreamReplicasNotSupported                 ErrorID = 10074
	ErrPeerRemap                                  ErrorID = 10075
	ErrNotEnabled                                 ErrorID = 10076
	ErrStreamStoreFailed                          ErrorID = 10077
	ErrConsumerConfigRequired                     ErrorID = 10078
	ErrConsumerDeliverToWildcards                 ErrorID = 10079
	ErrConsumerPushMaxWaiting                     ErrorID = 10080
	ErrConsumerDeliverCycle                       ErrorID = 10081
	ErrConsumerMaxPendingAckPolicyRequired        ErrorID = 10082
	ErrConsumerSmallHeartbeat                     ErrorID = 10083
	ErrConsumerPullRequiresAck                    ErrorID = 10084
	ErrConsumerPullNotDurable                     ErrorID = 10085
	ErrConsumerPullWithRateLimit                  ErrorID = 10086
	ErrConsumerMaxWaitingNegative                 ErrorID = 10087
	ErrConsumerHBRequiresPush                     ErrorID = 10088
	ErrConsumerFCRequiresPush                     ErrorID = 10089
	ErrConsumerDirectRequiresPush                 ErrorID = 10090
	ErrConsumerDirectRequiresEphemeral            ErrorID = 10091
	ErrConsumerOnMapped                           ErrorID = 10092
	ErrConsumerFilterNotSubset                    ErrorID = 10093
	ErrConsumerInvalidPolicy                      ErrorID = 10094
	ErrConsumerInvalidSampling                    ErrorID = 10095
	ErrStreamInvalid                              ErrorID = 10096
	ErrStreamHeaderExceedsMaximum                 ErrorID = 10097
	ErrConsumerWQRequiresExplicitAck              ErrorID = 10098
	ErrConsumerWQMultipleUnfiltered               ErrorID = 10099
	ErrConsumerWQConsumerNotUnique                ErrorID = 10100
	ErrConsumerWQConsumerNotDeliverAll            ErrorID = 10101
	ErrConsumerNameTooLong                        ErrorID = 10102
	ErrConsumerBadDurableName                     ErrorID = 10103
	ErrConsumerStoreFailed                        ErrorID = 10104
	ErrConsumerExistingActive                     ErrorID = 10105
	ErrConsumerReplacementWithDifferentName       ErrorID = 10106
	ErrConsumerDescriptionTooLong                 ErrorID = 10107
	ErrConsumerWithFlowControlNeedsHeartbeats     ErrorID = 10108
	ErrStreamSealed                               ErrorID = 10109
	ErrStreamPurgeFailed                          ErrorID = 10110
	ErrStreamRollupFailed                         ErrorID = 10111
	ErrConsumerInvalidDeliverSubject              ErrorID = 10112
	ErrStreamMaxBytesRequired                     ErrorID = 10113
	ErrConsumerMaxRequestBatchNegative            ErrorID = 10114
	ErrConsumerMaxRequestExpiresTooSmall          ErrorID = 10115
	ErrConsumerMaxDeliverBackoff                  ErrorID = 10116
	ErrStreamInfoMaxSubjects                      ErrorID = 10117
	ErrStreamOffline                              ErrorID = 10118
	ErrConsumerOffline                            ErrorID = 10119
	ErrNoLimits                                   ErrorID = 10120
	ErrConsumerMaxPendingAckExcess                ErrorID = 10121
	ErrStreamMaxStreamBytesExceeded               ErrorID = 10122
	ErrStreamMoveAndScale                         ErrorID = 10123
	ErrStreamMoveInProgress                       ErrorID = 10124
	ErrConsumerMaxRequestBatchExceeded            ErrorID = 10125
	ErrConsumerReplicasExceedsStream              ErrorID = 10126
	ErrConsumerNameContainsPathSeparators         ErrorID = 10127
	ErrStreamNameContainsPathSeparators           ErrorID = 10128
	ErrStreamReconfigureNotInProgress             ErrorID = 10129
	ErrStreamNameExistRestoreFailed               ErrorID = 10130
	ErrConsumerCreateFilterSubjectMismatch        ErrorID = 10131
	ErrConsumerCreateDurableAndNameMismatch       ErrorID = 10132
	ErrReplicasCountCannotBeNegative              ErrorID = 10133
	ErrConsumerReplicasShouldMatchStream          ErrorID = 10134
	ErrConsumerMetadataLength                     ErrorID = 10135
	ErrConsumerDuplicateFilterSubjects            ErrorID = 10136
	ErrConsumerMultipleFiltersNotAllowed          ErrorID = 10137
	ErrConsumerOverlappingSubjectFilters          ErrorID = 10138
	ErrConsumerEmptyFilter                        ErrorID = 10139
	ErrSourceDuplicateDetected                    ErrorID = 10140
	ErrSourceInvalidStreamName                    ErrorID = 10141
	ErrMirrorInvalidStreamName                    ErrorID = 10142
	ErrMirrorWithFirstSeq                         ErrorID = 10143
	ErrSourceMultipleFiltersNotAllowed            ErrorID = 10144
	ErrSourceInvalidSubjectFilter                 ErrorID = 10145
	ErrSourceInvalidTransformDestination          ErrorID = 10146
	ErrSourceOverlappingSubjectFilters            ErrorID = 10147
	ErrConsumerAlreadyExists                      ErrorID = 10148
	ErrConsumerDoesNotExist                       ErrorID = 10149
	ErrMirrorMultipleFiltersNotAllowed            ErrorID = 10150
	ErrMirrorInvalidSubjectFilter                 ErrorID = 10151
	ErrMirrorOverlappingSubjectFilters            ErrorID = 10152
	ErrConsumerInactiveThresholdExcess            ErrorID = 10153
	ErrMirrorInvalidTransformDestination          ErrorID = 10154
	ErrStreamTransformInvalidSource               ErrorID = 10155
	ErrStreamTransformInvalidDestination          ErrorID = 10156
	ErrPedantic                                   ErrorID = 10157
	ErrStreamDuplicateMessageConflict             ErrorID = 10158
	ErrConsumerPriorityPolicyWithoutGroup         ErrorID = 10159
	ErrConsumerInvalidPriorityGroup               ErrorID = 10160
	ErrConsumerEmptyGroupName                     ErrorID = 10161
	ErrConsumerInvalidGroupName                   ErrorID = 10162
	ErrStreamExpectedLastSeqPerSubjectNotReady    ErrorID = 10163
	ErrStreamWrongLastSequenceConstant            ErrorID = 10164
	ErrMessageTTLInvalid                          ErrorID = 10165
	ErrMessageTTLDisabled                         ErrorID = 10166
	ErrStreamTooManyRequests                      ErrorID = 10167
	ErrMessageIncrDisabled                        ErrorID = 10168
	ErrMessageIncrMissing                         ErrorID = 10169
	ErrMessageIncrPayload                         ErrorID = 10170
	ErrMessageIncrInvalid                         ErrorID = 10171
	ErrMessageCounterBroken                       ErrorID = 10172
	ErrMirrorWithCounters                         ErrorID = 10173
	ErrAtomicPublishDisabled                      ErrorID = 10174
	ErrAtomicPublishMissingSeq                    ErrorID = 10175
	ErrAtomicPublishIncompleteBatch               ErrorID = 10176
	ErrAtomicPublishUnsupportedHeaderBatch        ErrorID = 10177
	ErrConsumerPushWithPriorityGroup              ErrorID = 10178
	ErrAtomicPublishInvalidBatchID                ErrorID = 10179
	ErrStreamMinLastSeq                           ErrorID = 10180
	ErrConsumerAckPolicyInvalid                   ErrorID = 10181
	ErrConsumerReplayPolicyInvalid                ErrorID = 10182
	ErrConsumerAckWaitNegative                    ErrorID = 10183
	ErrConsumerBackOffNegative                    ErrorID = 10184
	ErrRequiredApiLevel                           ErrorID = 10185
	ErrMirrorWithMsgSchedules                     ErrorID = 10186
	ErrSourceWithMsgSchedules                     ErrorID = 10187
	ErrMessageSchedulesDisabled                   ErrorID = 10188
	ErrMessageSchedulesPatternInvalid             ErrorID = 10189
	ErrMessageSchedulesTargetInvalid              ErrorID = 10190
	ErrMessageSchedulesTTLInvalid                 ErrorID = 10191
	ErrMessageSchedulesRollupInvalid              ErrorID = 10192
	ErrStreamExpectedLastSeqPerSubjectInvalid     ErrorID = 10193
	ErrStreamOfflineReason                        ErrorID = 10194
	ErrConsumerOfflineReason                      ErrorID = 10195
	ErrConsumerPriorityGroupWithPolicyNone        ErrorID = 10196
	ErrConsumerPinnedTTLWithoutPriorityPolicyNone ErrorID = 10197
	ErrMirrorWithAtomicPublish                    ErrorID = 10198
	ErrAtomicPublishTooLargeBatch                 ErrorID = 10199
	ErrAtomicPublishInvalidBatchCommit            ErrorID = 10200
	ErrAtomicPublishContainsDuplicateMessage      ErrorID = 10201
	ErrClusterServerMemberChangeInflight          ErrorID = 10202
	ErrMessageSchedulesSourceInvalid              ErrorID = 10203
	ErrConsumerInvalidReset                       ErrorID = 10204
	ErrBatchPublishDisabled                       ErrorID = 10205
	ErrBatchPublishInvalidPattern                 ErrorID = 10206
	ErrBatchPublishInvalidBatchID                 ErrorID = 10207
	ErrBatchPublishUnknownBatchID                 ErrorID = 10208
	ErrMirrorWithBatchPublish                     ErrorID = 10209
	ErrAtomicPublishTooManyInflight               ErrorID = 10210
	ErrBatchPublishTooManyInflight                ErrorID = 10211
	ErrMessageSchedulesSchedulerInvalid           ErrorID = 10212
	ErrMirrorDurableConsumerCfgInvalid            ErrorID = 10213
	ErrMirrorConsumerRequiresAckFC                ErrorID = 10214
	ErrSourceDurableConsumerCfgInvalid            ErrorID = 10215
	ErrSourceDurableConsumerDuplicateDetected     ErrorID = 10216
	ErrSourceConsumerRequiresAckFC                ErrorID = 10217
	ErrConsumerAckFCRequiresPush                  ErrorID = 10218
	ErrConsumerAckFCRequiresFC                    ErrorID = 10219
	ErrConsumerAckFCRequiresMaxAckPending         ErrorID = 10220
	ErrConsumerAckFCRequiresNoAckWait             ErrorID = 10221
	ErrConsumerAckFCRequiresNoMaxDeliver          ErrorID = 10222
	ErrMessageSchedulesTimeZoneInvalid            ErrorID = 10223
	ErrClusterRescue                              ErrorID = 10224
	ErrConsumerStreamIdentityMismatch             ErrorID = 10225
	ErrStreamReconfigureInProgress                ErrorID = 10226
	ErrMessageSourceHdrNotAllowed                 ErrorID = 10227
)

var catalog = map[ErrorID]catalogEntry{
	ErrAccountResourcesExceeded:                   {"JSAccountResourcesExceededErr", 400, "resource limits exceeded for account"},
	ErrBadRequest:                                 {"JSBadRequestErr", 400, "bad request"},
	ErrClusterIncomplete:                          {"JSClusterIncompleteErr", 503, "incomplete results"},
	ErrClusterNoPeers:                             {"JSClusterNoPeersErrF", 400, "{err}"},
	ErrClusterNotActive:                           {"JSClusterNotActiveErr", 500, "JetStream not in clustered mode"},
	ErrClusterNotAssigned:                         {"JSClusterNotAssignedErr", 500, "JetStream cluster not assigned to this server"},
	ErrClusterNotAvail:                            {"JSClusterNotAvailErr", 503, "JetStream system temporarily unavailable"},
	ErrClusterNotLeader:                           {"JSClusterNotLeaderErr", 500, "JetStream cluster can not handle request"},
	ErrClusterRequired:                            {"JSClusterRequiredErr", 503, "JetStream clustering support required"},
	ErrClusterTags:                                {"JSClusterTagsErr", 400, "tags placement not supported for operation"},
	ErrConsumerCreate:                             {"JSConsumerCreateErrF", 500, "{err}"},
	ErrConsumerNameExist:                          {"JSConsumerNameExistErr", 400, "consumer name already in use"},
	ErrConsumerNotFound:                           {"JSConsumerNotFoundErr", 404, "consumer not found"},
	ErrSnapshotDeliverSubjectInvalid:              {"JSSnapshotDeliverSubjectInvalidErr", 400, "deliver subject not valid"},
	ErrConsumerDurableNameNotInSubject:            {"JSConsumerDurableNameNotInSubjectErr", 400, "consumer expected to be durable but no durable name set in subject"},
	ErrConsumerDurableNameNotMatchSubject:         {"JSConsumerDurableNameNotMatchSubjectErr", 400, "consumer name in subject does not match durable name in request"},
	ErrConsumerDurableNameNotSet:                  {"JSConsumerDurableNameNotSetErr", 400, "consumer expected to be durable but a durable name was not set"},
	ErrConsumerEphemeralWithDurableInSubject:      {"JSConsumerEphemeralWithDurableInSubjectErr", 400, "consumer expected to be ephemeral but detected a durable name set in subject"},
	ErrConsumerEphemeralWithDurableName:           {"JSConsumerEphemeralWithDurableNameErr", 400, "consumer expected to be ephemeral but a durable name was set in request"},
	ErrStreamExternalApiOverlap:                   {"JSStreamExternalApiOverlapErrF", 400, "stream external api prefix {prefix} must not overlap with {subject}"},
	ErrStreamExternalDelPrefixOverlaps:            {"JSStreamExternalDelPrefixOverlapsErrF", 400, "stream external delivery prefix {prefix} overlaps with stream subject {subject}"},
	ErrInsufficientResources:                      {"JSInsufficientResourcesErr", 503, "insufficient resources"},
	ErrStreamInvalidExternalDeliverySubj:          {"JSStreamInvalidExternalDeliverySubjErrF", 400, "stream external delivery prefix {prefix} must not contain wildcards"},
	ErrInvalidJSON:                                {"JSInvalidJSONErr", 400, "invalid JSON: {err}"},
	ErrMaximumConsumersLimit:                      {"JSMaximumConsumersLimitErr", 400, "maximum consumers limit reached"},
	ErrMaximumStreamsLimit:                        {"JSMaximumStreamsLimitErr", 400, "maximum number of streams reached"},
	ErrMemoryResourcesExceeded:                    {"JSMemoryResourcesExceededErr", 500, "insufficient memory resources available"},
	ErrMirrorConsumerSetupFailed:                  {"JSMirrorConsumerSetupFailedErrF", 500, "{err}"},
	ErrMirrorMaxMessageSizeTooBig:                 {"JSMirrorMaxMessageSizeTooBigErr", 400, "stream mirror must have max message size >= source"},
	ErrMirrorWithSources:                          {"JSMirrorWithSourcesErr", 400, "stream mirrors can not also contain other sources"},
	ErrMirrorWithStartSeqAndTime:                  {"JSMirrorWithStartSeqAndTimeErr", 400, "stream mirrors can not have both start seq and start time configured"},
	ErrMirrorWithSubjectFilters:                   {"JSMirrorWithSubjectFiltersErr", 400, "stream mirrors can not contain filtered subjects"},
	ErrMirrorWithSubjects:                         {"JSMirrorWithSubjectsErr", 400, "stream mirrors can not contain subjects"},
	ErrNoAccount:                                  {"JSNoAccountErr", 503, "account not found"},
	ErrClusterUnSupportFeature:                    {"JSClusterUnSupportFeatureErr", 503, "not currently supported in clustered mode"},
	ErrNoMessageFound:                             {"JSNoMessageFoundErr", 404, "no message found"},
	ErrNotEmptyRequest:                            {"JSNotEmptyRequestErr", 400, "expected an empty request payload"},
	ErrNotEnabledForAccount:                       {"JSNotEnabledForAccountErr", 503, "JetStream not enabled for account"},
	ErrClusterPeerNotMember:                       {"JSClusterPeerNotMemberErr", 400, "peer not a member"},
	ErrRaftGeneral:                                {"JSRaftGeneralErrF", 500, "{err}"},
	ErrRestoreSubscribeFailed:                     {"JSRestoreSubscribeFailedErrF", 500, "JetStream unable to subscribe to restore snapshot {subject}: {err}"},
	ErrSequenceNotFound:                           {"JSSequenceNotFoundErrF", 400, "sequence {seq} not found"},
	ErrClusterServerNotMember:                     {"JSClusterServerNotMemberErr", 400, "server is not a member of the cluster"},
	ErrSourceConsumerSetupFailed:                  {"JSSourceConsumerSetupFailedErrF", 500, "{err}"},
	ErrSourceMaxMessageSizeTooBig:                 {"JSSourceMaxMessageSizeTooBigErr", 400, "stream source must have max message size >= target"},
	ErrStorageResourcesExceeded:                   {"JSStorageResourcesExceededErr", 500, "insufficient storage resources available"},
	ErrStreamAssignment:                           {"JSStreamAssignmentErrF", 500, "{err}"},
	ErrStreamCreate:                               {"JSStreamCreateErrF", 500, "{err}"},
	ErrStreamDelete:                               {"JSStreamDeleteErrF", 500, "{err}"},
	ErrStreamGeneral:                              {"JSStreamGeneralErrorF", 500, "{err}"},
	ErrStreamInvalidConfig:                        {"JSStreamInvalidConfigF", 500, "{err}"},
	ErrStreamLimits:                               {"JSStreamLimitsErrF", 500, "{err}"},
	ErrStreamMessageExceedsMaximum:                {"JSStreamMessageExceedsMaximumErr", 400, "message size exceeds maximum allowed"},
	ErrStreamMirrorNotUpdatable:                   {"JSStreamMirrorNotUpdatableErr", 400, "stream mirror configuration can not be updated"},
	ErrStreamMismatch:                             {"JSStreamMismatchErr", 400, "stream name in subject does not match request"},
	ErrStreamMsgDeleteFailed:                      {"JSStreamMsgDeleteFailedF", 500, "{err}"},
	ErrStreamNameExist:                            {"JSStreamNameExistErr", 400, "stream name already in use with a different configuration"},
	ErrStreamNotFound:                             {"JSStreamNotFoundErr", 404, "stream not found"},
	ErrStreamNotMatch:                             {"JSStreamNotMatchErr", 400, "expected stream does not match"},
	ErrStreamReplicasNotUpdatable:                 {"JSStreamReplicasNotUpdatableErr", 400, "Replicas configuration can not be updated"},
	ErrStreamRestore:                              {"JSStreamRestoreErrF", 500, "restore failed: {err}"},
	ErrStreamSequenceNotMatch:                     {"JSStreamSequenceNotMatchErr", 503, "expected stream sequence does not match"},
	ErrStreamSnapshot:                             {"JSStreamSnapshotErrF", 500, "snapshot failed: {err}"},
	ErrStreamSubjectOverlap:                       {"JSStreamSubjectOverlapErr", 400, "subjects overlap with an existing stream"},
	ErrStreamTemplateCreate:                       {"JSStreamTemplateCreateErrF", 500, "{err}"},
	ErrStreamTemplateDelete:                       {"JSStreamTemplateDeleteErrF", 500, "{err}"},
	ErrStreamTemplateNotFound:                     {"JSStreamTemplateNotFoundErr", 404, "template not found"},
	ErrStreamUpdate:                               {"JSStreamUpdateErrF", 500, "{err}"},
	ErrStreamWrongLastMsgID:                       {"JSStreamWrongLastMsgIDErrF", 400, "wrong last msg ID: {id}"},
	ErrStreamWrongLastSequence:                    {"JSStreamWrongLastSequenceErrF", 400, "wrong last sequence: {seq}"},
	ErrTempStorageFailed:                          {"JSTempStorageFailedErr", 500, "JetStream unable to open temp storage for restore"},
	ErrTemplateNameNotMatchSubject:                {"JSTemplateNameNotMatchSubjectErr", 400, "template name in subject does not match request"},
	ErrStreamReplicasNotSupported:                 {"JSStreamReplicasNotSupportedErr", 500, "replicas > 1 not supported in non-clustered mode"},
	ErrPeerRemap:                                  {"JSPeerRemapErr", 503, "peer remap failed"},
	ErrNotEnabled:                                 {"JSNotEnabledErr", 503, "JetStream not enabled"},
	ErrStreamStoreFailed:                          {"JSStreamStoreFailedF", 503, "{err}"},
	ErrConsumerConfigRequired:                     {"JSConsumerConfigRequiredErr", 400, "consumer config required"},
	ErrConsumerDeliverToWildcards:                 {"JSConsumerDeliverToWildcardsErr", 400, "consumer deliver subject has wildcards"},
	ErrConsumerPushMaxWaiting:                     {"JSConsumerPushMaxWaitingErr", 400, "consumer in push mode can not set max waiting"},
	ErrConsumerDeliverCycle:                       {"JSConsumerDeliverCycleErr", 400, "consumer deliver subject forms a cycle"},
	ErrConsumerMaxPendingAckPolicyRequired:        {"JSConsumerMaxPendingAckPolicyRequiredErr", 400, "consumer requires ack policy for max ack pending"},
	ErrConsumerSmallHeartbeat:                     {"JSConsumerSmallHeartbeatErr", 400, "consumer idle heartbeat needs to be >= 100ms"},
	ErrConsumerPullRequiresAck:                    {"JSConsumerPullRequiresAckErr", 400, "consumer in pull mode requires explicit ack policy on workqueue stream"},
	ErrConsumerPullNotDurable:                     {"JSConsumerPullNotDurableErr", 400, "consumer in pull mode requires a durable name"},
	ErrConsumerPullWithRateLimit:                  {"JSConsumerPullWithRateLimitErr", 400, "consumer in pull mode can not have rate limit set"},
	ErrConsumerMaxWaitingNegative:                 {"JSConsumerMaxWaitingNegativeErr", 400, "consumer max waiting needs to be positive"},
	ErrConsumerHBRequiresPush:                     {"JSConsumerHBRequiresPushErr", 400, "consumer idle heartbeat requires a push based consumer"},
	ErrConsumerFCRequiresPush:                     {"JSConsumerFCRequiresPushErr", 400, "consumer flow control requires a push based consumer"},
	ErrConsumerDirectRequiresPush:                 {"JSConsumerDirectRequiresPushErr", 400, "consumer direct requires a push based consumer"},
	ErrConsumerDirectRequiresEphemeral:            {"JSConsumerDirectRequiresEphemeralErr", 400, "consumer direct requires an ephemeral consumer"},
	ErrConsumerOnMapped:                           {"JSConsumerOnMappedErr", 400, "consumer direct on a mapped consumer"},
	ErrConsumerFilterNotSubset:                    {"JSConsumerFilterNotSubsetErr", 400, "consumer filter subject is not a valid subset of the interest subjects"},
	ErrConsumerInvalidPolicy:                      {"JSConsumerInvalidPolicyErrF", 400, "{err}"},
	ErrConsumerInvalidSampling:                    {"JSConsumerInvalidSamplingErrF", 400, "failed to parse consumer sampling configuration: {err}"},
	ErrStreamInvalid:                              {"JSStreamInvalidErr", 500, "stream not valid"},
	ErrStreamHeaderExceedsMaximum:                 {"JSStreamHeaderExceedsMaximumErr", 400, "header size exceeds maximum allowed of 64k"},
	ErrConsumerWQRequiresExplicitAck:              {"JSConsumerWQRequiresExplicitAckErr", 400, "workqueue stream requires explicit ack"},
	ErrConsumerWQMultipleUnfiltered:               {"JSConsumerWQMultipleUnfilteredErr", 400, "multiple non-filtered consumers not allowed on workqueue stream"},
	ErrConsumerWQConsumerNotUnique:                {"JSConsumerWQConsumerNotUniqueErr", 400, "filtered consumer not unique on workqueue stream"},
	ErrConsumerWQConsumerNotDeliverAll:            {"JSConsumerWQConsumerNotDeliverAllErr", 400, "consumer must be deliver all on workqueue stream"},
	ErrConsumerNameTooLong:                        {"JSConsumerNameTooLongErrF", 400, "consumer name is too long, maximum allowed is {max}"},
	ErrConsumerBadDurableName:                     {"JSConsumerBadDurableNameErr", 400, "durable name can not contain '.', '*', '>'"},
	ErrConsumerStoreFailed:                        {"JSConsumerStoreFailedErrF", 500, "error creating store for consumer: {err}"},
	ErrConsumerExistingActive:                     {"JSConsumerExistingActiveErr", 400, "consumer already exists and is still active"},
	ErrConsumerReplacementWithDifferentName:       {"JSConsumerReplacementWithDifferentNameErr", 400, "consumer replacement durable config not the same"},
	ErrConsumerDescriptionTooLong:                 {"JSConsumerDescriptionTooLongErrF", 400, "consumer description is too long, maximum allowed is {max}"},
	ErrConsumerWithFlowControlNeedsHeartbeats:     {"JSConsumerWithFlowControlNeedsHeartbeats", 400, "consumer with flow control also needs heartbeats"},
	ErrStreamSealed:                               {"JSStreamSealedErr", 400, "invalid operation on sealed stream"},
	ErrStreamPurgeFailed:                          {"JSStreamPurgeFailedF", 500, "{err}"},
	ErrStreamRollupFailed:                         {"JSStreamRollupFailedF", 500, "{err}"},
	ErrConsumerInvalidDeliverSubject:              {"JSConsumerInvalidDeliverSubject", 400, "invalid push consumer deliver subject"},
	ErrStreamMaxBytesRequired:                     {"JSStreamMaxBytesRequired", 400, "account requires a stream config to have max bytes set"},
	ErrConsumerMaxRequestBatchNegative:            {"JSConsumerMaxRequestBatchNegativeErr", 400, "consumer max request batch needs to be > 0"},
	ErrConsumerMaxRequestExpiresTooSmall:          {"JSConsumerMaxRequestExpiresTooSmall", 400, "consumer max request expires needs to be >= 1ms"},
	ErrConsumerMaxDeliverBackoff:                  {"JSConsumerMaxDeliverBackoffErr", 400, "max deliver is required to be > length of backoff values"},
	ErrStreamInfoMaxSubjects:                      {"JSStreamInfoMaxSubjectsErr", 500, "subject details would exceed maximum allowed"},
	ErrStreamOffline:                              {"JSStreamOfflineErr", 500, "stream is offline"},
	ErrConsumerOffline:                            {"JSConsumerOfflineErr", 500, "consumer is offline"},
	ErrNoLimits:                                   {"JSNoLimitsErr", 400, "no JetStream default or applicable tiered limit present"},
	ErrConsumerMaxPendingAckExcess:                {"JSConsumerMaxPendingAckExcessErrF", 400, "consumer max ack pending exceeds system limit of {limit}"},
	ErrStreamMaxStreamBytesExceeded:               {"JSStreamMaxStreamBytesExceeded", 400, "stream max bytes exceeds account limit max stream bytes"},
	ErrStreamMoveAndScale:                         {"JSStreamMoveAndScaleErr", 400, "can not move and scale a stream in a single update"},
	ErrStreamMoveInProgress:                       {"JSStreamMoveInProgressErr", 400, "stream move already in progress"},
	ErrConsumerMaxRequestBatchExceeded:            {"JSConsumerMaxRequestBatchExceededF", 400, "consumer max request batch exceeds server limit of {limit}"},
	ErrConsumerReplicasExceedsStream:              {"JSConsumerReplicasExceedsStream", 400, "consumer config replica count exceeds parent stream"},
	ErrConsumerNameContainsPathSeparators:         {"JSConsumerNameContainsPathSeparatorsErr", 400, "Consumer name can not contain path separators"},
	ErrStreamNameContainsPathSeparators:           {"JSStreamNameContainsPathSeparatorsErr", 400, "Stream name can not contain path separators"},
	ErrStreamReconfigureNotInProgress:             {"JSStreamReconfigureNotInProgressErr", 400, "stream reconfiguration not in progress"},
	ErrStreamNameExistRestoreFailed:               {"JSStreamNameExistRestoreFailedErr", 400, "stream name already in use, cannot restore"},
	ErrConsumerCreateFilterSubjectMismatch:        {"JSConsumerCreateFilterSubjectMismatchErr", 400, "Consumer create request did not match filtered subject from create subject"},
	ErrConsumerCreateDurableAndNameMismatch:       {"JSConsumerCreateDurableAndNameMismatch", 400, "Consumer Durable and Name have to be equal if both are provided"},
	ErrReplicasCountCannotBeNegative:              {"JSReplicasCountCannotBeNegative", 400, "replicas count cannot be negative"},
	ErrConsumerReplicasShouldMatchStream:          {"JSConsumerReplicasShouldMatchStream", 400, "consumer config replicas must match interest retention stream's replicas"},
	ErrConsumerMetadataLength:                     {"JSConsumerMetadataLengthErrF", 400, "consumer metadata exceeds maximum size of {limit}"},
	ErrConsumerDuplicateFilterSubjects:            {"JSConsumerDuplicateFilterSubjects", 400, "consumer cannot have both FilterSubject and FilterSubjects specified"},
	ErrConsumerMultipleFiltersNotAllowed:          {"JSConsumerMultipleFiltersNotAllowed", 400, "consumer with multiple subject filters cannot use subject based API"},
	ErrConsumerOverlappingSubjectFilters:          {"JSConsumerOverlappingSubjectFilters", 400, "consumer subject filters cannot overlap"},
	ErrConsumerEmptyFilter:                        {"JSConsumerEmptyFilter", 400, "consumer filter in FilterSubjects cannot be empty"},
	ErrSourceDuplicateDetected:                    {"JSSourceDuplicateDetected", 400, "duplicate source configuration detected"},
	ErrSourceInvalidStreamName:                    {"JSSourceInvalidStreamName", 400, "sourced stream name is invalid"},
	ErrMirrorInvalidStreamName:                    {"JSMirrorInvalidStreamName", 400, "mirrored stream name is invalid"},
	ErrMirrorWithFirstSeq:                         {"JSMirrorWithFirstSeqErr", 400, "stream mirrors can not have first sequence configured"},
	ErrSourceMultipleFiltersNotAllowed:            {"JSSourceMultipleFiltersNotAllowed", 400, "source with multiple subject transforms cannot also have a single subject filter"},
	ErrSourceInvalidSubjectFilter:                 {"JSSourceInvalidSubjectFilter", 400, "source transform source: {err}"},
	ErrSourceInvalidTransformDestination:          {"JSSourceInvalidTransformDestination", 400, "source transform: {err}"},
	ErrSourceOverlappingSubjectFilters:            {"JSSourceOverlappingSubjectFilters", 400, "source filters can not overlap"},
	ErrConsumerAlreadyExists:                      {"JSConsumerAlreadyExists", 400, "consumer already exists"},
	ErrConsumerDoesNotExist:                       {"JSConsumerDoesNotExist", 400, "consumer does not exist"},
	ErrMirrorMultipleFiltersNotAllowed:            {"JSMirrorMultipleFiltersNotAllowed", 400, "mirror with multiple subject transforms cannot also have a single subject filter"},
	ErrMirrorInvalidSubjectFilter:                 {"JSMirrorInvalidSubjectFilter", 400, "mirror transform source: {err}"},
	ErrMirrorOverlappingSubjectFilters:            {"JSMirrorOverlappingSubjectFilters", 400, "mirror subject filters can not overlap"},
	ErrConsumerInactiveThresholdExcess:            {"JSConsumerInactiveThresholdExcess", 400, "consumer inactive threshold exceeds system limit of {limit}"},
	ErrMirrorInvalidTransformDestination:          {"JSMirrorInvalidTransformDestination", 400, "mirror transform: {err}"},
	ErrStreamTransformInvalidSource:               {"JSStreamTransformInvalidSource", 400, "stream transform source: {err}"},
	ErrStreamTransformInvalidDestination:          {"JSStreamTransformInvalidDestination", 400, "stream transform: {err}"},
	ErrPedantic:                                   {"JSPedanticErrF", 400, "pedantic mode: {err}"},
	ErrStreamDuplicateMessageConflict:             {"JSStreamDuplicateMessageConflict", 409, "duplicate message id is in process"},
	ErrConsumerPriorityPolicyWithoutGroup:         {"JSConsumerPriorityPolicyWithoutGroup", 400, "Setting PriorityPolicy requires at least one PriorityGroup to be set"},
	ErrConsumerInvalidPriorityGroup:               {"JSConsumerInvalidPriorityGroupErr", 400, "Provided priority group does not exist for this consumer"},
	ErrConsumerEmptyGroupName:                     {"JSConsumerEmptyGroupName", 400, "Group name cannot be an empty string"},
	ErrConsumerInvalidGroupName:                   {"JSConsumerInvalidGroupNameErr", 400, "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"},
	ErrStreamExpectedLastSeqPerSubjectNotReady:    {"JSStreamExpectedLastSeqPerSubjectNotReady", 503, "expected last sequence per subject temporarily unavailable"},
	ErrStreamWrongLastSequenceConstant:            {"JSStreamWrongLastSequenceConstantErr", 400, "wrong last sequence"},
	ErrMessageTTLInvalid:                          {"JSMessageTTLInvalidErr", 400, "invalid per-message TTL"},
	ErrMessageTTLDisabled:                         {"JSMessageTTLDisabledErr", 400, "per-message TTL is disabled"},
	ErrStreamTooManyRequests:                      {"JSStreamTooManyRequests", 429, "too many requests"},
	ErrMessageIncrDisabled:                        {"JSMessageIncrDisabledErr", 400, "message counters is disabled"},
	ErrMessageIncrMissing:                         {"JSMessageIncrMissingErr", 400, "message counter increment is missing"},
	ErrMessageIncrPayload:                         {"JSMessageIncrPayloadErr", 400, "message counter has payload"},
	ErrMessageIncrInvalid:                         {"JSMessageIncrInvalidErr", 400, "message counter increment is invalid"},
	ErrMessageCounterBroken:                       {"JSMessageCounterBrokenErr", 400, "message counter is broken"},
	ErrMirrorWithCounters:                         {"JSMirrorWithCountersErr", 400, "stream mirrors can not also calculate counters"},
	ErrAtomicPublishDisabled:                      {"JSAtomicPublishDisabledErr", 400, "atomic publish is disabled"},
	ErrAtomicPublishMissingSeq:                    {"JSAtomicPublishMissingSeqErr", 400, "atomic publish sequence is missing"},
	ErrAtomicPublishIncompleteBatch:               {"JSAtomicPublishIncompleteBatchErr", 400, "atomic publish batch is incomplete"},
	ErrAtomicPublishUnsupportedHeaderBatch:        {"JSAtomicPublishUnsupportedHeaderBatchErr", 400, "atomic publish unsupported header used: {header}"},
	ErrConsumerPushWithPriorityGroup:              {"JSConsumerPushWithPriorityGroupErr", 400, "priority groups can not be used with push consumers"},
	ErrAtomicPublishInvalidBatchID:                {"JSAtomicPublishInvalidBatchIDErr", 400, "atomic publish batch ID is invalid"},
	ErrStreamMinLastSeq:                           {"JSStreamMinLastSeqErr", 412, "min last sequence"},
	ErrConsumerAckPolicyInvalid:                   {"JSConsumerAckPolicyInvalidErr", 400, "consumer ack policy invalid"},
	ErrConsumerReplayPolicyInvalid:                {"JSConsumerReplayPolicyInvalidErr", 400, "consumer replay policy invalid"},
	ErrConsumerAckWaitNegative:                    {"JSConsumerAckWaitNegativeErr", 400, "consumer ack wait needs to be positive"},
	ErrConsumerBackOffNegative:                    {"JSConsumerBackOffNegativeErr", 400, "consumer backoff needs to be positive"},
	ErrRequiredApiLevel:                           {"JSRequiredApiLevelErr", 412, "JetStream minimum api level required"},
	ErrMirrorWithMsgSchedules:                     {"JSMirrorWithMsgSchedulesErr", 400, "stream mirrors can not also schedule messages"},
	ErrSourceWithMsgSchedules:                     {"JSSourceWithMsgSchedulesErr", 400, "stream source can not also schedule messages"},
	ErrMessageSchedulesDisabled:                   {"JSMessageSchedulesDisabledErr", 400, "message schedules is disabled"},
	ErrMessageSchedulesPatternInvalid:             {"JSMessageSchedulesPatternInvalidErr", 400, "message schedules pattern is invalid"},
	ErrMessageSchedulesTargetInvalid:              {"JSMessageSchedulesTargetInvalidErr", 400, "message schedules target is invalid"},
	ErrMessageSchedulesTTLInvalid:                 {"JSMessageSchedulesTTLInvalidErr", 400, "message schedules invalid per-message TTL"},
	ErrMessageSchedulesRollupInvalid:              {"JSMessageSchedulesRollupInvalidErr", 400, "message schedules invalid rollup"},
	ErrStreamExpectedLastSeqPerSubjectInvalid:     {"JSStreamExpectedLastSeqPerSubjectInvalid", 400, "missing sequence for expected last sequence per subject"},
	ErrStreamOfflineReason:                        {"JSStreamOfflineReasonErrF", 500, "stream is offline: {err}"},
	ErrConsumerOfflineReason:                      {"JSConsumerOfflineReasonErrF", 500, "consumer is offline: {err}"},
	ErrConsumerPriorityGroupWithPolicyNone:        {"JSConsumerPriorityGroupWithPolicyNone", 400, "consumer can not have priority groups when policy is none"},
	ErrConsumerPinnedTTLWithoutPriorityPolicyNone: {"JSConsumerPinnedTTLWithoutPriorityPolicyNone", 400, "PinnedTTL cannot be set when PriorityPolicy is none"},
	ErrMirrorWithAtomicPublish:                    {"JSMirrorWithAtomicPublishErr", 400, "stream mirrors can not also use atomic publishing"},
	ErrAtomicPublishTooLargeBatch:                 {"JSAtomicPublishTooLargeBatchErrF", 400, "atomic publish batch is too large: {size}"},
	ErrAtomicPublishInvalidBatchCommit:            {"JSAtomicPublishInvalidBatchCommitErr", 400, "atomic publish batch commit is invalid"},
	ErrAtomicPublishContainsDuplicateMessage:      {"JSAtomicPublishContainsDuplicateMessageErr", 400, "atomic publish batch contains duplicate message id"},
	ErrClusterServerMemberChangeInflight:          {"JSClusterServerMemberChangeInflightErr", 400, "cluster member change is in progress"},
	ErrMessageSchedulesSourceInvalid:              {"JSMessageSchedulesSourceInvalidErr", 400, "message schedules source is invalid"},
	ErrConsumerInvalidReset:                       {"JSConsumerInvalidResetErr", 400, "invalid reset: {err}"},
	ErrBatchPublishDisabled:                       {"JSBatchPublishDisabledErr", 400, "batch publish is disabled"},
	ErrBatchPublishInvalidPattern:                 {"JSBatchPublishInvalidPatternErr", 400, "batch publish pattern is invalid"},
	ErrBatchPublishInvalidBatchID:                 {"JSBatchPublishInvalidBatchIDErr", 400, "batch publish ID is invalid"},
	ErrBatchPublishUnknownBatchID:                 {"JSBatchPublishUnknownBatchIDErr", 400, "batch publish ID unknown"},
	ErrMirrorWithBatchPublish:                     {"JSMirrorWithBatchPublishErr", 400, "stream mirrors can not also use batch publishing"},
	ErrAtomicPublishTooManyInflight:               {"JSAtomicPublishTooManyInflight", 429, "atomic publish too many inflight"},
	ErrBatchPublishTooManyInflight:                {"JSBatchPublishTooManyInflight", 429, "batch publish too many inflight"},
	ErrMessageSchedulesSchedulerInvalid:           {"JSMessageSchedulesSchedulerInvalidErr", 400, "message schedules invalid scheduler"},
	ErrMirrorDurableConsumerCfgInvalid:            {"JSMirrorDurableConsumerCfgInvalid", 400, "stream mirror consumer config is invalid"},
	ErrMirrorConsumerRequiresAckFC:                {"JSMirrorConsumerRequiresAckFCErr", 400, "stream mirror consumer requires flow control ack policy"},
	ErrSourceDurableConsumerCfgInvalid:            {"JSSourceDurableConsumerCfgInvalid", 400, "stream source consumer config is invalid"},
	ErrSourceDurableConsumerDuplicateDetected:     {"JSSourceDurableConsumerDuplicateDetected", 400, "duplicate stream source consumer detected"},
	ErrSourceConsumerRequiresAckFC:                {"JSSourceConsumerRequiresAckFCErr", 400, "stream source consumer requires flow control ack policy"},
	ErrConsumerAckFCRequiresPush:                  {"JSConsumerAckFCRequiresPushErr", 400, "flow control ack policy requires a push based consumer"},
	ErrConsumerAckFCRequiresFC:                    {"JSConsumerAckFCRequiresFCErr", 400, "flow control ack policy requires flow control"},
	ErrConsumerAckFCRequiresMaxAckPending:         {"JSConsumerAckFCRequiresMaxAckPendingErr", 400, "flow control ack policy requires max ack pending"},
	ErrConsumerAckFCRequiresNoAckWait:             {"JSConsumerAckFCRequiresNoAckWaitErr", 400, "flow control ack policy requires unset ack wait"},
	ErrConsumerAckFCRequiresNoMaxDeliver:          {"JSConsumerAckFCRequiresNoMaxDeliverErr", 400, "flow control ack policy requires unset max deliver"},
	ErrMessageSchedulesTimeZoneInvalid:            {"JSMessageSchedulesTimeZoneInvalidErr", 400, "message schedules time zone is invalid"},
	ErrClusterRescue:                              {"JSClusterRescueErr", 400, "JetStream system rescue not applied: {err}"},
	ErrConsumerStreamIdentityMismatch:             {"JSConsumerStreamIdentityMismatchF", 400, "consumer's stream identity does not match: {msg}"},
	ErrStreamReconfigureInProgress:                {"JSStreamReconfigureInProgressErr", 400, "stream reconfiguration already in progress"},
	ErrMessageSourceHdrNotAllowed:                 {"JSMessageSourceHdrNotAllowedErr", 400, "message stream source header is not allowed"},
}
