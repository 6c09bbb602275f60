package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
)

// CONSUMER.PAUSE and CONSUMER.UNPIN: operations on a live consumer that
// are not configuration edits, answered as nats-server 2.11 answers them.

// consumerPause sets or clears a consumer's pause deadline. A body that is
// not a JSON object (empty, null) or a zero time resumes; a deadline in
// the past is stored but pauses nothing.
func (m *jsAccount) consumerPause(r *request) any {
	resp := &jsapi.ConsumerPauseResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerPauseResponse}}
	var req jsapi.ConsumerPauseRequest
	if body := bytes.TrimSpace(r.data); len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		if err := json.Unmarshal(body, &req); err != nil {
			resp.Error = jsapi.NewError(jsapi.ErrInvalidJSON, err)
			return resp
		}
	}
	ent, c, e := m.consumerLookup(r)
	if e != nil {
		resp.Error = e
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	cfg := c.Config()
	until := req.PauseUntil.UTC()
	if until.IsZero() {
		cfg.PauseUntil = nil
	} else {
		cfg.PauseUntil = &until
	}
	cfg.Metadata = jsapi.StoredMetadata(cfg.Metadata, jsapi.ConsumerRequiredAPILevel(cfg))
	if err := m.persistConsumer(ent, cfg, c.Created()); err != nil {
		resp.Error = m.failed(jsapi.ErrConsumerStoreFailed, err)
		return resp
	}
	c.Update(cfg)
	resp.PauseUntil = until
	if d := time.Until(until); d > 0 {
		resp.Paused, resp.PauseRemaining = true, d
	}
	return resp
}

// consumerUnpin drops the pinned client of a priority group, so the next
// request without a pin id is pinned.
func (m *jsAccount) consumerUnpin(r *request) any {
	resp := &jsapi.ConsumerUnpinResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerUnpinResponse}}
	var req jsapi.ConsumerUnpinRequest
	if err := json.Unmarshal(r.data, &req); err != nil {
		resp.Error = jsapi.NewError(jsapi.ErrInvalidJSON, err)
		return resp
	}
	switch {
	case req.Group == "":
		resp.Error = jsapi.NewError(jsapi.ErrInvalidJSON, errors.New("consumer group not specified"))
		return resp
	case !consumer.ValidGroupName(req.Group):
		resp.Error = jsapi.NewError(jsapi.ErrConsumerInvalidGroupName)
		return resp
	}
	_, c, e := m.consumerLookup(r)
	if e != nil {
		resp.Error = e
		return resp
	}
	if err := c.Unpin(req.Group); err != nil {
		resp.Error = jsapi.NewError(jsapi.ErrConsumerInvalidPriorityGroup)
	}
	return resp
}
