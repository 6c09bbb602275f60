package consumer

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Pull requests (CONSUMER.MSG.NEXT) wait in arrival order; each takes up
// to its batch (and max_bytes), then is done. One that expires first is
// told so with a 408, one with no_wait and nothing to take with a 404.
// A request whose reply subject lost its subscriber (the client stopped
// consuming, or went away) is dropped unanswered before it can take a
// message, as nats-server drops it: otherwise it would hold messages
// nobody receives until their ack wait ran out.

// errHeartbeatTooLarge refuses a pull request whose idle heartbeat could
// not fire twice before it expires.
var errHeartbeatTooLarge = errors.New("heartbeat value too large")

// ParseNext reads a pull request body: empty (one message), a number (a
// batch), or a JSON NextRequest. Anything else asks for one message, as
// nats-server reads it.
func ParseNext(body []byte) (jsapi.NextRequest, error) {
	var r jsapi.NextRequest
	b := strings.TrimSpace(string(body))
	switch {
	case b == "":
		r.Batch = 1
	case b[0] == '{':
		if err := json.Unmarshal([]byte(b), &r); err != nil {
			return r, err
		}
		if r.Heartbeat > 0 && r.Heartbeat*2 > r.Expires {
			return r, errHeartbeatTooLarge
		}
	default:
		r.Batch, _ = strconv.Atoi(b)
	}
	if r.Batch <= 0 {
		r.Batch = 1
	}
	if r.Expires < 0 {
		r.Expires = 0
	}
	return r, nil
}

// BadRequest is the status a pull request that ParseNext refused gets.
func BadRequest(err error) []byte {
	return []byte("NATS/1.0 400 Bad Request - " + strings.ReplaceAll(err.Error(), "\r\n", " ") + "\r\n\r\n")
}

// Pull queues a pull request answered on reply.
func (c *Consumer) Pull(reply string, r jsapi.NextRequest) {
	now := c.now()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.idleSince = now.UnixNano()
	code, desc := c.checkPullLocked(r, now.UnixNano())
	if code != 0 {
		c.mu.Unlock()
		if desc != "" {
			c.status(reply, code, desc, "")
		}
		return
	}
	req := &pullRequest{reply: reply, batch: min(r.Batch, maxPullBatch), maxBytes: r.MaxBytes, noWait: r.NoWait,
		hb: r.Heartbeat, lastHB: now.UnixNano(), pin: r.PriorityGroup}
	if r.Expires > 0 {
		req.expires = now.Add(r.Expires).UnixNano()
	}
	c.waiting = append(c.waiting, req)
	c.wantsMsgs.Store(true)
	c.mu.Unlock()
	c.poke()
}

// checkPullLocked checks a request against the consumer's limits in
// nats-server's order, returning the refusal's status (code 0: accepted;
// an empty description: refused silently).
func (c *Consumer) checkPullLocked(r jsapi.NextRequest, now int64) (int, string) {
	switch {
	case c.cfg.DeliverSubject != "":
		return 409, "Consumer is push based"
	case c.cfg.MaxRequestBatch > 0 && r.Batch > c.cfg.MaxRequestBatch:
		return 409, "Exceeded MaxRequestBatch of " + strconv.Itoa(c.cfg.MaxRequestBatch)
	case c.cfg.MaxRequestExpires > 0 && r.Expires > c.cfg.MaxRequestExpires:
		return 409, "Exceeded MaxRequestExpires of " + c.cfg.MaxRequestExpires.String()
	case c.cfg.MaxRequestMaxBytes > 0 && r.MaxBytes > c.cfg.MaxRequestMaxBytes:
		return 409, "Exceeded MaxRequestMaxBytes of " + strconv.Itoa(c.cfg.MaxRequestMaxBytes)
	}
	if code, desc := c.checkPriorityLocked(r.PriorityGroup, now); code != 0 {
		return code, desc
	}
	maxWaiting := c.cfg.MaxWaiting
	if maxWaiting <= 0 {
		maxWaiting = DefaultMaxWaiting
	}
	if len(c.waiting) >= maxWaiting {
		// Make room from requests nobody waits for any more first.
		c.sweepLocked(now, true)
	}
	if len(c.waiting) >= maxWaiting {
		if r.Heartbeat > 0 {
			// A client watching heartbeats retries when they stop; a 409
			// would only make it retry at once, in a loop.
			return 409, ""
		}
		return 409, "Exceeded MaxWaiting"
	}
	return 0, ""
}

// sweepEvery bounds how often every waiting request's reply subject is
// checked for interest when nothing else asks for it.
const sweepEvery = int64(100 * time.Millisecond)

// sweepLocked drops waiting requests without interest in their reply
// subject (every sweepEvery, or now when force is set).
func (c *Consumer) sweepLocked(now int64, force bool) {
	if !force && now-c.lastSweep < sweepEvery {
		return
	}
	c.lastSweep = now
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if c.out.HasInterest(r.reply) {
			kept = append(kept, r)
		}
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}

// nextRequestLocked returns the oldest live request that may take the
// message just read (fresh: a first delivery), answering expired ones and
// dropping abandoned ones on the way.
func (c *Consumer) nextRequestLocked(now int64, fresh bool) *pullRequest {
	var pending uint64
	counted := false
	numPending := func() uint64 {
		if !counted {
			// The message in hand still counts as pending.
			pending, counted = c.numPendingLocked(), true
			if fresh {
				pending++
			}
		}
		return pending
	}
	for i := 0; i < len(c.waiting); {
		r := c.waiting[i]
		if r.expires > 0 && r.expires <= now {
			c.removeWaiting(i)
			c.timeoutLocked(r)
			continue
		}
		if !c.out.HasInterest(r.reply) {
			c.removeWaiting(i)
			continue
		}
		switch c.eligibleLocked(r, now, numPending) {
		case 1:
			return r
		case 0:
			i++
		default:
			c.removeWaiting(i)
		}
	}
	return nil
}

func (c *Consumer) removeWaiting(i int) {
	copy(c.waiting[i:], c.waiting[i+1:])
	c.waiting[len(c.waiting)-1] = nil
	c.waiting = c.waiting[:len(c.waiting)-1]
}

// expireRequestsLocked answers every expired request, not only the first,
// and now and then drops requests nobody waits for.
func (c *Consumer) expireRequestsLocked(now int64) {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if r.expires > 0 && r.expires <= now {
			c.timeoutLocked(r)
			continue
		}
		kept = append(kept, r)
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
	c.sweepLocked(now, c.forceSweep)
}

func (c *Consumer) timeoutLocked(r *pullRequest) {
	// A request's wait counts as activity up to its end: the inactivity
	// clock of a pull consumer starts when its last request ended, not
	// when it came (a 30 s fetch must not leave a consumer with a 10 s
	// threshold to be removed the moment it expires), as nats-server
	// counts it.
	c.idleSince = max(c.idleSince, r.expires)
	c.statusLocked(r.reply, 408, "Request Timeout", pendingHeaders(r))
}

// pendingHeaders tell a client what its request did not get.
func pendingHeaders(r *pullRequest) string {
	return "Nats-Pending-Messages: " + strconv.Itoa(r.batch-r.sent) + "\r\nNats-Pending-Bytes: " +
		strconv.Itoa(max(r.maxBytes-r.sentBytes, 0)) + "\r\n"
}

// finishRequestLocked removes a satisfied request.
func (c *Consumer) finishRequestLocked(r *pullRequest) {
	c.idleSince = max(c.idleSince, c.now().UnixNano())
	for i, w := range c.waiting {
		if w == r {
			c.removeWaiting(i)
			return
		}
	}
}

// answerNoWaitLocked ends no_wait requests that found nothing (404), or
// that got part of their batch (408, as nats-server does).
func (c *Consumer) answerNoWaitLocked() {
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		if !r.noWait {
			kept = append(kept, r)
			continue
		}
		if r.sent == 0 {
			c.statusLocked(r.reply, 404, "No Messages", "")
		} else {
			c.timeoutLocked(r)
		}
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}
