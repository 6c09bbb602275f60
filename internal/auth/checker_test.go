package auth

import (
	"fmt"
	"testing"
	"unsafe"
)

func pub(allow, deny []string) *Permissions {
	return &Permissions{Publish: &SubjectPermission{Allow: allow, Deny: deny}}
}

func sub(allow, deny []string) *Permissions {
	return &Permissions{Subscribe: &SubjectPermission{Allow: allow, Deny: deny}}
}

func TestCanPublish(t *testing.T) {
	tests := []struct {
		name    string
		perms   *Permissions
		allowed []string
		denied  []string
	}{
		{"nil permissions", nil, []string{"foo", "a.b.c"}, nil},
		{"no publish section", sub([]string{"x"}, nil), []string{"foo"}, nil},
		{"allow literal", pub([]string{"foo"}, nil), []string{"foo"}, []string{"bar", "foo.bar"}},
		{"allow pwc", pub([]string{"foo.*"}, nil), []string{"foo.bar"}, []string{"foo", "foo.bar.baz"}},
		{"allow fwc", pub([]string{"foo.>"}, nil), []string{"foo.bar", "foo.bar.baz"}, []string{"foo", "bar"}},
		{"allow everything", pub([]string{">"}, nil), []string{"a", "a.b"}, nil},
		{"empty allow denies all", pub([]string{}, nil), nil, []string{"foo", "a.b"}},
		{"deny only", pub(nil, []string{"secret.>"}), []string{"foo", "secret"}, []string{"secret.x", "secret.x.y"}},
		{"deny overrides allow", pub([]string{"foo.>"}, []string{"foo.bar"}),
			[]string{"foo.baz", "foo.bar.baz"}, []string{"foo.bar", "other"}},
		{"deny wildcard inside allow", pub([]string{">"}, []string{"*.secret"}),
			[]string{"a.public", "secret"}, []string{"a.secret", "b.secret"}},
		{"several allows", pub([]string{"a", "b.*"}, nil), []string{"a", "b.x"}, []string{"c", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(tt.perms)
			// Twice, so the second pass is answered from the cache.
			for range 2 {
				for _, s := range tt.allowed {
					if !c.CanPublish(s) {
						t.Errorf("CanPublish(%q) = false, want true", s)
					}
				}
				for _, s := range tt.denied {
					if c.CanPublish(s) {
						t.Errorf("CanPublish(%q) = true, want false", s)
					}
				}
			}
		})
	}
}

type subCase struct {
	subject, queue string
	want           bool
}

func TestCanSubscribe(t *testing.T) {
	tests := []struct {
		name  string
		perms *Permissions
		cases []subCase
	}{
		{"nil permissions", nil, []subCase{
			{">", "", true}, {"foo", "q", true},
			{"foo", "_sys_", false}, // reserved for the server whatever the permissions
		}},
		{"empty allow list restricts nothing", sub([]string{}, nil), []subCase{{"foo", "", true}}},
		{"allow literal", sub([]string{"foo"}, nil), []subCase{
			{"foo", "", true}, {"foo", "any", true}, {"bar", "", false}, {"*", "", false}, {">", "", false},
		}},
		{"allow fwc", sub([]string{"foo.>"}, nil), []subCase{
			{"foo.bar", "", true}, {"foo.*", "", true}, {"foo.>", "", true}, {"foo.*.baz", "", true},
			{"foo", "", false}, {">", "", false}, {"*.bar", "", false},
		}},
		{"allow pwc", sub([]string{"foo.*"}, nil), []subCase{
			{"foo.bar", "", true}, {"foo.*", "", true},
			{"foo.>", "", false}, // would receive foo.a.b, which foo.* does not allow
			{"foo.bar.baz", "", false},
		}},
		{"allow queue only", sub([]string{"foo v1"}, nil), []subCase{
			{"foo", "v1", true}, {"foo", "v2", false}, {"foo", "", false},
		}},
		{"allow plain and queue", sub([]string{"foo", "foo v1"}, nil), []subCase{
			{"foo", "", true}, {"foo", "v1", true},
			{"foo", "v2", false}, // a queue entry for the subject limits the groups
		}},
		{"queue entry elsewhere leaves plain groups free", sub([]string{"foo", "bar v1"}, nil), []subCase{
			{"foo", "v2", true}, {"bar", "v1", true}, {"bar", "v2", false},
		}},
		{"wildcard queue", sub([]string{"orders.* workers.*"}, nil), []subCase{
			{"orders.new", "workers.eu", true}, {"orders.*", "workers.eu", true},
			{"orders.new", "workers.*", true}, {"orders.new", "workers", false},
			{"orders.new", "", false},
		}},
		{"deny literal", sub(nil, []string{"foo.bar"}), []subCase{
			{"foo.bar", "", false}, {"foo.bar", "q", false}, {"foo.baz", "", true},
			{"foo.*", "", true}, // allowed; filtered at delivery
			{">", "", true},
		}},
		{"deny wildcard", sub(nil, []string{"foo.*"}), []subCase{
			{"foo.bar", "", false}, {"foo.*", "", false},
			{"foo.>", "", false}, // nats-server reads the ">" token literally: "*" matches it
			{"foo.bar.baz", "", true}, {"*.bar", "", true},
		}},
		{"deny fwc", sub(nil, []string{"foo.>"}), []subCase{
			{"foo.bar", "", false}, {"foo.*", "", false}, {"foo.>", "", false}, {"foo", "", true}, {">", "", true},
		}},
		{"deny overrides allow", sub([]string{"foo.>"}, []string{"foo.secret"}), []subCase{
			{"foo.public", "", true}, {"foo.secret", "", false}, {"foo.secret", "q", false},
		}},
		{"deny queue", sub(nil, []string{"foo v1"}), []subCase{
			{"foo", "", true}, {"foo", "v1", false}, {"foo", "v2", true}, {"foo.*", "v1", true},
		}},
		{"deny wildcard queue", sub(nil, []string{"foo work.*"}), []subCase{
			{"foo", "work.eu", false}, {"foo", "work", true}, {"foo", "", true},
		}},
		{"deny plain wins over queue allow", sub([]string{"foo v1"}, []string{"foo"}), []subCase{
			{"foo", "v1", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(tt.perms)
			for _, sc := range tt.cases {
				if got := c.CanSubscribe(sc.subject, sc.queue); got != sc.want {
					t.Errorf("CanSubscribe(%q, %q) = %v, want %v", sc.subject, sc.queue, got, sc.want)
				}
			}
		})
	}
}

func TestDeliverAllowed(t *testing.T) {
	type delivery struct {
		subject, queue string
		want           bool
	}
	tests := []struct {
		name       string
		perms      *Permissions
		subscribe  []subCase // made first; want is whether CanSubscribe accepts
		deliveries []delivery
	}{
		{"no overlapping subscription yet", sub(nil, []string{"foo.bar"}),
			[]subCase{{"foo.baz", "", true}},
			// No subscription can receive foo.bar, so nothing is checked.
			[]delivery{{"foo.baz", "", true}}},
		{"wildcard over a deny", sub(nil, []string{"foo.bar"}),
			[]subCase{{"foo.*", "", true}},
			[]delivery{{"foo.bar", "", false}, {"foo.baz", "", true}, {"foo.bar", "q", false}}},
		{"fwc over a wildcard deny", sub([]string{">"}, []string{"*.secret"}),
			[]subCase{{">", "", true}},
			[]delivery{{"a.secret", "", false}, {"a.public", "", true}, {"secret", "", true}}},
		{"queue scoped deny", sub([]string{">"}, []string{"admin.secret workers"}),
			[]subCase{{"admin.*", "workers", true}, {"admin.*", "auditors", true}, {"admin.*", "", true}},
			[]delivery{
				{"admin.secret", "workers", false},
				{"admin.secret", "auditors", true},
				{"admin.secret", "", true},
				{"admin.other", "workers", true},
			}},
		{"wildcard queue scoped deny", sub(nil, []string{"admin.secret work.*"}),
			[]subCase{{"admin.*", "work.prod", true}},
			[]delivery{{"admin.secret", "work.prod", false}, {"admin.secret", "audit.prod", true}}},
		{"no deny list", sub([]string{"foo.>"}, nil),
			[]subCase{{"foo.*", "", true}},
			[]delivery{{"foo.bar", "", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(tt.perms)
			for _, s := range tt.subscribe {
				if got := c.CanSubscribe(s.subject, s.queue); got != s.want {
					t.Fatalf("CanSubscribe(%q, %q) = %v, want %v", s.subject, s.queue, got, s.want)
				}
			}
			for range 2 { // second pass from the cache
				for _, d := range tt.deliveries {
					if got := c.DeliverAllowed(d.subject, d.queue); got != d.want {
						t.Errorf("DeliverAllowed(%q, %q) = %v, want %v", d.subject, d.queue, got, d.want)
					}
				}
			}
		})
	}
}

func TestNilChecker(t *testing.T) {
	var c *Checker
	if NewChecker(nil) != nil {
		t.Fatal("NewChecker(nil) is not nil")
	}
	c.AddResponse("r")
	c.SetClock(nil)
	if !c.CanPublish("x") || !c.CanSubscribe(">", "q") || !c.DeliverAllowed("x", "") {
		t.Fatal("nil Checker refused something")
	}
}

// Invalid entries reach NewChecker only if Validate was skipped; they must
// never give more access than the valid entries would.
func TestInvalidEntriesFailClosed(t *testing.T) {
	tests := []struct {
		name  string
		perms *Permissions
		check func(c *Checker) bool // true when the refusal holds
	}{
		{"bad publish allow", pub([]string{"foo bar"}, nil), func(c *Checker) bool { return !c.CanPublish("foo") }},
		{"publish deny with queue", pub(nil, []string{"secret q"}), func(c *Checker) bool { return !c.CanPublish("secret") }},
		{"bad subscribe allow", sub([]string{"a b c"}, nil), func(c *Checker) bool { return !c.CanSubscribe("a", "") }},
		{"bad subscribe deny", sub(nil, []string{"secret x y"}), func(c *Checker) bool { return !c.CanSubscribe("secret", "") }},
	}
	for _, tt := range tests {
		if !tt.check(NewChecker(tt.perms)) {
			t.Errorf("%s: access granted", tt.name)
		}
	}
}

// The caller's subject may live in a read buffer that is reused; cached
// keys must not change with it.
func TestCacheKeysAreCopied(t *testing.T) {
	c := NewChecker(pub([]string{"ok"}, nil))
	buf := []byte("ok")
	alias := unsafe.String(&buf[0], len(buf))
	if !c.CanPublish(alias) {
		t.Fatal("ok refused")
	}
	copy(buf, "no")
	if c.CanPublish("no") {
		t.Fatal(`"no" allowed: the cache kept the caller's buffer`)
	}
	if !c.CanPublish("ok") {
		t.Fatal("ok refused after buffer reuse")
	}
}

func TestCachesAreBounded(t *testing.T) {
	c := NewChecker(&Permissions{
		Publish:   &SubjectPermission{Allow: []string{"a.>"}},
		Subscribe: &SubjectPermission{Deny: []string{"a.secret"}},
	})
	c.CanSubscribe("a.*", "")
	for i := range 10 * pubCacheSize {
		c.CanPublish(fmt.Sprintf("a.%d", i))
		c.DeliverAllowed(fmt.Sprintf("a.%d", i), "")
	}
	if n := len(c.pubCache); n > pubCacheSize {
		t.Errorf("publish cache holds %d, cap %d", n, pubCacheSize)
	}
	if n := len(c.denyCache); n > denyCacheSize {
		t.Errorf("deny cache holds %d, cap %d", n, denyCacheSize)
	}
	if !c.CanPublish("a.1") || c.DeliverAllowed("a.secret", "") {
		t.Error("decisions changed after eviction")
	}
}

func TestCanPublishCachedDoesNotAllocate(t *testing.T) {
	c := NewChecker(pub([]string{"foo.>"}, []string{"foo.secret"}))
	c.CanPublish("foo.bar")
	if n := testing.AllocsPerRun(100, func() { c.CanPublish("foo.bar") }); n != 0 {
		t.Fatalf("CanPublish allocates %v times per call", n)
	}
}

func BenchmarkCanPublishCached(b *testing.B) {
	c := NewChecker(pub([]string{"orders.>", "events.*"}, []string{"orders.secret"}))
	c.CanPublish("orders.new")
	b.ReportAllocs()
	for b.Loop() {
		c.CanPublish("orders.new")
	}
}

func BenchmarkDeliverAllowedCached(b *testing.B) {
	c := NewChecker(sub(nil, []string{"orders.secret"}))
	c.CanSubscribe("orders.*", "")
	c.DeliverAllowed("orders.new", "")
	b.ReportAllocs()
	for b.Loop() {
		c.DeliverAllowed("orders.new", "")
	}
}
