package consumer

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/subject"
)

// Normalize checks a requested consumer configuration against its stream
// and applies nats-server's defaults, with nats-server's errors.
func Normalize(cfg jsapi.ConsumerConfig, stream jsapi.StreamConfig) (jsapi.ConsumerConfig, *jsapi.ApiError) {
	if cfg.Durable != "" && cfg.Name != "" && cfg.Durable != cfg.Name {
		return cfg, jsapi.NewError(jsapi.ErrConsumerCreateDurableAndNameMismatch)
	}
	for _, n := range []string{cfg.Durable, cfg.Name} {
		if strings.ContainsAny(n, `\/`) {
			return cfg, jsapi.NewError(jsapi.ErrConsumerNameContainsPathSeparators)
		}
		if strings.ContainsAny(n, ".*> \t") {
			return cfg, jsapi.NewError(jsapi.ErrConsumerBadDurableName)
		}
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	push := cfg.DeliverSubject != ""
	switch {
	case push && !subject.ValidLiteral(cfg.DeliverSubject):
		return cfg, jsapi.NewError(jsapi.ErrConsumerDeliverToWildcards)
	case push && cfg.MaxWaiting != 0:
		return cfg, jsapi.NewError(jsapi.ErrConsumerPushMaxWaiting)
	case cfg.Heartbeat > 0 && cfg.Heartbeat < 100*time.Millisecond:
		return cfg, jsapi.NewError(jsapi.ErrConsumerSmallHeartbeat)
	case !push && cfg.Heartbeat > 0:
		return cfg, jsapi.NewError(jsapi.ErrConsumerHBRequiresPush)
	case !push && cfg.FlowControl:
		return cfg, jsapi.NewError(jsapi.ErrConsumerFCRequiresPush)
	case cfg.FlowControl && cfg.Heartbeat == 0:
		return cfg, jsapi.NewError(jsapi.ErrConsumerWithFlowControlNeedsHeartbeats)
	case cfg.FilterSubject != "" && len(cfg.FilterSubjects) > 0:
		return cfg, jsapi.NewError(jsapi.ErrConsumerDuplicateFilterSubjects)
	case len(cfg.BackOff) > 0 && cfg.MaxDeliver > 0 && cfg.MaxDeliver <= len(cfg.BackOff):
		return cfg, jsapi.NewError(jsapi.ErrConsumerMaxDeliverBackoff)
	case cfg.Replicas > max(stream.Replicas, 1):
		return cfg, jsapi.NewError(jsapi.ErrConsumerReplicasExceedsStream)
	case cfg.AckWait < 0:
		return cfg, jsapi.NewError(jsapi.ErrConsumerInvalidPolicy, errors.New("consumer ack wait needs to be positive"))
	}
	// Refused rather than ignored until implemented.
	switch {
	case cfg.RateLimit > 0 && !push:
		return cfg, jsapi.NewError(jsapi.ErrConsumerPullWithRateLimit)
	case cfg.SampleFrequency != "" && samplePercent(cfg.SampleFrequency) < 0:
		return cfg, jsapi.NewError(jsapi.ErrConsumerInvalidSampling, fmt.Errorf("invalid sample frequency %q", cfg.SampleFrequency))
	case len(cfg.PriorityGroups) > 0 || (len(cfg.PriorityPolicy) > 0 && string(cfg.PriorityPolicy) != `"none"`):
		return cfg, jsapi.NewError(jsapi.ErrConsumerInvalidPolicy, errors.New("priority groups are not supported by this server yet"))
	case cfg.PauseUntil != nil:
		return cfg, jsapi.NewError(jsapi.ErrConsumerInvalidPolicy, errors.New("pause_until is not supported by this server yet"))
	}
	if len(cfg.FilterSubjects) == 1 {
		cfg.FilterSubject, cfg.FilterSubjects = cfg.FilterSubjects[0], nil
	}
	filters := cfg.FilterSubjects
	if cfg.FilterSubject != "" {
		filters = []string{cfg.FilterSubject}
	}
	for i, f := range filters {
		if f == "" {
			return cfg, jsapi.NewError(jsapi.ErrConsumerEmptyFilter)
		}
		if !subject.Valid(f) {
			return cfg, jsapi.NewError(jsapi.ErrConsumerInvalidPolicy, fmt.Errorf("consumer filter subject %q is not valid", f))
		}
		for _, g := range filters[i+1:] {
			if jsapi.Collide(f, g) {
				return cfg, jsapi.NewError(jsapi.ErrConsumerOverlappingSubjectFilters)
			}
		}
		if len(stream.Subjects) > 0 && !jsapi.SubjectsOverlap([]string{f}, stream.Subjects) {
			return cfg, jsapi.NewError(jsapi.ErrConsumerFilterNotSubset)
		}
	}
	if stream.Retention == jsapi.WorkQueuePolicy {
		if cfg.AckPolicy != jsapi.AckExplicit {
			return cfg, jsapi.NewError(jsapi.ErrConsumerWQRequiresExplicitAck)
		}
		if cfg.DeliverPolicy != jsapi.DeliverAll {
			return cfg, jsapi.NewError(jsapi.ErrConsumerWQConsumerNotDeliverAll)
		}
	}
	if cfg.AckPolicy != jsapi.AckNone {
		if cfg.AckWait == 0 {
			cfg.AckWait = DefaultAckWait
		}
		if cfg.MaxAckPending == 0 {
			cfg.MaxAckPending = DefaultMaxAckPending
		}
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = -1
	}
	if !push && cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	if cfg.Name == "" {
		cfg.Name = randomName()
	}
	return cfg, nil
}

// CheckUpdate rejects changes nats-server does not allow on a live
// consumer.
func CheckUpdate(old, cfg jsapi.ConsumerConfig) *jsapi.ApiError {
	bad := func(what string) *jsapi.ApiError {
		return jsapi.NewError(jsapi.ErrConsumerCreate, fmt.Errorf("%s can not be updated", what))
	}
	switch {
	case old.DeliverPolicy != cfg.DeliverPolicy:
		return bad("deliver policy")
	case old.OptStartSeq != cfg.OptStartSeq:
		return bad("start sequence")
	case old.AckPolicy != cfg.AckPolicy:
		return bad("ack policy")
	case old.ReplayPolicy != cfg.ReplayPolicy:
		return bad("replay policy")
	case (old.DeliverSubject == "") != (cfg.DeliverSubject == ""):
		return jsapi.NewError(jsapi.ErrConsumerCreate, errors.New("can not update push consumer to pull based"))
	case old.MemoryStorage != cfg.MemoryStorage:
		return bad("memory storage setting")
	}
	return nil
}

// samplePercent reads sample_freq ("30" or "30%"), -1 when invalid.
func samplePercent(v string) int {
	v = strings.TrimSuffix(strings.TrimSpace(v), "%")
	n := 0
	if v == "" {
		return -1
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return -1
		}
		n = n*10 + int(r-'0')
		if n > 100 {
			return -1
		}
	}
	return n
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
