package subject

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Transform rewrites subjects matching a source pattern into a destination
// built from the source's wildcard tokens, as nats-server's subject
// mappings and stream transforms do:
//
//	src "orders.*.*"  dest "shop.{{wildcard(2)}}.{{wildcard(1)}}"
//	orders.eu.new  ->  shop.new.eu
//
// "$N" is the older spelling of {{wildcard(N)}}; a trailing ">" in the
// destination carries what the source's ">" matched. Other mapping
// functions (partition, split, …) are refused with an error naming them.
type Transform struct {
	src   []string
	dest  []destToken
	fwc   bool // src ends in ">"
	nwild int  // '*' tokens in src
}

type destToken struct {
	lit  string
	wild int  // 1-based '*' index, 0 for a literal
	rest bool // the '>' remainder
}

// NewTransform compiles a transform; an empty src means ">", an empty
// dest means the subject unchanged.
func NewTransform(src, dest string) (*Transform, error) {
	if src == "" {
		src = ">"
	}
	if !Valid(src) {
		return nil, fmt.Errorf("invalid source subject %q", src)
	}
	t := &Transform{src: strings.Split(src, ".")}
	for i, tok := range t.src {
		switch {
		case tok == "*":
			t.nwild++
		case tok == ">" && i == len(t.src)-1:
			t.fwc = true
		}
	}
	if dest == "" {
		return t, nil // match only: subjects pass unchanged
	}
	toks := strings.Split(dest, ".")
	for i, tok := range toks {
		dt, err := t.parseDest(tok, i == len(toks)-1)
		if err != nil {
			return nil, err
		}
		t.dest = append(t.dest, dt)
	}
	return t, nil
}

var errEmptyToken = errors.New("invalid destination subject: empty token")

func (t *Transform) parseDest(tok string, last bool) (destToken, error) {
	switch {
	case tok == "":
		return destToken{}, errEmptyToken
	case tok == ">":
		if !last || !t.fwc {
			return destToken{}, errors.New("destination '>' needs a source ending in '>'")
		}
		return destToken{rest: true}, nil
	case tok == "*":
		// nats-server maps the source's '*' tokens in order.
		return destToken{}, errors.New("destination '*' is not supported: use {{wildcard(n)}}")
	case strings.HasPrefix(tok, "$"):
		return t.wildcard(tok[1:])
	case strings.HasPrefix(tok, "{{") && strings.HasSuffix(tok, "}}"):
		fn := strings.TrimSpace(tok[2 : len(tok)-2])
		open, close := strings.IndexByte(fn, '('), strings.LastIndexByte(fn, ')')
		if open < 0 || close != len(fn)-1 {
			return destToken{}, fmt.Errorf("invalid mapping function %q", tok)
		}
		name := strings.ToLower(strings.TrimSpace(fn[:open]))
		if name != "wildcard" {
			return destToken{}, fmt.Errorf("mapping function %q is not supported", name)
		}
		return t.wildcard(strings.TrimSpace(fn[open+1 : close]))
	case strings.ContainsAny(tok, "{}") || !ValidLiteral(tok):
		return destToken{}, fmt.Errorf("invalid destination token %q", tok)
	}
	return destToken{lit: tok}, nil
}

func (t *Transform) wildcard(arg string) (destToken, error) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > t.nwild {
		return destToken{}, fmt.Errorf("wildcard index %q out of range (source has %d '*' tokens)", arg, t.nwild)
	}
	return destToken{wild: n}, nil
}

// Apply rewrites subj, reporting false when it does not match the source.
func (t *Transform) Apply(subj string) (string, bool) {
	toks := strings.Split(subj, ".")
	if len(toks) < len(t.src) || (!t.fwc && len(toks) != len(t.src)) {
		return "", false
	}
	var wild []string
	for i, p := range t.src {
		switch {
		case p == ">" && i == len(t.src)-1:
		case p == "*":
			wild = append(wild, toks[i])
		case p != toks[i]:
			return "", false
		}
	}
	if t.dest == nil {
		return subj, true
	}
	var b strings.Builder
	for i, d := range t.dest {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case d.rest:
			b.WriteString(strings.Join(toks[len(t.src)-1:], "."))
		case d.wild > 0:
			b.WriteString(wild[d.wild-1])
		default:
			b.WriteString(d.lit)
		}
	}
	return b.String(), true
}
