package consumer

import (
	"errors"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Priority groups, as nats-server 2.11 has them. A pull consumer with a
// priority policy takes pull requests only for one of its groups, and:
//
//   - pinned_client: the first request without a pin id gets a new one,
//     and from then on only requests carrying that id (sent back by the
//     client from the Nats-Pin-Id header of each delivery) get messages;
//     others without an id wait, others with a stale id get a 423. A pin
//     not renewed by a request within priority_timeout lapses, and the
//     next waiting request without an id is pinned.
//   - overflow: a request with min_pending or min_ack_pending gets
//     messages only while the consumer has at least that many messages
//     pending delivery or pending acks.
//
// Like nats-server, one pin serves the whole consumer whatever the group.

// ErrUnknownGroup is returned by Unpin for a group the consumer lacks.
var ErrUnknownGroup = errors.New("consumer: unknown priority group")

// checkPriorityLocked checks a pull request's priority fields, returning
// the status description of a refusal ("" when accepted) and its code.
func (c *Consumer) checkPriorityLocked(g jsapi.PriorityGroup, now int64) (int, string) {
	policy := c.cfg.PriorityPolicy
	switch {
	case (g.MinPending != 0 || g.MinAckPending != 0) && policy != jsapi.PriorityOverflow:
		return 400, "Bad Request - Not a Overflow Priority consumer"
	case g.Id != "" && policy != jsapi.PriorityPinnedClient:
		return 400, "Bad Request - Not a Pinned Client Priority consumer"
	case policy == jsapi.PriorityNone:
		return 0, ""
	case g.Group == "":
		return 400, "Bad Request - Priority Group missing"
	case !slices.Contains(c.cfg.PriorityGroups, g.Group):
		return 400, "Bad Request - Invalid Priority Group"
	}
	if c.pinID != "" {
		switch g.Id {
		case c.pinID:
			// The pinned client is still asking: its pin lives on.
			c.pinExpires = now + int64(c.pinTTL())
		case "":
		default:
			return 423, "Nats-Pin-Id mismatch"
		}
	}
	return 0, ""
}

func (c *Consumer) pinTTL() time.Duration {
	if c.cfg.PinnedTTL > 0 {
		return c.cfg.PinnedTTL
	}
	return DefaultPinnedTTL
}

// eligibleLocked decides whether waiting request r may take the next
// message: 1 yes, 0 not now (it keeps waiting), -1 never (it was
// answered and must be dropped).
func (c *Consumer) eligibleLocked(r *pullRequest, now int64, pending func() uint64) int {
	switch c.cfg.PriorityPolicy {
	case jsapi.PriorityPinnedClient:
		switch {
		case c.pinID == "" && r.pin.Id == "":
			c.pinLocked(r, now)
		case c.pinID != "" && r.pin.Id == c.pinID:
		case r.pin.Id == "":
			return 0 // stands by while another client is pinned
		default:
			// An old pin: the client must ask again without it.
			c.emitLocked(outMsg{kind: outStatus, to: r.reply, hdr: []byte(jsapi.StatusWrongPinID)})
			return -1
		}
	case jsapi.PriorityOverflow:
		if r.pin.MinPending > 0 && uint64(r.pin.MinPending) > pending() {
			return 0
		}
		if r.pin.MinAckPending > 0 && r.pin.MinAckPending > int64(len(c.pending)) {
			return 0
		}
	}
	return 1
}

// pinLocked pins the client that sent r.
func (c *Consumer) pinLocked(r *pullRequest, now int64) {
	c.pinID = randomName() + randomName() + randomName()[:6] // 22 characters, as a NUID
	c.pinGroup = r.pin.Group
	c.pinnedAt = time.Unix(0, now).UTC()
	c.pinExpires = now + int64(c.pinTTL())
	r.pin.Id = c.pinID
	c.adviseLocked(jsapi.AdvisoryConsumerPinned, &jsapi.ConsumerGroupPinnedAdvisory{
		TypedEvent: c.event(jsapi.TypeConsumerGroupPinned), Account: jsapi.GlobalAccount,
		Stream: c.stream, Consumer: c.name, Domain: c.domain, Group: c.pinGroup, PinnedClientID: c.pinID,
	})
}

// unpinLocked forgets the pin, saying why.
func (c *Consumer) unpinLocked(group, reason string) {
	c.pinID, c.pinnedAt, c.pinExpires = "", time.Time{}, 0
	c.adviseLocked(jsapi.AdvisoryConsumerUnpinned, &jsapi.ConsumerGroupUnpinnedAdvisory{
		TypedEvent: c.event(jsapi.TypeConsumerGroupUnpinned), Account: jsapi.GlobalAccount,
		Stream: c.stream, Consumer: c.name, Domain: c.domain, Group: group, Reason: reason,
	})
}

// expirePinLocked lets a pin lapse once its client stopped renewing it.
func (c *Consumer) expirePinLocked(now int64) {
	if c.pinID != "" && now >= c.pinExpires {
		c.unpinLocked(c.pinGroup, jsapi.UnpinReasonTimeout)
	}
}

// Unpin drops the current pin of group (CONSUMER.UNPIN): the next waiting
// request without a pin id is pinned, and the old client's requests get
// a 423.
func (c *Consumer) Unpin(group string) error {
	c.mu.Lock()
	if !slices.Contains(c.cfg.PriorityGroups, group) {
		c.mu.Unlock()
		return ErrUnknownGroup
	}
	c.unpinLocked(group, jsapi.UnpinReasonAdmin)
	c.mu.Unlock()
	c.poke()
	return nil
}

// priorityInfoLocked is the priority_groups part of consumer info.
func (c *Consumer) priorityInfoLocked() []jsapi.PriorityGroupState {
	if len(c.cfg.PriorityGroups) == 0 {
		return nil
	}
	return []jsapi.PriorityGroupState{{Group: c.cfg.PriorityGroups[0], PinnedClientID: c.pinID, PinnedTS: c.pinnedAt}}
}

// pinHeader is the header line every delivery of a pinned consumer
// carries.
func (c *Consumer) pinHeader(hdr []byte) []byte {
	return appendHeader(hdr, jsapi.HdrPinID, c.pinID)
}
