package options

import (
	"strings"
)

// The subject relations nats-server's account checks use, on patterns
// that may both hold wildcards. They are only needed to validate imports
// here; the engine's matching lives in internal/subject.

// isSubsetMatch reports whether every subject sub matches is also matched
// by test: "foo.*" is a subset of ">", "*.*" and "foo.*", not of "foo.bar".
func isSubsetMatch(sub, test string) bool {
	toks, tests := strings.Split(sub, "."), strings.Split(test, ".")
	for i, t2 := range tests {
		if i >= len(toks) || t2 == "" {
			return false
		}
		if t2 == ">" {
			return true
		}
		t1 := toks[i]
		switch {
		case t1 == "" || t1 == ">":
			return false
		case t1 == "*":
			if t2 != "*" {
				return false
			}
		case t2 != "*" && t1 != t2:
			return false
		}
	}
	return len(toks) == len(tests)
}

// subjectsCollide reports whether some literal subject matches both a and
// b.
func subjectsCollide(a, b string) bool {
	if a == b {
		return true
	}
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	pwcA, fwcA := wildcards(ta)
	pwcB, fwcB := wildcards(tb)
	litA, litB := !pwcA && !fwcA, !pwcB && !fwcB
	switch {
	case litA && litB:
		return false // a != b
	case litA:
		return isSubsetMatch(a, b)
	case litB:
		return isSubsetMatch(b, a)
	}
	if len(ta) < len(tb) && !fwcA || len(tb) < len(ta) && !fwcB {
		return false
	}
	for i := range min(len(ta), len(tb)) {
		x, y := ta[i], tb[i]
		if x != y && x != "*" && y != "*" && x != ">" && y != ">" {
			return false
		}
	}
	return true
}

func wildcards(toks []string) (pwc, fwc bool) {
	for i, t := range toks {
		switch {
		case t == "*":
			pwc = true
		case t == ">" && i == len(toks)-1:
			fwc = true
		}
	}
	return pwc, fwc
}

// untokenize turns the wildcard references of a mapped subject ("$1",
// "{{wildcard(1)}}") back into "*", the pattern they stand for.
func untokenize(s string) string {
	toks := strings.Split(s, ".")
	for i, t := range toks {
		if len(t) > 1 && t[0] == '$' && t[1] >= '1' && t[1] <= '9' || isWildcardFunc(t) {
			toks[i] = "*"
		}
	}
	return strings.Join(toks, ".")
}

func isWildcardFunc(t string) bool {
	if !strings.HasPrefix(t, "{{") || !strings.HasSuffix(t, "}}") {
		return false
	}
	fn := strings.TrimSpace(t[2 : len(t)-2])
	name, arg, ok := strings.Cut(fn, "(")
	return ok && strings.EqualFold(strings.TrimSpace(name), "wildcard") &&
		strings.HasSuffix(arg, ")") && strings.TrimSpace(strings.TrimSuffix(arg, ")")) != ""
}
