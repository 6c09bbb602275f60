package auth

import (
	"strings"

	"github.com/starling-mq/starling/internal/subject"
)

// nextToken splits s at its first '.', reporting whether more tokens follow.
func nextToken(s string) (tok, rest string, more bool) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// covers reports whether every literal subject matched by sub is also
// matched by pattern; both may hold wildcards. "foo.>" covers "foo.*" and
// "foo.bar.>", "foo.*" covers "foo.bar" but not "foo.>", and nothing but ">"
// tokens cover a ">" token.
func covers(pattern, sub string) bool {
	for {
		pt, prest, pmore := nextToken(pattern)
		st, srest, smore := nextToken(sub)
		if st == "" || pt == "" {
			return false
		}
		if pt == ">" {
			return true
		}
		switch {
		case st == ">":
			return false
		case pt == "*":
		case st != pt:
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, sub = prest, srest
	}
}

// collide reports whether some literal subject is matched by both a and b.
func collide(a, b string) bool {
	for {
		at, arest, amore := nextToken(a)
		bt, brest, bmore := nextToken(b)
		if at == ">" || bt == ">" {
			return true
		}
		if at != "*" && bt != "*" && at != bt {
			return false
		}
		if !amore || !bmore {
			return amore == bmore
		}
		a, b = arest, brest
	}
}

// queueMatches reports whether a client's queue group name is granted by a
// permission entry's queue. The entry's queue may use wildcards, which match
// the client's name token by token; a literal entry must be equal, which also
// lets a client use a name such as "v1.*" that an entry spells exactly.
func queueMatches(pattern, queue string) bool {
	return queue == pattern || (subject.HasWildcard(pattern) && covers(pattern, queue))
}

// entry is one subscribe permission: a subject, optionally qualified by a
// queue group ("foo v1").
type entry struct {
	subject, queue string
}

// parseEntry splits a subscribe permission into subject and queue. Any run
// of whitespace separates them, as in nats-server.
func parseEntry(s string) (entry, bool) {
	if subject.Valid(s) {
		return entry{subject: s}, true
	}
	f := strings.Fields(s)
	if len(f) != 2 || !subject.Valid(f[0]) || !subject.Valid(f[1]) {
		return entry{}, false
	}
	return entry{subject: f[0], queue: f[1]}, true
}
