package auth

import (
	"fmt"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/subject"
)

// Defaults for allow_responses given as true, or with a zero max or ttl.
const (
	DefaultResponseMaxMsgs = 1
	DefaultResponseExpires = 2 * time.Minute
)

// SubjectPermission lists subjects allowed and denied; deny wins over allow.
//
// A nil Allow places no restriction. For publishing, a non-nil empty Allow
// allows nothing (this is how allow_responses alone limits a user to
// replies); for subscribing an empty Allow is the same as nil, as in
// nats-server. Subscribe entries may name a queue group after the subject,
// "orders.* workers", and then apply only to queue subscriptions in a
// matching group.
type SubjectPermission struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// ResponsePermission is allow_responses: a connection that receives a
// request may publish to its reply subject MaxMsgs times within Expires,
// even where its publish permissions would refuse it. Zero values mean the
// defaults; negative values mean no limit.
type ResponsePermission struct {
	MaxMsgs int           `json:"max"`
	Expires time.Duration `json:"ttl"`
}

// Permissions are what one user may publish and subscribe to.
type Permissions struct {
	Publish   *SubjectPermission  `json:"publish"`
	Subscribe *SubjectPermission  `json:"subscribe"`
	Response  *ResponsePermission `json:"responses,omitempty"`
}

// Validate checks that every entry is a valid subject (wildcards allowed),
// and for subscribe entries optionally a subject and a queue group.
func (p *Permissions) Validate() error {
	if p == nil {
		return nil
	}
	if pp := p.Publish; pp != nil {
		if err := validList("publish allow", pp.Allow, false); err != nil {
			return err
		}
		if err := validList("publish deny", pp.Deny, false); err != nil {
			return err
		}
	}
	if sp := p.Subscribe; sp != nil {
		if err := validList("subscribe allow", sp.Allow, true); err != nil {
			return err
		}
		if err := validList("subscribe deny", sp.Deny, true); err != nil {
			return err
		}
	}
	return nil
}

func validList(what string, list []string, queues bool) error {
	for _, s := range list {
		if subject.Valid(s) {
			continue
		}
		if queues {
			if _, ok := parseEntry(s); ok {
				continue
			}
			return fmt.Errorf("%s: %q is neither a subject nor a subject and queue", what, s)
		}
		return fmt.Errorf("%s: %q is not a valid subject", what, s)
	}
	return nil
}

// effective returns a deep copy of p with nats-server's allow_responses
// rules applied: zero limits become the defaults, and unless the user has
// a publish allow list of its own, publishing is limited to replies.
func (p *Permissions) effective() *Permissions {
	if p == nil {
		return nil
	}
	c := &Permissions{Publish: p.Publish.clone(), Subscribe: p.Subscribe.clone()}
	if p.Response == nil {
		return c
	}
	r := *p.Response
	if r.MaxMsgs == 0 {
		r.MaxMsgs = DefaultResponseMaxMsgs
	}
	if r.Expires == 0 {
		r.Expires = DefaultResponseExpires
	}
	c.Response = &r
	if c.Publish == nil {
		c.Publish = &SubjectPermission{}
	}
	if c.Publish.Allow == nil {
		c.Publish.Allow = []string{}
	}
	return c
}

func (sp *SubjectPermission) clone() *SubjectPermission {
	if sp == nil {
		return nil
	}
	// slices.Clone keeps nil as nil and empty as empty, which matters for
	// Publish.Allow.
	return &SubjectPermission{Allow: slices.Clone(sp.Allow), Deny: slices.Clone(sp.Deny)}
}

// PublishViolation is the -ERR text for a refused publish.
func PublishViolation(subj string) string {
	return fmt.Sprintf("Permissions Violation for Publish to %q", subj)
}

// SubscribeViolation is the -ERR text for a refused subscription; queue is
// empty for a plain subscription.
func SubscribeViolation(subj, queue string) string {
	if queue == "" {
		return fmt.Sprintf("Permissions Violation for Subscription to %q", subj)
	}
	return fmt.Sprintf("Permissions Violation for Subscription to %q using queue %q", subj, queue)
}
