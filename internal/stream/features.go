package stream

import (
	"math/big"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/subject"
)

// Headers of publish features Starling does not implement: atomic batch
// publish, message schedules and counters. Streams cannot enable them
// (their settings are dropped as a 2.11 server drops them), so a message
// that asks for one is refused, as current nats-server refuses it on a
// stream without the feature, rather than stored as a plain message that
// silently does something else than the publisher asked.
const (
	hdrBatchID        = "Nats-Batch-Id"
	hdrIncr           = "Nats-Incr"
	hdrSchedule       = "Nats-Schedule"
	hdrScheduleTZ     = "Nats-Schedule-Time-Zone"
	hdrScheduleNext   = "Nats-Schedule-Next"
	hdrScheduler      = "Nats-Scheduler"
	scheduleNextPurge = "purge"
)

// batchRefused is the error for a message of an atomic batch (10174).
// nats-server checks it on its batch path, after sealed, resource limits
// and message size.
func batchRefused(cfg *jsapi.StreamConfig, hdr []byte) *jsapi.ApiError {
	if cfg.AllowAtomicPublish {
		return nil
	}
	if id, ok := headerValue(hdr, hdrBatchID); ok && id != "" {
		return jsapi.NewError(jsapi.ErrAtomicPublishDisabled)
	}
	return nil
}

// counterRefused checks Nats-Incr, the first of nats-server's header
// checks: not an integer is 10171, an integer on a stream without
// counters 10168.
func counterRefused(cfg *jsapi.StreamConfig, hdr []byte) *jsapi.ApiError {
	v, ok := headerValue(hdr, hdrIncr)
	if !ok || v == "" {
		return nil
	}
	if _, ok := new(big.Int).SetString(v, 10); !ok {
		return jsapi.NewError(jsapi.ErrMessageIncrInvalid)
	}
	if !cfg.AllowMsgCounter {
		return jsapi.NewError(jsapi.ErrMessageIncrDisabled)
	}
	return nil
}

// scheduleRefused checks the schedule headers after the expected-sequence
// checks, in nats-server's order: a schedule (valid or not) or a time
// zone is 10188 on a stream without schedules; Nats-Schedule-Next other
// than "purge", or a Nats-Scheduler that is empty, names the message's
// own subject or goes without Nats-Schedule-Next, is 10212.
func scheduleRefused(cfg *jsapi.StreamConfig, subj string, hdr []byte) *jsapi.ApiError {
	if cfg.AllowMsgSchedules {
		return nil
	}
	disabled := jsapi.NewError(jsapi.ErrMessageSchedulesDisabled)
	if v, ok := headerValue(hdr, hdrSchedule); ok && v != "" {
		return disabled
	}
	if tz, ok := headerValue(hdr, hdrScheduleTZ); ok && !validZone(tz) {
		return disabled
	}
	badScheduler := jsapi.NewError(jsapi.ErrMessageSchedulesSchedulerInvalid)
	sched, _ := headerValue(hdr, hdrScheduler)
	if next, ok := headerValue(hdr, hdrScheduleNext); ok && next != "" {
		if next != scheduleNextPurge || sched == "" || sched == subj || !subject.ValidLiteral(sched) {
			return badScheduler
		}
		return disabled
	}
	if sched != "" {
		return badScheduler
	}
	return nil
}

// validZone reports whether tz names a time zone (nats-server reads an
// empty one as invalid; a valid zone without a schedule is harmless).
func validZone(tz string) bool {
	if tz == "" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}
