package subject

import "testing"

func TestValid(t *testing.T) {
	tests := []struct {
		subj           string
		valid, literal bool
	}{
		{"foo", true, true},
		{"foo.bar.baz", true, true},
		{"foo.*", true, false},
		{"*", true, false},
		{">", true, false},
		{"foo.>", true, false},
		{"foo.*.bar.>", true, false},
		{"foo*", true, true}, // wildcard char inside a token is literal
		{"foo.b>r", true, true},
		{"$JS.API.INFO", true, true},
		{"_INBOX.abc.123", true, true},
		{"", false, false},
		{".", false, false},
		{"foo.", false, false},
		{".foo", false, false},
		{"foo..bar", false, false},
		{"foo.>.bar", false, false},
		{">.foo", false, false},
		{"foo bar", false, false},
		{"foo\tbar", false, false},
		{"foo\r\n", false, false},
		{"foo\fbar", false, false},
	}
	for _, tt := range tests {
		if got := Valid(tt.subj); got != tt.valid {
			t.Errorf("Valid(%q) = %v, want %v", tt.subj, got, tt.valid)
		}
		if got := ValidLiteral(tt.subj); got != tt.literal {
			t.Errorf("ValidLiteral(%q) = %v, want %v", tt.subj, got, tt.literal)
		}
	}
}

func TestHasWildcard(t *testing.T) {
	tests := map[string]bool{
		"foo": false, "foo*": false, "*foo": false, "a.b>": false,
		"*": true, ">": true, "foo.*": true, "*.foo": true, "a.*.b": true, "a.>": true,
	}
	for s, want := range tests {
		if got := HasWildcard(s); got != want {
			t.Errorf("HasWildcard(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		pattern, lit string
		want         bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo", "foo.bar", false},
		{"foo.bar", "foo", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.*", "foo", false},
		{"*", "foo", true},
		{"*", "foo.bar", false},
		{">", "foo", true},
		{">", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{"foo.>", "foo.bar", true},
		{"foo.>", "foo.bar.baz", true},
		{"*.bar.>", "foo.bar.baz", true},
		{"*.bar.>", "foo.baz.bar", false},
		{"foo.*.baz", "foo.bar.baz", true},
		{"foo.*.baz", "foo.bar.bar", false},
		{"foo*", "foo*", true},
		{"foo*", "foobar", false},
		{"foo.*", "foo.", false},
		{"foo.>", "foo..bar", false},
	}
	for _, tt := range tests {
		if got := Matches(tt.pattern, tt.lit); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.pattern, tt.lit, got, tt.want)
		}
	}
}

func TestValidQueue(t *testing.T) {
	for q, want := range map[string]bool{"workers": true, "a.b": true, "": false, "a b": false, "a\tb": false} {
		if got := ValidQueue(q); got != want {
			t.Errorf("ValidQueue(%q) = %v, want %v", q, got, want)
		}
	}
}
