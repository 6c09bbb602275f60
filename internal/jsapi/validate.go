package jsapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Bounds on a stream configuration, as nats-server's.
const (
	MaxNameLen        = 255
	MaxDescriptionLen = 4 * 1024
	MaxMetadataLen    = 128 * 1024 // keys and values together
	MaxReplicas       = 5
	DefaultDuplicates = 2 * time.Minute
	minWindow         = 100 * time.Millisecond // max_age and duplicate_window
	minMarkerTTL      = time.Second
)

// errBadSubject is nats-server's ErrBadSubject, quoted in transform errors.
var errBadSubject = errors.New("invalid subject")

// Limits is what CheckStreamConfig needs to know beyond the configuration
// itself. The zero value means no server limits, no other streams known
// and no pedantic mode.
type Limits struct {
	// Duplicates is the longest duplicate window the server allows
	// (nats-server's jetstream { limits { duplicate_window } }).
	Duplicates time.Duration
	// MaxBytesRequired and the per-storage MaxStreamBytes are the
	// account's limits for the stream's tier (-1 or 0: none).
	MaxBytesRequired     bool
	MemoryMaxStreamBytes int64
	StoreMaxStreamBytes  int64
	// Pedantic refuses what would otherwise be adjusted (the request's
	// "pedantic" flag).
	Pedantic bool
	// Lookup returns the configuration of another stream of the account,
	// if it exists. With it, mirrors and sources are checked against
	// their origins (message size, direct get, cycles) as nats-server
	// does; without it those checks are skipped.
	Lookup func(name string) (StreamConfig, bool)
}

func (l *Limits) lookup(name string) (StreamConfig, bool) {
	if l.Lookup == nil {
		return StreamConfig{}, false
	}
	return l.Lookup(name)
}

// invalid is the usual "invalid stream configuration" error (10052).
func invalid(format string, args ...any) *ApiError {
	return NewError(ErrStreamInvalidConfig, fmt.Errorf(format, args...))
}

func pedantic(format string, args ...any) *ApiError {
	return NewError(ErrPedantic, fmt.Errorf(format, args...))
}

// ValidName reports whether name can name a stream or consumer (nats-server's
// isValidAssetName): not empty, no '.', '*', '>', path separators or
// whitespace.
func ValidName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " \t\r\n\f.*>\\/")
}

// CheckStreamConfig applies nats-server's defaults to a requested stream
// configuration and rejects what nats-server's checkStreamCfg rejects, in
// the same order and with the same codes and texts. It is used for
// creates and updates alike; CheckStreamCreate and CheckStreamUpdate add
// what is particular to each. Subject overlap with other streams is the
// caller's (SubjectsOverlap, 10065). On error the returned configuration
// is the input.
func CheckStreamConfig(cfg StreamConfig, lim Limits) (StreamConfig, *ApiError) {
	in := cfg
	if cfg.RePublish != nil {
		rp := *cfg.RePublish // normalized below; the caller's stays as sent
		cfg.RePublish = &rp
	}
	for _, step := range []func(*StreamConfig, *Limits) *ApiError{
		checkIdentity,
		checkLimits,
		checkDuplicates,
		checkFeatures,
		checkMirror,
		checkSources,
		checkExternal,
		checkCycles,
		checkSubjects,
		checkMaxBytes,
		checkTransform,
		checkRePublish,
		checkPlacement,
	} {
		if e := step(&cfg, &lim); e != nil {
			return in, e
		}
	}
	return cfg, nil
}

// checkIdentity checks the name, description, metadata and enum values.
func checkIdentity(cfg *StreamConfig, _ *Limits) *ApiError {
	if !ValidName(cfg.Name) {
		return invalid("stream name is required and can not contain '.', '*', '>', '\\', '/'")
	}
	if len(cfg.Name) > MaxNameLen {
		return invalid("stream name is too long, maximum allowed is %d", MaxNameLen)
	}
	if len(cfg.Description) > MaxDescriptionLen {
		return invalid("stream description is too long, maximum allowed is %d", MaxDescriptionLen)
	}
	n := 0
	for k, v := range cfg.Metadata {
		n += len(k) + len(v)
	}
	if n > MaxMetadataLen {
		return invalid("stream metadata exceeds maximum size of %d bytes", MaxMetadataLen)
	}
	switch {
	case cfg.Retention < LimitsPolicy || cfg.Retention > WorkQueuePolicy:
		return invalid("invalid retention")
	case cfg.Discard < DiscardOld || cfg.Discard > DiscardNew:
		return invalid("invalid discard policy")
	case cfg.Compression < NoCompression || cfg.Compression > S2Compression:
		return invalid("invalid compression")
	case cfg.Storage < FileStorage || cfg.Storage > MemoryStorage:
		return invalid("invalid storage type")
	}
	return nil
}

// checkLimits defaults replicas and the message limits (0 or below -1
// means unlimited, -1).
func checkLimits(cfg *StreamConfig, lim *Limits) *ApiError {
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > MaxReplicas {
		return invalid("maximum replicas is %d", MaxReplicas)
	}
	if cfg.Replicas < 0 {
		return NewError(ErrReplicasCountCannotBeNegative)
	}
	for _, l := range []struct {
		v    *int64
		name string
	}{{&cfg.MaxMsgs, "max_msgs"}, {&cfg.MaxMsgsPer, "max_msgs_per_subject"}, {&cfg.MaxBytes, "max_bytes"}} {
		if *l.v == 0 || *l.v < -1 {
			if lim.Pedantic && *l.v < -1 {
				return pedantic("%s must be set to -1", l.name)
			}
			*l.v = -1
		}
	}
	if cfg.MaxMsgSize == 0 || cfg.MaxMsgSize < -1 {
		if lim.Pedantic && cfg.MaxMsgSize < -1 {
			return pedantic("max_msg_size must be set to -1")
		}
		cfg.MaxMsgSize = -1
	}
	if cfg.MaxConsumers == 0 || cfg.MaxConsumers < -1 {
		if lim.Pedantic && cfg.MaxConsumers < -1 {
			return pedantic("max_consumers must be set to -1")
		}
		cfg.MaxConsumers = -1
	}
	if cfg.MaxAge < 0 {
		return invalid("max age can not be negative")
	}
	if cfg.MaxAge != 0 && cfg.MaxAge < minWindow {
		return invalid("max age needs to be >= 100ms")
	}
	return nil
}

// checkDuplicates defaults the duplicate window (2 minutes, or less under
// a server limit or a shorter max age; none for mirrors and sourcing
// streams) and bounds it.
func checkDuplicates(cfg *StreamConfig, lim *Limits) *ApiError {
	if cfg.Duplicates == 0 && cfg.Mirror == nil && len(cfg.Sources) == 0 {
		window := DefaultDuplicates
		if lim.Duplicates > 0 && window > lim.Duplicates {
			if lim.Pedantic {
				return pedantic("duplicate window limits are higher than current limits")
			}
			window = lim.Duplicates
		}
		if cfg.MaxAge != 0 && cfg.MaxAge < window {
			if lim.Pedantic {
				return pedantic("duplicate window cannot be bigger than max age")
			}
			window = cfg.MaxAge
		}
		cfg.Duplicates = window
	}
	switch {
	case cfg.Duplicates < 0:
		return invalid("duplicates window can not be negative")
	case cfg.MaxAge != 0 && cfg.Duplicates > cfg.MaxAge:
		return invalid("duplicates window can not be larger then max age")
	case lim.Duplicates > 0 && cfg.Duplicates > lim.Duplicates:
		return invalid("duplicates window can not be larger then server limit of %v", lim.Duplicates.String())
	case cfg.Duplicates > 0 && cfg.Duplicates < minWindow:
		return invalid("duplicates window needs to be >= 100ms")
	}
	return nil
}

// checkFeatures checks the combinations of roll-ups, counters, discard
// new per subject, delete markers, schedules and persist mode.
func checkFeatures(cfg *StreamConfig, lim *Limits) *ApiError {
	if cfg.DenyPurge && cfg.AllowRollup {
		return invalid("roll-ups require the purge permission")
	}
	if cfg.AllowMsgCounter {
		switch {
		case cfg.Discard == DiscardNew:
			return invalid("counter stream cannot use discard new")
		case cfg.AllowMsgTTL:
			return invalid("counter stream cannot use message TTLs")
		case cfg.AllowMsgSchedules:
			return invalid("counter stream cannot use message schedules")
		case cfg.Retention != LimitsPolicy:
			return invalid("counter stream can only use limits retention")
		}
	}
	if cfg.DiscardNewPer {
		if cfg.Discard != DiscardNew {
			return invalid("discard new per subject requires discard new policy to be set")
		}
		if cfg.MaxMsgsPer <= 0 {
			return invalid("discard new per subject requires max msgs per subject > 0")
		}
	}
	if cfg.SubjectDeleteMarkerTTL < 0 {
		return invalid("subject delete marker TTL must not be negative")
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		// Markers are messages with a TTL that roll up their subject.
		if cfg.SubjectDeleteMarkerTTL < minMarkerTTL {
			return invalid("subject delete marker TTL must be at least 1 second")
		}
		if !cfg.AllowMsgTTL {
			if lim.Pedantic {
				return invalid("subject delete marker cannot be set if message TTLs are disabled")
			}
			cfg.AllowMsgTTL = true
		}
		if !cfg.AllowRollup {
			if lim.Pedantic {
				return invalid("subject delete marker cannot be set if roll-ups are disabled")
			}
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	}
	if cfg.AllowMsgSchedules {
		if cfg.Discard == DiscardNew {
			return invalid("message scheduling cannot use discard new")
		}
		if !cfg.AllowRollup {
			if lim.Pedantic {
				return invalid("message scheduling cannot be set if roll-ups are disabled")
			}
			cfg.AllowRollup, cfg.DenyPurge = true, false
		}
	}
	if cfg.PersistMode == AsyncPersistMode {
		switch {
		case cfg.Storage != FileStorage:
			return invalid("async persist mode is only supported on file storage")
		case cfg.Replicas > 1:
			return invalid("async persist mode is not supported on replicated streams")
		case cfg.AllowAtomicPublish:
			return invalid("async persist mode is not supported with atomic batch publish")
		}
	}
	return nil
}

// checkSubjects defaults the subjects to the stream's name (unless it
// mirrors or sources) and checks them: valid, no duplicates, no overlap
// among themselves, and capturing everything or the JetStream and system
// APIs only without acks.
func checkSubjects(cfg *StreamConfig, _ *Limits) *ApiError {
	if len(cfg.Subjects) == 0 {
		if cfg.Mirror == nil && len(cfg.Sources) == 0 {
			cfg.Subjects = []string{cfg.Name}
		}
		return nil
	}
	if cfg.Mirror != nil {
		return NewError(ErrMirrorWithSubjects)
	}
	seen := make(map[string]bool, len(cfg.Subjects))
	for i, subj := range cfg.Subjects {
		if !subject.Valid(subj) {
			return invalid("invalid subject")
		}
		if seen[subj] {
			return invalid("duplicate subjects detected")
		}
		if subj == ">" {
			if !cfg.NoAck {
				return invalid("capturing all subjects requires no-ack to be true")
			}
			if cfg.Replicas != 1 {
				return invalid("capturing all subjects requires replicas of 1")
			}
		}
		if !cfg.NoAck {
			for _, api := range []string{"$JS.>", "$JSC.>", "$NRG.>"} {
				// $JS.EVENT.> is allowed: streams of advisories predate the rule.
				if Collide(subj, api) && !SubsetOf(subj, "$JS.EVENT.>") {
					return invalid("subjects that overlap with jetstream api require no-ack to be true")
				}
			}
			if Collide(subj, "$SYS.>") && !SubsetOf(subj, "$SYS.ACCOUNT.>") {
				return invalid("subjects that overlap with system api require no-ack to be true")
			}
		}
		for _, later := range cfg.Subjects[i+1:] {
			if Collide(later, subj) {
				return invalid("subject %q overlaps with %q", subj, later)
			}
		}
		seen[subj] = true
	}
	return nil
}

// checkMaxBytes applies the account's max bytes rules.
func checkMaxBytes(cfg *StreamConfig, lim *Limits) *ApiError {
	if lim.MaxBytesRequired && cfg.MaxBytes <= 0 {
		return NewError(ErrStreamMaxBytesRequired)
	}
	limit := lim.StoreMaxStreamBytes
	if cfg.Storage == MemoryStorage {
		limit = lim.MemoryMaxStreamBytes
	}
	if limit > 0 && cfg.MaxBytes > limit {
		return NewError(ErrStreamMaxStreamBytesExceeded)
	}
	return nil
}

// checkTransform checks the stream's input subject transform.
func checkTransform(cfg *StreamConfig, _ *Limits) *ApiError {
	tr := cfg.SubjectTransform
	if tr == nil {
		return nil
	}
	if tr.Source != "" && !subject.Valid(tr.Source) {
		return NewError(ErrStreamTransformInvalidSource, fmt.Errorf("%w %s", errBadSubject, tr.Source))
	}
	if _, err := subject.NewTransform(tr.Source, tr.Destination); err != nil {
		return NewError(ErrStreamTransformInvalidDestination, err)
	}
	return nil
}

// checkRePublish defaults an empty republish source to '>' and refuses a
// destination that would feed the stream again.
func checkRePublish(cfg *StreamConfig, lim *Limits) *ApiError {
	rp := cfg.RePublish
	if rp == nil {
		return nil
	}
	if rp.Source == "" {
		if lim.Pedantic {
			return pedantic("republish source can not be empty")
		}
		rp.Source = ">"
	}
	// '>' to '>' would be a cycle, unless the stream's one subject is
	// transformed: then it republishes the transformed subjects.
	if rp.Source == ">" && rp.Destination == ">" && cfg.SubjectTransform != nil &&
		len(cfg.Subjects) == 1 && cfg.SubjectTransform.Source == cfg.Subjects[0] {
		if lim.Pedantic {
			return pedantic("implicit republish based on subject transform")
		}
		rp.Source, rp.Destination = cfg.SubjectTransform.Destination, cfg.SubjectTransform.Destination
	}
	if SubjectsOverlap([]string{rp.Destination}, cfg.Subjects) {
		return invalid("stream configuration for republish destination forms a cycle")
	}
	if _, err := subject.NewTransform(rp.Source, rp.Destination); err != nil {
		return invalid("stream configuration for republish with transform from '%s' to '%s' not valid", rp.Source, rp.Destination)
	}
	return nil
}

// checkPlacement drops an empty placement and refuses a preferred server.
func checkPlacement(cfg *StreamConfig, _ *Limits) *ApiError {
	p := cfg.Placement
	if p == nil {
		return nil
	}
	if p.Cluster == "" && len(p.Tags) == 0 && p.Preferred == "" {
		cfg.Placement = nil
		return nil
	}
	if p.Preferred != "" {
		return invalid("preferred server not permitted in placement")
	}
	return nil
}
