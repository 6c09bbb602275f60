package consumer

import (
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// A paused consumer (pause_until in the future) delivers nothing until
// the deadline, as nats-server 2.11 does: acks are still taken, unacked
// messages still come due (and are redelivered after the pause), pull
// requests still wait, expire and get their heartbeats, push consumers
// still send idle heartbeats. At the deadline it resumes by itself and
// says so with a pause advisory (paused: false). The deadline is part of
// the configuration, so a durable consumer stays paused across a restart.

// pauseDeadline is the configured deadline in unix ns, 0 when none (nil
// or the zero time, which natscli sends to mean "not paused").
func pauseDeadline(cfg *jsapi.ConsumerConfig) int64 {
	if cfg.PauseUntil == nil || cfg.PauseUntil.IsZero() {
		return 0
	}
	return cfg.PauseUntil.UnixNano()
}

// pausedLocked reports whether deliveries are held at now.
func (c *Consumer) pausedLocked(now int64) bool {
	d := pauseDeadline(&c.cfg)
	return d > 0 && now < d
}

// checkResumeLocked sends the resume advisory once a pause ran out.
func (c *Consumer) checkResumeLocked(now int64) {
	if c.resumeDue && !c.pausedLocked(now) {
		c.resumeDue = false
		c.advisePauseLocked()
	}
}

// pauseChangedLocked reacts to a new pause deadline: an advisory now, and
// one more when a pause in the future runs out.
func (c *Consumer) pauseChangedLocked(now int64) {
	c.resumeDue = c.pausedLocked(now)
	c.advisePauseLocked()
}

// advisePauseLocked publishes the consumer's pause state.
func (c *Consumer) advisePauseLocked() {
	ev := &jsapi.ConsumerPauseAdvisory{
		TypedEvent: c.event(jsapi.TypeConsumerPause), Stream: c.stream, Consumer: c.name, Domain: c.domain,
	}
	if c.cfg.PauseUntil != nil {
		ev.PauseUntil = *c.cfg.PauseUntil
		ev.Paused = c.pausedLocked(c.now().UnixNano())
	}
	c.adviseLocked(jsapi.AdvisoryConsumerPause, ev)
}

// AdvisePause publishes the pause advisory of a consumer created paused
// (nats-server sends it after the create response).
func (c *Consumer) AdvisePause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pausedLocked(c.now().UnixNano()) {
		c.advisePauseLocked()
	}
}

// PauseState is what CONSUMER.PAUSE answers: whether deliveries are held,
// until when (zero when not paused by request) and for how much longer.
func (c *Consumer) PauseState() (paused bool, until time.Time, remaining time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.cfg.PauseUntil != nil {
		until = *c.cfg.PauseUntil
	}
	if c.pausedLocked(now.UnixNano()) {
		return true, until, until.Sub(now)
	}
	return false, until, 0
}

// samePause compares two pause deadlines, nil being the zero time.
func samePause(a, b *time.Time) bool {
	var x, y time.Time
	if a != nil {
		x = *a
	}
	if b != nil {
		y = *b
	}
	return x.Equal(y)
}
