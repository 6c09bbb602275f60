package subject

import (
	"fmt"
	"hash/fnv"
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
// destination carries what the source's ">" matched. The other mapping
// functions are nats-server's: partition(count, i...), split(i, delim),
// splitFromLeft(i, pos), splitFromRight(i, pos), sliceFromLeft(i, size),
// sliceFromRight(i, size), left(i, len) and right(i, len), where i is a
// 1-based '*' index of the source (see transform_apply.go).
type Transform struct {
	src   []string
	dest  []destToken
	fwc   bool // src ends in ">"
	nwild int  // '*' tokens in src
}

type destToken struct {
	fn  fn
	pos []int  // source token positions the function reads
	n   int    // the function's integer argument
	str string // literal text or split delimiter
}

// NewTransform compiles a transform; an empty src means ">", an empty
// dest means the subject unchanged. Errors carry nats-server's texts.
func NewTransform(src, dest string) (*Transform, error) {
	return compile(src, dest, false)
}

// compile builds a transform; strictFWC also refuses a source ending in
// '>' whose destination does not, as nats-server does for mappings.
func compile(src, dest string, strictFWC bool) (*Transform, error) {
	if src == "" {
		src = ">"
	}
	if !Valid(src) {
		return nil, ErrBadSubject
	}
	t := &Transform{src: strings.Split(src, ".")}
	var wildPos []int // wildPos[k] is the position of the (k+1)th '*'
	for i, tok := range t.src {
		switch {
		case tok == "*":
			t.nwild++
			wildPos = append(wildPos, i)
		case tok == ">" && i == len(t.src)-1:
			t.fwc = true
		}
	}
	if dest == "" {
		return t, nil // match only: subjects pass unchanged
	}
	toks := strings.Split(dest, ".")
	if err := checkDestShape(toks, t.fwc, strictFWC); err != nil {
		return nil, err
	}
	for i, tok := range toks {
		if tok == ">" && i == len(toks)-1 {
			t.dest = append(t.dest, destToken{fn: fnRest})
			continue
		}
		ft, err := parseDestToken(tok)
		if err != nil {
			return nil, err
		}
		dt, err := t.resolve(tok, ft, wildPos)
		if err != nil {
			return nil, err
		}
		t.dest = append(t.dest, dt)
	}
	return t, nil
}

// checkDestShape refuses what nats-server refuses before looking at any
// function: empty tokens, tokens after '>', a '*' token, and a '>' that
// the source does not have (or, strictly, lacks).
func checkDestShape(toks []string, srcFWC, strictFWC bool) error {
	destFWC := false
	for _, tok := range toks {
		if tok == "" || destFWC || tok == "*" {
			return ErrBadSubject
		}
		destFWC = tok == ">"
	}
	if destFWC && !srcFWC || strictFWC && srcFWC && !destFWC {
		return ErrBadSubject
	}
	return nil
}

// resolve turns a parsed token's 1-based wildcard indexes into source
// token positions.
func (t *Transform) resolve(tok string, ft funcToken, wildPos []int) (destToken, error) {
	if ft.fn == fnLiteral {
		if !ValidLiteral(ft.str) {
			return destToken{}, ErrInvalidMappingDestinationSubject
		}
		return destToken{fn: fnLiteral, str: ft.str}, nil
	}
	if t.nwild == 0 {
		return destToken{}, destErr(tok, ErrMappingDestinationIndexOutOfRange)
	}
	dt := destToken{fn: ft.fn, n: ft.n, str: ft.str}
	for _, w := range ft.wild {
		// nats-server reads the source's first token for an index below
		// one; Starling refuses it rather than guess what was meant.
		if w < 1 || w > t.nwild {
			return destToken{}, destErr(fmt.Sprintf("%s: [%d]", tok, w), ErrMappingDestinationIndexOutOfRange)
		}
		dt.pos = append(dt.pos, wildPos[w-1])
	}
	return dt, nil
}

// Apply rewrites subj, reporting false when it does not match the source,
// or when the mapping would produce an empty token (split of a token made
// only of delimiters): such a subject could reach no subscriber.
func (t *Transform) Apply(subj string) (string, bool) {
	toks := strings.Split(subj, ".")
	if !t.matches(toks) {
		return "", false
	}
	if t.dest == nil {
		return subj, true
	}
	var b strings.Builder
	for i, d := range t.dest {
		if i > 0 {
			b.WriteByte('.')
		}
		if d.fn == fnRest {
			b.WriteString(strings.Join(toks[len(t.src)-1:], "."))
			continue
		}
		if !d.write(&b, toks) {
			return "", false
		}
	}
	return b.String(), true
}

func (t *Transform) matches(toks []string) bool {
	if len(toks) < len(t.src) || (!t.fwc && len(toks) != len(t.src)) {
		return false
	}
	for i, p := range t.src {
		switch {
		case p == ">" && i == len(t.src)-1:
		case p == "*":
		case p != toks[i]:
			return false
		}
	}
	return true
}

// partition is nats-server's: FNV-1a (32 bit) over the chosen tokens
// concatenated without separators, modulo the count, in decimal. Using
// the same hash makes every server of a mixed cluster pick the same
// partition for a subject.
func partition(toks []string, pos []int, count int) string {
	h := fnv.New32a()
	for _, p := range pos {
		h.Write([]byte(toks[p]))
	}
	return strconv.FormatUint(uint64(h.Sum32()%uint32(count)), 10)
}
