package auth

import (
	"fmt"
	"testing"
	"time"
)

// clock is a manual clock for response grants.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1_700_000_000, 0)} }
func responder(p *Permissions) (*Checker, *clock) {
	c, clk := NewChecker(p), newClock()
	c.SetClock(clk.now)
	return c, clk
}

// step is one scripted event against a Checker: deliver a request with a
// reply subject, publish to a subject, or let time pass.
type step struct {
	deliver string
	publish string
	want    bool // for publish
	wait    time.Duration
}

func run(t *testing.T, c *Checker, clk *clock, steps []step) {
	t.Helper()
	for i, s := range steps {
		switch {
		case s.deliver != "":
			c.AddResponse(s.deliver)
		case s.publish != "":
			if got := c.CanPublish(s.publish); got != s.want {
				t.Fatalf("step %d: CanPublish(%q) = %v, want %v", i, s.publish, got, s.want)
			}
		default:
			clk.advance(s.wait)
		}
	}
}

func TestResponses(t *testing.T) {
	tests := []struct {
		name  string
		perms *Permissions
		steps []step
	}{
		{"defaults: one response", &Permissions{Response: &ResponsePermission{}}, []step{
			{publish: "_INBOX.a", want: false},
			{deliver: "_INBOX.a"},
			{publish: "_INBOX.b", want: false},
			{publish: "_INBOX.a", want: true},
			{publish: "_INBOX.a", want: false},
			{publish: "other", want: false}, // publishing is otherwise closed
		}},
		{"defaults: two minutes", &Permissions{Response: &ResponsePermission{}}, []step{
			{deliver: "r1"},
			{wait: 2 * time.Minute},
			{publish: "r1", want: true}, // at exactly the ttl it still holds
			{deliver: "r2"},
			{wait: 2*time.Minute + time.Nanosecond},
			{publish: "r2", want: false},
		}},
		{"max messages", &Permissions{Response: &ResponsePermission{MaxMsgs: 3}}, []step{
			{deliver: "r"},
			{publish: "r", want: true},
			{publish: "r", want: true},
			{publish: "r", want: true},
			{publish: "r", want: false},
		}},
		{"unlimited", &Permissions{Response: &ResponsePermission{MaxMsgs: -1, Expires: -1}}, []step{
			{deliver: "r"},
			{publish: "r", want: true},
			{wait: 24 * time.Hour},
			{publish: "r", want: true},
			{publish: "r", want: true},
		}},
		{"redelivery renews", &Permissions{Response: &ResponsePermission{MaxMsgs: 1, Expires: time.Minute}}, []step{
			{deliver: "r"},
			{publish: "r", want: true},
			{deliver: "r"},
			{wait: 50 * time.Second},
			{deliver: "r"},
			{wait: 50 * time.Second},
			{publish: "r", want: true},
		}},
		{"expiry only after the ttl", &Permissions{Response: &ResponsePermission{MaxMsgs: 5, Expires: time.Second}}, []step{
			{deliver: "r"},
			{publish: "r", want: true},
			{wait: 2 * time.Second},
			{publish: "r", want: false},
		}},
		{"allow list still applies", &Permissions{
			Publish:  &SubjectPermission{Allow: []string{"svc.>"}},
			Response: &ResponsePermission{},
		}, []step{
			{publish: "svc.x", want: true},
			{publish: "svc.x", want: true}, // statically allowed: no grant spent
			{publish: "other", want: false},
			{deliver: "svc.x"},
			{publish: "svc.x", want: true},
			{publish: "svc.x", want: true},
		}},
		{"a grant overrides a deny", &Permissions{
			Publish:  &SubjectPermission{Deny: []string{"_INBOX.>"}},
			Response: &ResponsePermission{},
		}, []step{
			{publish: "_INBOX.x", want: false},
			{deliver: "_INBOX.x"},
			{publish: "_INBOX.x", want: true},
			{publish: "_INBOX.x", want: false},
		}},
		{"without allow_responses nothing is granted", pub([]string{"svc"}, nil), []step{
			{deliver: "r"},
			{publish: "r", want: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := responder(tt.perms)
			run(t, c, clk, tt.steps)
		})
	}
}

func TestResponsesNotTrackedWhenAllowed(t *testing.T) {
	c, _ := responder(&Permissions{
		Publish:  &SubjectPermission{Allow: []string{"_INBOX.>"}},
		Response: &ResponsePermission{},
	})
	c.CanPublish("_INBOX.cached") // decided from the cache on delivery
	c.AddResponse("_INBOX.cached")
	c.AddResponse("_INBOX.fresh")
	c.AddResponse("")
	if n := c.grants.len(); n != 0 {
		t.Fatalf("%d grants tracked for subjects already allowed", n)
	}
}

func TestResponsesBounded(t *testing.T) {
	c, clk := responder(&Permissions{Response: &ResponsePermission{MaxMsgs: 1, Expires: time.Minute}})
	c.grants.max = 4
	for i := range 6 {
		c.AddResponse(fmt.Sprintf("r%d", i))
		clk.advance(time.Second)
	}
	if n := c.grants.len(); n != 4 {
		t.Fatalf("tracking %d grants, cap 4", n)
	}
	// The oldest were evicted.
	run(t, c, clk, []step{
		{publish: "r0", want: false},
		{publish: "r1", want: false},
		{publish: "r2", want: true},
		{publish: "r5", want: true},
	})
	// Adding after the ttl first drops what has expired.
	clk.advance(2 * time.Minute)
	c.AddResponse("late")
	if n := c.grants.len(); n != 1 {
		t.Fatalf("tracking %d grants after expiry, want 1", n)
	}
}

func TestResponsesDefaultCap(t *testing.T) {
	c, _ := responder(&Permissions{Response: &ResponsePermission{Expires: -1}})
	for i := range maxGrants + 100 {
		c.AddResponse(fmt.Sprintf("r.%d", i))
	}
	if n := c.grants.len(); n != maxGrants {
		t.Fatalf("tracking %d grants, cap %d", n, maxGrants)
	}
}

// The grant list stays consistent with the map through every operation.
func TestGrantListConsistent(t *testing.T) {
	g := grants{max: 3}
	now := time.Unix(0, 0)
	rp := &ResponsePermission{MaxMsgs: 1, Expires: time.Hour}
	for i, op := range []string{"a", "b", "a", "c", "d", "-b", "-d", "e", "-a"} {
		if op[0] == '-' {
			g.use(op[1:], func() time.Time { return now }, rp)
		} else {
			g.add(op, now, rp.Expires)
		}
		now = now.Add(time.Second)
		n := 0
		for r, prev := g.head, (*grant)(nil); r != nil; prev, r = r, r.next {
			if r.prev != prev || g.byReply[r.reply] != r {
				t.Fatalf("op %d: list broken at %q", i, r.reply)
			}
			n++
		}
		if n != g.len() {
			t.Fatalf("op %d: list has %d grants, map %d", i, n, g.len())
		}
	}
}
