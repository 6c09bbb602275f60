package jsapi

import (
	"encoding/json"
	"errors"
	"strings"
)

// CheckStreamCreate makes the checks nats-server's STREAM.CREATE handler
// makes before CheckStreamConfig, in its order: the name in the subject
// (the last token of $JS.API.STREAM.CREATE.<name>) must be the
// configuration's (10056) and hold no path separators (10128); a new
// stream can not be sealed, nor have mirror_direct without a mirror
// (10052).
func CheckStreamCreate(subjectName string, cfg StreamConfig) *ApiError {
	switch {
	case subjectName != cfg.Name:
		return NewError(ErrStreamMismatch)
	case strings.ContainsAny(subjectName, `\/`):
		return NewError(ErrStreamNameContainsPathSeparators)
	case cfg.Sealed:
		return NewError(ErrStreamInvalidConfig, errors.New("stream configuration for create can not be sealed"))
	case cfg.MirrorDirect && cfg.Mirror == nil:
		return NewError(ErrStreamInvalidConfig, errors.New("stream has no mirror but does have mirror direct"))
	}
	return nil
}

// CheckStreamUpdate rejects the changes nats-server does not allow on an
// existing stream, with its texts. Both configurations are normalized
// (CheckStreamConfig); nats-server checks the name in the subject after
// normalizing (10056). What depends on the server is the caller's: more
// than one replica without clustering (10074), account limits, the
// stream's consumers against new consumer limits (10069), overlap with
// other streams (10065).
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
	case cfg.Mirror != nil && !sameJSON(cfg.Mirror, old.Mirror):
		// Removing the mirror is allowed: it promotes the stream.
		return NewError(ErrStreamMirrorNotUpdatable)
	case cfg.DiscardNewPer && cfg.Discard != DiscardNew:
		return invalid("discard new per subject requires discard new policy to be set")
	case cfg.DiscardNewPer && cfg.MaxMsgsPer <= 0:
		return invalid("discard new per subject requires max msgs per subject > 0")
	case old.AllowMsgTTL && !cfg.AllowMsgTTL:
		return invalid("message TTL status can not be disabled")
	case cfg.AllowMsgCounter != old.AllowMsgCounter:
		return invalid("stream configuration update can not change message counter setting")
	case old.AllowMsgSchedules && !cfg.AllowMsgSchedules:
		return invalid("message schedules can not be disabled")
	case old.PersistMode != cfg.PersistMode:
		return invalid("stream configuration update can not change persist mode")
	}
	return nil
}

// sameJSON reports whether a and b encode alike (times compare by
// instant as written, not by Go's internal representation).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// Seal applies what sealing means to an updated configuration, as
// nats-server does after CheckStreamUpdate: nothing leaves (no age limit,
// no deletes, purges or roll-ups) and nothing enters (discard new).
func Seal(cfg *StreamConfig) {
	if !cfg.Sealed {
		return
	}
	cfg.MaxAge = 0
	cfg.Discard = DiscardNew
	cfg.DenyDelete, cfg.DenyPurge = true, true
	cfg.AllowRollup = false
}

// RequiredAPILevel is the JetStream API level a configuration needs, which
// nats-server stores in its metadata under MetaRequiredLevel: 1 for
// message TTLs and delete markers, 2 for counters, atomic batches,
// schedules and async persistence, 4 for fast batches, else 0.
func RequiredAPILevel(cfg StreamConfig) int {
	switch {
	case cfg.AllowBatchPublish:
		return 4
	case cfg.AllowMsgCounter, cfg.AllowAtomicPublish, cfg.AllowMsgSchedules, cfg.PersistMode == AsyncPersistMode:
		return 2
	case cfg.AllowMsgTTL, cfg.SubjectDeleteMarkerTTL > 0:
		return 1
	}
	return 0
}
