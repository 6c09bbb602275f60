package subject

import "strings"

// write appends what destination token d makes of the subject's tokens,
// reporting false when it would be an empty token. The cases follow
// nats-server: a position or size outside the token leaves it whole.
func (d destToken) write(b *strings.Builder, toks []string) bool {
	if d.fn == fnLiteral {
		b.WriteString(d.str)
		return true
	}
	if d.fn == fnPartition {
		b.WriteString(partition(toks, d.pos, d.n))
		return true
	}
	tok := toks[d.pos[0]]
	n := d.n
	inside := n > 0 && n < len(tok)
	var out string
	switch {
	case d.fn == fnWildcard || !inside && d.fn != fnSplit:
		b.WriteString(tok)
		return true
	case d.fn == fnSplitFromLeft: // "abcdef", 2 -> "ab.cdef"
		out = tok[:n] + "." + tok[n:]
	case d.fn == fnSplitFromRight: // "abcdef", 2 -> "abcd.ef"
		out = tok[:len(tok)-n] + "." + tok[len(tok)-n:]
	case d.fn == fnSliceFromLeft: // "abcdefg", 3 -> "abc.def.g"
		out = sliceFrom(tok, n, 0)
	case d.fn == fnSliceFromRight: // "abcdefg", 3 -> "a.bcd.efg"
		out = sliceFrom(tok, n, len(tok)%n)
	case d.fn == fnLeft: // "abcdef", 2 -> "ab"
		out = tok[:n]
	case d.fn == fnRight: // "abcdef", 2 -> "ef"
		out = tok[len(tok)-n:]
	case d.fn == fnSplit:
		var sb strings.Builder
		if !splitToken(&sb, tok, d.str) {
			return false
		}
		out = sb.String()
	}
	// Cutting a literal token can leave a piece that is a wildcard ("a.>0"
	// cut after '>'): such a subject could not be published.
	if !cutValid(out) {
		return false
	}
	b.WriteString(out)
	return true
}

// cutValid reports whether no '.'-separated piece of s is a wildcard.
func cutValid(s string) bool {
	for _, p := range strings.Split(s, ".") {
		if p == "*" || p == ">" {
			return false
		}
	}
	return true
}

// sliceFrom cuts tok into pieces of size n, the first piece being
// tok[:first] when first is not zero, the last whatever is left.
func sliceFrom(tok string, n, first int) string {
	var parts []string
	if first > 0 {
		parts = append(parts, tok[:first])
	}
	for i := first; i < len(tok); i += n {
		parts = append(parts, tok[i:min(i+n, len(tok))])
	}
	return strings.Join(parts, ".")
}

// splitToken writes tok's non-empty pieces between delim, joined by '.'.
// An empty delimiter splits between every UTF-8 character, as
// strings.Split does in nats-server. nats-server leaves an empty first
// token when tok starts with two delimiters ("--a" -> ".a"), an invalid
// subject no one can receive; Starling drops it ("a"). A token with no
// piece at all would be an empty token: reported as false.
func splitToken(b *strings.Builder, tok, delim string) bool {
	wrote := false
	for _, part := range strings.Split(tok, delim) {
		if part == "" {
			continue
		}
		if wrote {
			b.WriteByte('.')
		}
		b.WriteString(part)
		wrote = true
	}
	return wrote
}
