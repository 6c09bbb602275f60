// Package subject implements NATS subjects: validation, wildcard matching and
// a subscription trie with a match cache.
//
// A subject is a string of tokens separated by '.'. In a subscription a token
// may be the wildcard "*" (exactly one token) or, as the last token only, ">"
// (one or more tokens). Wildcard characters inside a longer token ("foo*")
// are plain characters, as in nats-server.
package subject

import "strings"

const (
	sep = '.'
	pwc = '*'
	fwc = '>'
)

// isSpace reports the characters nats-server refuses anywhere in a subject.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// Valid reports whether s is a valid subscription subject: non-empty tokens,
// no whitespace, and ">" only as the last token.
func Valid(s string) bool {
	return check(s, true)
}

// ValidLiteral reports whether s is a valid publish subject: Valid and
// without wildcard tokens.
func ValidLiteral(s string) bool {
	return check(s, false)
}

func check(s string, wildcards bool) bool {
	if s == "" {
		return false
	}
	start := 0
	sawFWC := false
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if isSpace(c) {
				return false
			}
			if c != sep {
				continue
			}
		}
		// s[start:i] is a token.
		n := i - start
		if n == 0 || sawFWC {
			return false
		}
		if n == 1 {
			switch s[start] {
			case pwc:
				if !wildcards {
					return false
				}
			case fwc:
				if !wildcards {
					return false
				}
				sawFWC = true
			}
		}
		start = i + 1
	}
	return true
}

// HasWildcard reports whether s contains a "*" or ">" token.
func HasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != pwc && c != fwc {
			continue
		}
		if (i == 0 || s[i-1] == sep) && (i+1 == len(s) || s[i+1] == sep) {
			return true
		}
	}
	return false
}

// Matches reports whether the literal subject lit is matched by the
// subscription subject pattern.
func Matches(pattern, lit string) bool {
	for {
		var pt, lt string
		pi := strings.IndexByte(pattern, sep)
		li := strings.IndexByte(lit, sep)
		if pi < 0 {
			pt = pattern
		} else {
			pt = pattern[:pi]
		}
		if li < 0 {
			lt = lit
		} else {
			lt = lit[:li]
		}
		if lt == "" {
			return false
		}
		switch {
		case pt == ">":
			return true
		case pt == "*" || pt == lt:
		default:
			return false
		}
		if pi < 0 || li < 0 {
			return pi < 0 && li < 0
		}
		pattern, lit = pattern[pi+1:], lit[li+1:]
	}
}

// ValidQueue reports whether q is a usable queue group name: non-empty and
// without whitespace.
func ValidQueue(q string) bool {
	if q == "" {
		return false
	}
	for i := 0; i < len(q); i++ {
		if isSpace(q[i]) {
			return false
		}
	}
	return true
}
