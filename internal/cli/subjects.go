package cli

import (
	"strings"

	"github.com/starling-mq/starling/internal/subject"
)

// Subjects and queue names are checked before connecting, with the
// server's own rules (internal/subject), so a mistake gets a sentence
// saying what is wrong instead of a server closing the connection or, for
// a wildcard publish, a message no subscriber can ever match.

// checkSubject returns a usage error explaining why s cannot be used as
// what ("subject", "--reply subject", ...); literal forbids wildcards,
// as for anything that is published to.
func checkSubject(what, s string, literal bool) error {
	ok := subject.Valid(s)
	if literal {
		ok = subject.ValidLiteral(s)
	}
	if ok {
		return nil
	}
	return usageErrorf("invalid %s %q: %s", what, s, subjectProblem(s, literal))
}

// subjectProblem says what makes s invalid, in the order a reader would
// look for it.
func subjectProblem(s string, literal bool) string {
	if s == "" {
		return "it is empty"
	}
	if strings.ContainsAny(s, " \t\r\n\f") {
		return "subjects cannot contain spaces or other whitespace"
	}
	tokens := strings.Split(s, ".")
	for i, tok := range tokens {
		switch {
		case tok == "":
			return "it has an empty token (a '.' at the start or end, or two in a row)"
		case literal && (tok == "*" || tok == ">"):
			return "wildcards (* and >) are for subscribing; a message is published to one literal subject"
		case tok == ">" && i != len(tokens)-1:
			return "'>' matches the rest of a subject, so it must be the last token"
		}
	}
	return "it is not a valid subject"
}

// checkSubjects applies checkSubject to each of list.
func checkSubjects(what string, list []string, literal bool) error {
	for _, s := range list {
		if err := checkSubject(what, s, literal); err != nil {
			return err
		}
	}
	return nil
}

// checkQueue explains an unusable queue group name; "" (no group) is fine.
func checkQueue(what, q string) error {
	if q == "" || subject.ValidQueue(q) {
		return nil
	}
	return usageErrorf("invalid %s %q: queue group names cannot contain spaces or other whitespace", what, q)
}
