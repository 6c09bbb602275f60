package auth

import "testing"

func TestCovers(t *testing.T) {
	tests := []struct {
		pattern, sub string
		want         bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "foo.bar", false},
		{"foo.bar", "foo", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo.*", true},
		{"foo.*", "foo.>", false}, // nats-server's trie says yes; see Checker.CanSubscribe
		{"foo.*", "foo.bar.baz", false},
		{"foo.>", "foo.bar", true},
		{"foo.>", "foo.*", true},
		{"foo.>", "foo.>", true},
		{"foo.>", "foo.*.baz", true},
		{"foo.>", "foo", false},
		{"foo.>", ">", false},
		{">", ">", true},
		{">", "*", true},
		{">", "a.b.c", true},
		{"*", ">", false},
		{"*.bar", "foo.bar", true},
		{"*.bar", "*.bar", true},
		{"foo.bar", "foo.*", false},
		{"*.*", "foo.*", true},
		{"v1.*", "v1..x", false}, // empty tokens match nothing
		{"a*", "ab", false},      // wildcard only as a whole token
	}
	for _, tt := range tests {
		if got := covers(tt.pattern, tt.sub); got != tt.want {
			t.Errorf("covers(%q, %q) = %v, want %v", tt.pattern, tt.sub, got, tt.want)
		}
	}
}

func TestCollide(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"foo.bar", "foo.bar", true},
		{"foo.bar", "foo.baz", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "*.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.>", "foo", false},
		{"foo.>", "foo.bar.baz", true},
		{">", "anything.at.all", true},
		{"foo.*.baz", "*.bar.>", true},
		{"foo.*", "bar.*", false},
		{"a.*", "a.*.c", false},
	}
	for _, tt := range tests {
		if got := collide(tt.a, tt.b); got != tt.want {
			t.Errorf("collide(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := collide(tt.b, tt.a); got != tt.want {
			t.Errorf("collide(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestQueueMatches(t *testing.T) {
	tests := []struct {
		pattern, queue string
		want           bool
	}{
		{"v1", "v1", true},
		{"v1", "v2", false},
		{"v1.*", "v1.a", true},
		{"v1.*", "v1.*", true}, // a literal name equal to the entry
		{"v1.*", "v1.a.b", false},
		{"v1.>", "v1.a.b", true},
		{"v1.>", "v1.*", true},
		{"v1.*", "v1.>", false},
		{"v1", "v1.a", false},
	}
	for _, tt := range tests {
		if got := queueMatches(tt.pattern, tt.queue); got != tt.want {
			t.Errorf("queueMatches(%q, %q) = %v, want %v", tt.pattern, tt.queue, got, tt.want)
		}
	}
}

func TestParseEntry(t *testing.T) {
	tests := []struct {
		in   string
		want entry
		ok   bool
	}{
		{"foo.>", entry{subject: "foo.>"}, true},
		{"foo v1", entry{"foo", "v1"}, true},
		{"foo.*  v1.*", entry{"foo.*", "v1.*"}, true},
		{"foo\tv1", entry{"foo", "v1"}, true},
		{"foo v1 v2", entry{}, false},
		{"foo ..", entry{}, false},
		{"foo..bar v1", entry{}, false},
		{"", entry{}, false},
		{" ", entry{}, false},
	}
	for _, tt := range tests {
		got, ok := parseEntry(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseEntry(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
