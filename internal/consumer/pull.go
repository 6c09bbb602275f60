package consumer

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Pull requests (CONSUMER.MSG.NEXT) wait in arrival order; each takes up
// to its batch (and max_bytes), then is done. One that expires first is
// told so with a 408, one with no_wait and nothing to take with a 404.

// ParseNext reads a pull request body: empty (one message), a number (a
// batch), or a JSON NextRequest.
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
	default:
		n, err := strconv.Atoi(b)
		if err != nil {
			return r, err
		}
		r.Batch = n
	}
	if r.Batch <= 0 {
		r.Batch = 1
	}
	return r, nil
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
	if c.cfg.DeliverSubject != "" {
		c.mu.Unlock()
		c.status(reply, 409, "Consumer is push based", "")
		return
	}
	maxWaiting := c.cfg.MaxWaiting
	if maxWaiting <= 0 {
		maxWaiting = DefaultMaxWaiting
	}
	switch {
	case len(c.waiting) >= maxWaiting:
		c.mu.Unlock()
		c.status(reply, 409, "Exceeded MaxWaiting", "")
		return
	case c.cfg.MaxRequestBatch > 0 && r.Batch > c.cfg.MaxRequestBatch:
		c.mu.Unlock()
		c.status(reply, 409, "Exceeded MaxRequestBatch of "+strconv.Itoa(c.cfg.MaxRequestBatch), "")
		return
	case c.cfg.MaxRequestExpires > 0 && r.Expires > c.cfg.MaxRequestExpires:
		c.mu.Unlock()
		c.status(reply, 409, "Exceeded MaxRequestExpires of "+c.cfg.MaxRequestExpires.String(), "")
		return
	case c.cfg.MaxRequestMaxBytes > 0 && r.MaxBytes > c.cfg.MaxRequestMaxBytes:
		c.mu.Unlock()
		c.status(reply, 409, "Exceeded MaxRequestMaxBytes of "+strconv.Itoa(c.cfg.MaxRequestMaxBytes), "")
		return
	}
	req := &pullRequest{reply: reply, batch: min(r.Batch, maxPullBatch), maxBytes: r.MaxBytes, noWait: r.NoWait, hb: r.Heartbeat, lastHB: now.UnixNano()}
	if r.Expires > 0 {
		req.expires = now.Add(r.Expires).UnixNano()
	}
	c.waiting = append(c.waiting, req)
	c.mu.Unlock()
	c.poke()
}

// nextRequestLocked returns the oldest live request, answering expired
// ones on the way.
func (c *Consumer) nextRequestLocked(now int64) *pullRequest {
	for len(c.waiting) > 0 {
		r := c.waiting[0]
		if r.expires > 0 && r.expires <= now {
			c.waiting = c.waiting[1:]
			c.timeoutLocked(r)
			continue
		}
		return r
	}
	return nil
}

// expireRequestsLocked answers every expired request, not only the first.
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
}

func (c *Consumer) timeoutLocked(r *pullRequest) {
	extra := "Nats-Pending-Messages: " + strconv.Itoa(r.batch-r.sent) + "\r\nNats-Pending-Bytes: " + strconv.Itoa(max(r.maxBytes-r.sentBytes, 0)) + "\r\n"
	c.status(r.reply, 408, "Request Timeout", extra)
}

// finishRequestLocked removes a satisfied request.
func (c *Consumer) finishRequestLocked(r *pullRequest) {
	for i, w := range c.waiting {
		if w == r {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
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
			c.status(r.reply, 404, "No Messages", "")
		} else {
			c.timeoutLocked(r)
		}
	}
	clear(c.waiting[len(kept):])
	c.waiting = kept
}
