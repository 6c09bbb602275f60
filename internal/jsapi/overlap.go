package jsapi

import (
	"strings"

	"github.com/starling-mq/starling/internal/subject"
)

// Collide reports whether some literal subject matches both a and b,
// either of which may hold wildcards (nats-server's SubjectsCollide):
// "a.*" and "*.b" collide, "a.>" and "a" do not ('>' needs a token).
func Collide(a, b string) bool {
	if a == b {
		return true
	}
	switch wa, wb := subject.HasWildcard(a), subject.HasWildcard(b); {
	case !wa && !wb:
		return false
	case !wa:
		return subject.Matches(b, a)
	case !wb:
		return subject.Matches(a, b)
	}
	// Both have wildcards: walk the tokens until one side's run out.
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		if i == len(ta) || i == len(tb) {
			return len(ta) == len(tb)
		}
		x, y := ta[i], tb[i]
		if x == ">" || y == ">" {
			return true
		}
		if x != y && x != "*" && y != "*" {
			return false
		}
	}
}

// SubsetOf reports whether every subject sub matches is matched by super
// (nats-server's subjectIsSubsetMatch): "a.b" and "a.*" are subsets of
// "a.*", "a.>" is not.
func SubsetOf(sub, super string) bool {
	ts, tp := strings.Split(sub, "."), strings.Split(super, ".")
	for i, p := range tp {
		if i >= len(ts) || p == "" {
			return false
		}
		if p == ">" {
			return true
		}
		s := ts[i]
		switch {
		case s == "" || s == ">":
			return false
		case s == "*":
			if p != "*" {
				return false
			}
		case p != "*" && p != s:
			return false
		}
	}
	return len(ts) == len(tp)
}

// SubjectsOverlap reports whether any subject of a collides with any of b:
// two streams may not capture the same subject, and a consumer's filter
// must overlap its stream's subjects.
func SubjectsOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if Collide(x, y) {
				return true
			}
		}
	}
	return false
}
