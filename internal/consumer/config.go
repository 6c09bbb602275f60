package consumer

import (
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/subject"
)

// Limits and defaults of a consumer configuration, as nats-server's.
const (
	maxDescriptionLen = 4 * 1024
	maxMetadataLen    = 128 * 1024
	maxNameLen        = 255
	// DefaultPinnedTTL is how long a pinned client may go without asking
	// for messages before another client is pinned.
	DefaultPinnedTTL = 2 * time.Minute
)

// validGroupName is what a priority group may be called.
var validGroupName = regexp.MustCompile(`^[a-zA-Z0-9/_=-]{1,16}$`)

// ValidGroupName reports whether g may name a priority group.
func ValidGroupName(g string) bool { return validGroupName.MatchString(g) }

// Normalize checks a requested consumer configuration against its stream
// and applies nats-server's defaults, with nats-server's errors in
// nats-server's order: names, then defaults (setConsumerConfigDefaults,
// where pedantic refuses a default that would change the request), then
// the checks of checkConsumerCfg.
func Normalize(cfg jsapi.ConsumerConfig, stream jsapi.StreamConfig, pedantic bool) (jsapi.ConsumerConfig, *jsapi.ApiError) {
	if e := checkNames(&cfg); e != nil {
		return cfg, e
	}
	if e := setDefaults(&cfg, stream, pedantic); e != nil {
		return cfg, e
	}
	for _, check := range checks {
		if e := check(&cfg, &stream); e != nil {
			return cfg, e
		}
	}
	if cfg.PauseUntil != nil {
		utc := cfg.PauseUntil.UTC() // stored in UTC, as nats-server stores it
		cfg.PauseUntil = &utc
	}
	if cfg.Name == "" {
		cfg.Name = randomName()
	}
	if cfg.Durable == "" && cfg.InactiveThreshold == 0 {
		// Ephemerals always go away when idle; the default is shown.
		cfg.InactiveThreshold = defaultInactive
	}
	return cfg, nil
}

func checkNames(cfg *jsapi.ConsumerConfig) *jsapi.ApiError {
	if cfg.Durable != "" && cfg.Name != "" && cfg.Durable != cfg.Name {
		return jsapi.NewError(jsapi.ErrConsumerCreateDurableAndNameMismatch)
	}
	for _, n := range []string{cfg.Durable, cfg.Name} {
		if strings.ContainsAny(n, `\/`) {
			return jsapi.NewError(jsapi.ErrConsumerNameContainsPathSeparators)
		}
		if strings.ContainsAny(n, ".*> \t\r\n\f") {
			return jsapi.NewError(jsapi.ErrConsumerBadDurableName)
		}
		if len(n) > maxNameLen {
			return jsapi.NewError(jsapi.ErrConsumerNameTooLong, maxNameLen)
		}
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	return nil
}

// setDefaults fills what the request left out, as setConsumerConfigDefaults.
func setDefaults(cfg *jsapi.ConsumerConfig, stream jsapi.StreamConfig, pedantic bool) *jsapi.ApiError {
	if e := clampNegatives(cfg, pedantic); e != nil {
		return e
	}
	acks := cfg.AckPolicy != jsapi.AckNone
	if cfg.DeliverSubject == "" && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	if cfg.AckWait == 0 && acks {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = -1
	}
	if len(cfg.BackOff) > 0 {
		// The first backoff step is the ack wait.
		if pedantic && cfg.AckWait != cfg.BackOff[0] {
			return jsapi.NewError(jsapi.ErrPedantic, errors.New("first backoff value has to equal batch AckWait"))
		}
		cfg.AckWait = cfg.BackOff[0]
	}
	lim := stream.ConsumerLimits
	if cfg.MaxAckPending == 0 {
		if pedantic && lim.MaxAckPending > 0 {
			return jsapi.NewError(jsapi.ErrPedantic, errors.New("max_ack_pending must be set if it's configured in stream limits"))
		}
		cfg.MaxAckPending = lim.MaxAckPending
	}
	if cfg.InactiveThreshold == 0 {
		if pedantic && lim.InactiveThreshold > 0 {
			return jsapi.NewError(jsapi.ErrPedantic, errors.New("inactive_threshold must be set if it's configured in stream limits"))
		}
		cfg.InactiveThreshold = lim.InactiveThreshold
	}
	if cfg.MaxAckPending == 0 && acks {
		cfg.MaxAckPending = DefaultMaxAckPending
	}
	if cfg.PriorityPolicy == jsapi.PriorityPinnedClient && cfg.PinnedTTL == 0 {
		cfg.PinnedTTL = DefaultPinnedTTL
	}
	return nil
}

// clampNegatives turns negative limits into "no limit" (or the default),
// as current nats-server does; nats-server 2.11 kept them, and an
// ephemeral with a negative inactive_threshold then never went away.
// Pedantic mode refuses them instead. Negative max_waiting and max_batch
// are refused later with 2.11's errors.
func clampNegatives(cfg *jsapi.ConsumerConfig, pedantic bool) *jsapi.ApiError {
	fix := []struct {
		bad  bool
		set  func()
		what string
	}{
		{cfg.MaxDeliver < -1, func() { cfg.MaxDeliver = -1 }, "max_deliver must be set to -1"},
		{cfg.MaxAckPending < -1, func() { cfg.MaxAckPending = -1 }, "max_ack_pending must be set to -1"},
		{cfg.MaxRequestExpires < 0, func() { cfg.MaxRequestExpires = 0 }, "max_expires must not be negative"},
		{cfg.MaxRequestMaxBytes < 0, func() { cfg.MaxRequestMaxBytes = 0 }, "max_bytes must not be negative"},
		{cfg.Heartbeat < 0, func() { cfg.Heartbeat = 0 }, "idle_heartbeat must not be negative"},
		{cfg.InactiveThreshold < 0, func() { cfg.InactiveThreshold = 0 }, "inactive_threshold must not be negative"},
		{cfg.PinnedTTL < 0, func() { cfg.PinnedTTL = 0 }, "priority_timeout must not be negative"},
	}
	for _, f := range fix {
		if !f.bad {
			continue
		}
		if pedantic {
			return jsapi.NewError(jsapi.ErrPedantic, errors.New(f.what))
		}
		f.set()
	}
	return nil
}

// checks run in nats-server's order, so a request with several faults
// gets the error nats-server would give.
var checks = []func(*jsapi.ConsumerConfig, *jsapi.StreamConfig) *jsapi.ApiError{
	checkReplicas,
	checkBackoff,
	checkDelivery,
	checkConsumerLimits,
	checkDirect,
	checkFilters,
	checkStart,
	checkMisc,
	checkPriority,
	checkWorkQueue,
}

func checkReplicas(cfg *jsapi.ConsumerConfig, stream *jsapi.StreamConfig) *jsapi.ApiError {
	switch {
	case cfg.Replicas > max(stream.Replicas, 1):
		return jsapi.NewError(jsapi.ErrConsumerReplicasExceedsStream)
	case cfg.Replicas < 0:
		return jsapi.NewError(jsapi.ErrReplicasCountCannotBeNegative)
	}
	return nil
}

func checkBackoff(cfg *jsapi.ConsumerConfig, _ *jsapi.StreamConfig) *jsapi.ApiError {
	for _, d := range cfg.BackOff {
		if d <= 0 {
			// A step of zero or less would redeliver in a tight loop.
			// Current nats-server refuses negative steps with this error
			// (2.11 accepted them); zero is refused too, as the text says.
			return jsapi.NewError(jsapi.ErrConsumerBackOffNegative)
		}
	}
	if cfg.AckWait < 0 {
		return jsapi.NewError(jsapi.ErrConsumerAckWaitNegative)
	}
	// nats-server allows as many deliveries as backoff steps, despite the
	// error's wording.
	if n := len(cfg.BackOff); n > 0 && cfg.MaxDeliver != -1 && n > cfg.MaxDeliver {
		return jsapi.NewError(jsapi.ErrConsumerMaxDeliverBackoff)
	}
	if len(cfg.Description) > maxDescriptionLen {
		return jsapi.NewError(jsapi.ErrConsumerDescriptionTooLong, maxDescriptionLen)
	}
	return nil
}

// checkDelivery checks what depends on push or pull delivery.
func checkDelivery(cfg *jsapi.ConsumerConfig, stream *jsapi.StreamConfig) *jsapi.ApiError {
	if cfg.DeliverSubject != "" {
		switch {
		case subject.HasWildcard(cfg.DeliverSubject):
			return jsapi.NewError(jsapi.ErrConsumerDeliverToWildcards)
		case !subject.ValidLiteral(cfg.DeliverSubject):
			return jsapi.NewError(jsapi.ErrConsumerInvalidDeliverSubject)
		case formsCycle(stream, cfg.DeliverSubject):
			return jsapi.NewError(jsapi.ErrConsumerDeliverCycle)
		case cfg.MaxWaiting != 0:
			return jsapi.NewError(jsapi.ErrConsumerPushMaxWaiting)
		case cfg.MaxAckPending > 0 && cfg.AckPolicy == jsapi.AckNone:
			return jsapi.NewError(jsapi.ErrConsumerMaxPendingAckPolicyRequired)
		case cfg.Heartbeat > 0 && cfg.Heartbeat < 100*time.Millisecond:
			return jsapi.NewError(jsapi.ErrConsumerSmallHeartbeat)
		}
		return nil
	}
	switch {
	case cfg.AckPolicy == jsapi.AckNone && stream.Retention == jsapi.WorkQueuePolicy:
		return jsapi.NewError(jsapi.ErrConsumerPullRequiresAck)
	case cfg.RateLimit > 0:
		return jsapi.NewError(jsapi.ErrConsumerPullWithRateLimit)
	case cfg.MaxWaiting < 0:
		return jsapi.NewError(jsapi.ErrConsumerMaxWaitingNegative)
	case cfg.Heartbeat > 0:
		return jsapi.NewError(jsapi.ErrConsumerHBRequiresPush)
	case cfg.FlowControl:
		return jsapi.NewError(jsapi.ErrConsumerFCRequiresPush)
	case cfg.MaxRequestBatch < 0:
		return jsapi.NewError(jsapi.ErrConsumerMaxRequestBatchNegative)
	case cfg.MaxRequestExpires != 0 && cfg.MaxRequestExpires < time.Millisecond:
		return jsapi.NewError(jsapi.ErrConsumerMaxRequestExpiresTooSmall)
	}
	return nil
}

// formsCycle reports a deliver subject the stream itself would store.
func formsCycle(stream *jsapi.StreamConfig, deliver string) bool {
	for _, s := range stream.Subjects {
		if subject.Matches(s, deliver) {
			return true
		}
	}
	return false
}

func checkConsumerLimits(cfg *jsapi.ConsumerConfig, stream *jsapi.StreamConfig) *jsapi.ApiError {
	lim := stream.ConsumerLimits
	switch {
	case lim.MaxAckPending > 0 && cfg.MaxAckPending > lim.MaxAckPending:
		return jsapi.NewError(jsapi.ErrConsumerMaxPendingAckExcess, lim.MaxAckPending)
	case lim.InactiveThreshold > 0 && cfg.InactiveThreshold > lim.InactiveThreshold:
		return jsapi.NewError(jsapi.ErrConsumerInactiveThresholdExcess, lim.InactiveThreshold)
	}
	return nil
}

func checkDirect(cfg *jsapi.ConsumerConfig, _ *jsapi.StreamConfig) *jsapi.ApiError {
	switch {
	case !cfg.Direct:
		return nil
	case cfg.DeliverSubject == "":
		return jsapi.NewError(jsapi.ErrConsumerDirectRequiresPush)
	case cfg.Durable != "":
		return jsapi.NewError(jsapi.ErrConsumerDirectRequiresEphemeral)
	}
	return nil
}

func checkFilters(cfg *jsapi.ConsumerConfig, _ *jsapi.StreamConfig) *jsapi.ApiError {
	if cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0 {
		return jsapi.NewError(jsapi.ErrConsumerDuplicateFilterSubjects)
	}
	badSubject := jsapi.NewError(jsapi.ErrStreamInvalidConfig, errors.New("invalid subject"))
	if cfg.FilterSubject != "" && !subject.Valid(cfg.FilterSubject) {
		return badSubject
	}
	for _, f := range cfg.FilterSubjects {
		if f == "" {
			return jsapi.NewError(jsapi.ErrConsumerEmptyFilter)
		}
	}
	filters := cfg.FilterSubjects
	if cfg.FilterSubject != "" {
		filters = []string{cfg.FilterSubject}
	}
	for i, f := range filters {
		if !subject.Valid(f) {
			return badSubject
		}
		for _, g := range filters[i+1:] {
			if jsapi.Collide(f, g) {
				return jsapi.NewError(jsapi.ErrConsumerOverlappingSubjectFilters)
			}
		}
	}
	return nil
}

// checkStart refuses start options the deliver policy does not use, and
// a policy without the option it needs, in nats-server's words.
func checkStart(cfg *jsapi.ConsumerConfig, _ *jsapi.StreamConfig) *jsapi.ApiError {
	alsoSet := func(policy, opt string) *jsapi.ApiError {
		return jsapi.NewError(jsapi.ErrConsumerInvalidPolicy,
			fmt.Errorf("consumer delivery policy is deliver %s, but optional start %s is also set", policy, opt))
	}
	notSet := func(policy, opt string) *jsapi.ApiError {
		return jsapi.NewError(jsapi.ErrConsumerInvalidPolicy,
			fmt.Errorf("consumer delivery policy is deliver %s, but optional %s is not set", policy, opt))
	}
	seq, tm := cfg.OptStartSeq > 0, cfg.OptStartTime != nil
	switch cfg.DeliverPolicy {
	case jsapi.DeliverAll, jsapi.DeliverLast, jsapi.DeliverNew, jsapi.DeliverLastPerSubject:
		name := map[jsapi.DeliverPolicy]string{jsapi.DeliverAll: "all", jsapi.DeliverLast: "last",
			jsapi.DeliverNew: "new", jsapi.DeliverLastPerSubject: "last per subject"}[cfg.DeliverPolicy]
		switch {
		case seq:
			return alsoSet(name, "sequence")
		case tm:
			return alsoSet(name, "time")
		case cfg.DeliverPolicy == jsapi.DeliverLastPerSubject && cfg.FilterSubject == "" && len(cfg.FilterSubjects) == 0:
			return notSet(name, "filter subject")
		}
	case jsapi.DeliverByStartSequence:
		switch {
		case !seq:
			return notSet("by start sequence", "start sequence")
		case tm:
			return alsoSet("by start sequence", "time")
		}
	case jsapi.DeliverByStartTime:
		switch {
		case !tm:
			return notSet("by start time", "start time")
		case cfg.OptStartSeq != 0:
			return alsoSet("by start time", "start sequence")
		}
	}
	return nil
}

func checkMisc(cfg *jsapi.ConsumerConfig, _ *jsapi.StreamConfig) *jsapi.ApiError {
	if cfg.SampleFrequency != "" {
		// nats-server quotes the number parser's error (nothing for a
		// negative number).
		n, err := strconv.Atoi(strings.TrimSuffix(cfg.SampleFrequency, "%"))
		if err != nil {
			return jsapi.NewError(jsapi.ErrConsumerInvalidSampling, err)
		}
		if n < 0 {
			return jsapi.NewError(jsapi.ErrConsumerInvalidSampling, "<nil>")
		}
	}
	if cfg.FlowControl && cfg.Heartbeat == 0 {
		return jsapi.NewError(jsapi.ErrConsumerWithFlowControlNeedsHeartbeats)
	}
	n := 0
	for k, v := range cfg.Metadata {
		n += len(k) + len(v)
	}
	if n > maxMetadataLen {
		return jsapi.NewError(jsapi.ErrConsumerMetadataLength, strconv.Itoa(maxMetadataLen/1024)+"KB")
	}
	return nil
}

// checkPriority checks priority groups. Groups or a pin timeout without a
// policy would be silently ignored by nats-server 2.11; like current
// nats-server, they are refused here.
func checkPriority(cfg *jsapi.ConsumerConfig, _ *jsapi.StreamConfig) *jsapi.ApiError {
	if cfg.PriorityPolicy == jsapi.PriorityNone {
		switch {
		case len(cfg.PriorityGroups) > 0:
			return jsapi.NewError(jsapi.ErrConsumerPriorityGroupWithPolicyNone)
		case cfg.PinnedTTL != 0:
			return jsapi.NewError(jsapi.ErrConsumerPinnedTTLWithoutPriorityPolicyNone)
		}
		return nil
	}
	switch {
	case cfg.DeliverSubject != "":
		return jsapi.NewError(jsapi.ErrConsumerPushWithPriorityGroup)
	case len(cfg.PriorityGroups) == 0:
		return jsapi.NewError(jsapi.ErrConsumerPriorityPolicyWithoutGroup)
	}
	for _, g := range cfg.PriorityGroups {
		if g == "" {
			return jsapi.NewError(jsapi.ErrConsumerEmptyGroupName)
		}
		if !validGroupName.MatchString(g) {
			return jsapi.NewError(jsapi.ErrConsumerInvalidGroupName)
		}
	}
	return nil
}

func checkWorkQueue(cfg *jsapi.ConsumerConfig, stream *jsapi.StreamConfig) *jsapi.ApiError {
	if stream.Retention != jsapi.WorkQueuePolicy || cfg.Direct {
		return nil
	}
	if cfg.AckPolicy != jsapi.AckExplicit {
		return jsapi.NewError(jsapi.ErrConsumerWQRequiresExplicitAck)
	}
	if cfg.DeliverPolicy != jsapi.DeliverAll {
		return jsapi.NewError(jsapi.ErrConsumerWQConsumerNotDeliverAll)
	}
	return nil
}

// CheckUpdate rejects changes nats-server does not allow on a live
// consumer (checkNewConsumerConfig). oldBound says whether a push
// consumer's deliver subject has a subscriber: then it may not move.
func CheckUpdate(old, cfg jsapi.ConsumerConfig, oldBound bool) *jsapi.ApiError {
	bad := func(what string) *jsapi.ApiError {
		return jsapi.NewError(jsapi.ErrConsumerCreate, fmt.Errorf("%s can not be updated", what))
	}
	switch {
	case old.DeliverPolicy != cfg.DeliverPolicy:
		return bad("deliver policy")
	case old.OptStartSeq != cfg.OptStartSeq:
		return bad("start sequence")
	case (old.OptStartTime == nil) != (cfg.OptStartTime == nil),
		old.OptStartTime != nil && !old.OptStartTime.Equal(*cfg.OptStartTime):
		return bad("start time")
	case old.AckPolicy != cfg.AckPolicy:
		return bad("ack policy")
	case old.ReplayPolicy != cfg.ReplayPolicy:
		return bad("replay policy")
	case old.Heartbeat != cfg.Heartbeat:
		return bad("heart beats")
	case old.FlowControl != cfg.FlowControl:
		return bad("flow control")
	case old.DeliverSubject != cfg.DeliverSubject && old.DeliverSubject == "":
		return jsapi.NewError(jsapi.ErrConsumerCreate, errors.New("can not update pull consumer to push based"))
	case old.DeliverSubject != cfg.DeliverSubject && cfg.DeliverSubject == "":
		return jsapi.NewError(jsapi.ErrConsumerCreate, errors.New("can not update push consumer to pull based"))
	case old.DeliverSubject != cfg.DeliverSubject && oldBound:
		return jsapi.NewError(jsapi.ErrConsumerNameExist)
	case old.MaxWaiting != cfg.MaxWaiting:
		return bad("max waiting")
	case old.MemoryStorage != cfg.MemoryStorage:
		return bad("memory storage setting")
	}
	return nil
}

// samplePercent reads sample_freq ("30" or "30%"), -1 when invalid.
// nats-server takes any non-negative number; above 100 samples every ack.
func samplePercent(v string) int {
	n, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
	if err != nil || n < 0 {
		return -1
	}
	return min(n, 100)
}

// randomName names an unnamed consumer, 8 characters as nats-server's.
func randomName() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
