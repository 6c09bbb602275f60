package jsapi

import (
	"fmt"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Bounds on a stream configuration, as nats-server's.
const (
	MaxNameLen        = 255
	MaxDescriptionLen = 4 * 1024
	MaxMetadataLen    = 128 * 1024
	MaxReplicas       = 5
	DefaultDuplicates = 2 * time.Minute
	minWindow         = 100 * time.Millisecond
	minMarkerTTL      = time.Second
)

// Limits are server-side caps a configuration is checked against; zero
// values mean none.
type Limits struct {
	Duplicates time.Duration // longest duplicate window allowed
}

func invalid(format string, args ...any) *ApiError {
	return NewError(ErrStreamInvalidConfig, fmt.Errorf(format, args...))
}

// ValidName reports whether name can name a stream or consumer: not empty,
// no '.', '*', '>', path separators or whitespace.
func ValidName(name string) bool {
	return name != "" && !strings.ContainsAny(name, ".*> \t\r\n\f\\/")
}

// CheckStreamConfig applies nats-server's defaults to a requested stream
// configuration and rejects what nats-server rejects, with its texts.
func CheckStreamConfig(cfg StreamConfig, lim Limits) (StreamConfig, *ApiError) {
	if !ValidName(cfg.Name) {
		return cfg, invalid("stream name is required and can not contain '.', '*', '>', '\\', '/'")
	}
	if len(cfg.Name) > MaxNameLen {
		return cfg, invalid("stream name is too long, maximum allowed is %d", MaxNameLen)
	}
	if len(cfg.Description) > MaxDescriptionLen {
		return cfg, invalid("stream description is too long, maximum allowed is %d", MaxDescriptionLen)
	}
	mdLen := 0
	for k, v := range cfg.Metadata {
		mdLen += len(k) + len(v)
	}
	if mdLen > MaxMetadataLen {
		return cfg, invalid("stream metadata exceeds maximum size of %d bytes", MaxMetadataLen)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > MaxReplicas {
		return cfg, invalid("maximum replicas is %d", MaxReplicas)
	}
	if cfg.Replicas < 0 {
		return cfg, invalid("replicas count cannot be negative")
	}
	for _, p := range []*int64{&cfg.MaxMsgs, &cfg.MaxMsgsPer, &cfg.MaxBytes} {
		if *p == 0 || *p < -1 {
			*p = -1
		}
	}
	if cfg.MaxMsgSize == 0 || cfg.MaxMsgSize < -1 {
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 || cfg.MaxConsumers < -1 {
		cfg.MaxConsumers = -1
	}
	if cfg.MaxAge < 0 {
		return cfg, invalid("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < minWindow {
		return cfg, invalid("max age needs to be >= 100ms")
	}
	if cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		window := DefaultDuplicates
		if lim.Duplicates > 0 && window > lim.Duplicates {
			window = lim.Duplicates
		}
		if cfg.MaxAge != 0 && cfg.MaxAge < window {
			window = cfg.MaxAge
		}
		cfg.Duplicates = window
	}
	switch {
	case cfg.Duplicates < 0:
		return cfg, invalid("duplicates window can not be negative")
	case cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge:
		return cfg, invalid("duplicates window can not be larger then max age")
	case lim.Duplicates > 0 && cfg.Duplicates > lim.Duplicates:
		return cfg, invalid("duplicates window can not be larger then server limit of %v", lim.Duplicates.String())
	case cfg.Duplicates > 0 && cfg.Duplicates < minWindow:
		return cfg, invalid("duplicates window needs to be >= 100ms")
	case cfg.DenyPurge && cfg.AllowRollup:
		return cfg, invalid("roll-ups require the purge permission")
	}
	if cfg.DiscardNewPer {
		if cfg.Discard != DiscardNew {
			return cfg, invalid("discard new per subject requires discard new policy to be set")
		}
		if cfg.MaxMsgsPer <= 0 {
			return cfg, invalid("discard new per subject requires max msgs per subject > 0")
		}
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		if cfg.SubjectDeleteMarkerTTL < minMarkerTTL {
			return cfg, invalid("subject delete marker TTL must be at least 1 second")
		}
		// Markers are TTL'd roll-ups: nats-server turns both on.
		cfg.AllowMsgTTL = true
		cfg.AllowRollup = true
	} else if cfg.SubjectDeleteMarkerTTL < 0 {
		return cfg, invalid("subject delete marker TTL must not be negative")
	}
	if cfg.Mirror != nil {
		if len(cfg.Subjects) > 0 {
			return cfg, NewError(ErrMirrorWithSubjects)
		}
		if cfg.SubjectDeleteMarkerTTL > 0 {
			return cfg, invalid("subject delete markers forbidden on mirrors")
		}
	}
	if cfg.MirrorDirect && cfg.Mirror == nil {
		return cfg, invalid("stream has no mirror but does have mirror direct")
	}
	if len(cfg.Subjects) == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		cfg.Subjects = []string{cfg.Name}
	}
	if tr := cfg.SubjectTransform; tr != nil {
		if tr.Source != "" && !subject.Valid(tr.Source) {
			return cfg, NewError(ErrStreamTransformInvalidSource, fmt.Errorf("invalid subject %q", tr.Source))
		}
		if _, err := subject.NewTransform(tr.Source, tr.Destination); err != nil {
			return cfg, NewError(ErrStreamTransformInvalidDestination, err)
		}
	}
	for _, src := range append([]*StreamSource{cfg.Mirror}, cfg.Sources...) {
		if src == nil {
			continue
		}
		if !ValidName(src.Name) {
			return cfg, invalid("source or mirror stream name %q is invalid", src.Name)
		}
		if src.FilterSubject != "" && !subject.Valid(src.FilterSubject) {
			return cfg, invalid("invalid filter subject %q", src.FilterSubject)
		}
		for _, tr := range src.SubjectTransforms {
			if _, err := subject.NewTransform(tr.Source, tr.Destination); err != nil {
				return cfg, NewError(ErrStreamTransformInvalidDestination, err)
			}
		}
	}
	if e := checkSubjects(&cfg); e != nil {
		return cfg, e
	}
	return cfg, nil
}

// checkSubjects validates the stream's own subjects.
func checkSubjects(cfg *StreamConfig) *ApiError {
	seen := make(map[string]bool, len(cfg.Subjects))
	for _, subj := range cfg.Subjects {
		if !subject.Valid(subj) {
			return invalid("invalid subject")
		}
		if seen[subj] {
			return invalid("duplicate subjects detected")
		}
		seen[subj] = true
		if subj == ">" {
			if !cfg.NoAck {
				return invalid("capturing all subjects requires no-ack to be true")
			}
			if cfg.Replicas != 1 {
				return invalid("capturing all subjects requires replicas of 1")
			}
		}
		if !cfg.NoAck {
			for _, ns := range []string{"$JS.>", "$JSC.>", "$NRG.>"} {
				if Collide(subj, ns) && !subsetOf(subj, "$JS.EVENT.>") {
					return invalid("subjects that overlap with jetstream api require no-ack to be true")
				}
			}
			if Collide(subj, "$SYS.>") && !subsetOf(subj, "$SYS.ACCOUNT.>") {
				return invalid("subjects that overlap with system api require no-ack to be true")
			}
		}
	}
	for i, a := range cfg.Subjects {
		for _, b := range cfg.Subjects[i+1:] {
			if Collide(a, b) {
				return invalid("subject %q overlaps with %q", b, a)
			}
		}
	}
	return nil
}

// CheckStreamUpdate rejects changes nats-server does not allow on an
// existing stream. Both configurations are already normalized.
func CheckStreamUpdate(old, cfg StreamConfig) *ApiError {
	switch {
	case cfg.Name != old.Name:
		return invalid("stream configuration name must match original")
	case cfg.Storage != old.Storage:
		return invalid("stream configuration update can not change storage type")
	case cfg.Retention != old.Retention && (old.Retention == WorkQueuePolicy || cfg.Retention == WorkQueuePolicy):
		return invalid("stream configuration update can not change retention policy to/from workqueue")
	case !cfg.Sealed && old.Sealed:
		return invalid("stream configuration update can not unseal a sealed stream")
	case !cfg.DenyDelete && old.DenyDelete:
		return invalid("stream configuration update can not cancel deny message deletes")
	case !cfg.DenyPurge && old.DenyPurge:
		return invalid("stream configuration update can not cancel deny purge")
	case cfg.Mirror != nil && !sameSource(cfg.Mirror, old.Mirror):
		return NewError(ErrStreamMirrorNotUpdatable)
	case old.AllowMsgTTL && !cfg.AllowMsgTTL:
		return invalid("message TTL status can not be disabled")
	case cfg.AllowMsgCounter != old.AllowMsgCounter:
		return invalid("stream configuration update can not change message counter setting")
	}
	return nil
}

// Seal applies what sealing means to a configuration: nothing leaves
// (no age limit, no deletes, purges or roll-ups) and nothing enters.
func Seal(cfg *StreamConfig) {
	if !cfg.Sealed {
		return
	}
	cfg.MaxAge = 0
	cfg.Discard = DiscardNew
	cfg.DenyDelete, cfg.DenyPurge = true, true
	cfg.AllowRollup = false
}

func sameSource(a, b *StreamSource) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Name == b.Name && a.OptStartSeq == b.OptStartSeq && a.FilterSubject == b.FilterSubject &&
		((a.OptStartTime == nil && b.OptStartTime == nil) ||
			(a.OptStartTime != nil && b.OptStartTime != nil && a.OptStartTime.Equal(*b.OptStartTime)))
}

// Collide reports whether some subject matches both a and b (either may
// hold wildcards).
func Collide(a, b string) bool {
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		switch {
		case i == len(ta) && i == len(tb):
			return true
		case i == len(ta) || i == len(tb):
			// One ran out first; a '>' still needs a token to match.
			return false
		}
		x, y := ta[i], tb[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != y && x != "*" && y != "*" {
			return false
		}
	}
}

// subsetOf reports whether every subject matching sub also matches super.
func subsetOf(sub, super string) bool {
	ts, tp := strings.Split(sub, "."), strings.Split(super, ".")
	for i, p := range tp {
		if p == ">" {
			return i < len(ts)
		}
		if i >= len(ts) {
			return false
		}
		if p != "*" && (p != ts[i] || ts[i] == "*" || ts[i] == ">") {
			return false
		}
		if p == "*" && ts[i] == ">" {
			return false
		}
	}
	return len(ts) == len(tp)
}

// SubjectsOverlap reports whether any subject of a collides with any of b.
func SubjectsOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if Collide(x, y) {
				return true
			}
		}
	}
	return false
}
