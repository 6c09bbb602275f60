package conf

import (
	"strings"
	"unicode"
)

// The functions in this file follow the states of nats-server's lexer
// (conf/lex.go): which characters separate, terminate or start things differs
// between the top level, a top-level "{...}" group, a map and an array, and
// configs in the wild depend on those differences, so each context has its
// own small loop instead of one shared grammar.

// key is a parsed key, or the include keyword.
type key struct {
	name    string
	off     int
	include bool
}

// document reads a whole file into m.
func (p *parser) document(m *Map) error {
	p.scopes = append(p.scopes, m)
	for {
		p.skipSpace()
		r, w := p.peek()
		switch {
		case r == eof:
			return nil
		case p.atComment():
			p.skipComment()
		case r == '/':
			return p.errAt(p.off, "unexpected '/': comments start with '//' or '#'")
		case r == '{':
			open := p.off
			p.off += w
			if err := p.group(m, open); err != nil {
				return err
			}
		default:
			v, err := p.statement(m, false)
			if err != nil {
				return err
			}
			if err := p.endTopValue(v); err != nil {
				return err
			}
		}
	}
}

// group reads the keys between a top-level '{' and its '}'. nats-server
// treats such braces as transparent, so a whole config can be one JSON-like
// object; the keys land in the top-level map.
func (p *parser) group(m *Map, open int) error {
	if err := p.enter(open); err != nil {
		return err
	}
	defer p.leave()
	for {
		p.skipSpace()
		r, w := p.peek()
		var closed bool
		var err error
		switch {
		case r == eof:
			return p.unclosed(open, '}', "block", nil)
		case r == '}':
			p.off += w
			return nil
		case p.atComment():
			p.skipComment()
			continue
		case r == '/':
			return p.errAt(p.off, "unexpected '/': comments start with '//' or '#'")
		case r == '{':
			inner := p.off
			p.off += w
			if err := p.group(m, inner); err != nil {
				return err
			}
			closed, err = p.endInnerGroup(open)
		default:
			var v *Value
			if v, err = p.statement(m, true); err != nil {
				return err
			}
			closed, err = p.endGroupValue(open, v)
		}
		if err != nil || closed {
			return err
		}
	}
}

// statement reads "key value", "key = value", "key: value" or an include
// at the top level or in a top-level group, and stores the result in m. It
// returns the value (nil for an include or an ignored stray '}').
func (p *parser) statement(m *Map, inGroup bool) (*Value, error) {
	var k key
	var err error
	switch r, _ := p.peek(); {
	case isKeySep(r):
		return nil, p.errAt(p.off, "unexpected %q: expected a key", r)
	case r == '"' || r == '\'':
		k, err = p.quotedKey(r)
	default:
		k, err = p.bareKey(false, 0)
	}
	if err != nil {
		return nil, err
	}
	if k.include {
		return nil, p.include(m, k)
	}
	// Anything, newlines included, may sit between a top-level key and
	// its separator or value: "cluster\n{" is a block.
	p.skipSpace()
	r, _ := p.peek()
	if r == eof {
		// A lone '}' ending the file is read as a key without a value
		// and ignored; nats-server accepts it so that a stray closing
		// brace after the last block does no harm.
		if !inGroup && k.name == "}" {
			return nil, nil
		}
		return nil, p.errAt(k.off, "key %q has no value", k.name)
	}
	if isKeySep(r) {
		p.off++
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	m.set(Entry{Key: k.name, KeyPos: p.pos(k.off), Value: v})
	return v, nil
}

// bareKey reads an unquoted key: everything up to white space, '=' or ':'.
// Braces, brackets and '#' do not end it, so "cluster{" is a key named
// "cluster{". The first rune is taken whatever it is. Inside a map (inMap)
// running into the end of the input is an error about the map opened at
// open.
func (p *parser) bareKey(inMap bool, open int) (key, error) {
	start := p.off
	_, w := p.peek()
	p.off += w
	for {
		r, w := p.peek()
		switch {
		case r == eof:
			if inMap {
				return key{}, p.unclosed(open, '}', "block", nil)
			}
			return key{name: p.src[start:p.off], off: start}, nil
		case unicode.IsSpace(r):
			// "include" is a keyword only when white space follows it:
			// "include: x" and "include=x" are ordinary keys.
			name := p.src[start:p.off]
			return key{name: name, off: start, include: strings.ToLower(name) == "include"}, nil
		case isKeySep(r):
			return key{name: p.src[start:p.off], off: start}, nil
		}
		p.off += w
	}
}

// quotedKey reads a key in single or double quotes. There are no escapes
// in keys: the key ends at the next matching quote.
func (p *parser) quotedKey(q rune) (key, error) {
	start := p.off
	end := strings.IndexRune(p.src[start+1:], q)
	if end < 0 {
		return key{}, p.errAt(start, "unterminated quoted key: missing closing %q", q)
	}
	p.off = start + 1 + end + 1
	return key{name: p.src[start+1 : start+1+end], off: start}, nil
}

// endTopValue consumes what may follow a top-level value: blanks, then a
// newline, ';', ',', a comment or the end of the input. A '}' is accepted
// and ignored, and so is a lone '/'.
func (p *parser) endTopValue(v *Value) error {
	for {
		r, w := p.peek()
		switch {
		case r == eof:
			return nil
		case p.atComment():
			p.skipComment()
			return nil
		case r == '/' || isBlank(r):
			p.off += w
		case isNL(r) || r == ';' || r == ',' || r == '}':
			p.off += w
			return nil
		default:
			return p.junkAfter(v, r, "a newline, ';' or ','")
		}
	}
}

// endGroupValue is endTopValue inside a top-level group, where '}' closes
// the group. It reports whether it did.
func (p *parser) endGroupValue(open int, v *Value) (closed bool, err error) {
	for {
		r, w := p.peek()
		switch {
		case r == eof:
			return false, p.unclosed(open, '}', "block", nil)
		case p.atComment():
			p.skipComment()
		case r == '/' || isBlank(r):
			p.off += w
		case isNL(r) || r == ';' || r == ',':
			p.off += w
			return false, nil
		case r == '}':
			p.off += w
			return true, nil
		default:
			return false, p.junkAfter(v, r, "a newline, ';', ',' or '}'")
		}
	}
}

// endInnerGroup follows a group nested in another group. Here, unlike after
// a value, a newline does not end the entry: only ';', ',', a comment or '}'.
func (p *parser) endInnerGroup(open int) (closed bool, err error) {
	for {
		r, w := p.peek()
		switch {
		case r == eof:
			return false, p.unclosed(open, '}', "block", nil)
		case p.atComment():
			p.skipComment()
			return false, nil
		case r == '/' || isBlank(r) || isNL(r):
			p.off += w
		case r == ';' || r == ',':
			p.off += w
			return false, nil
		case r == '}':
			p.off += w
			return true, nil
		default:
			return false, p.errAt(p.off, "expected '}', ';' or ',' after a nested block, found %s", describe(r))
		}
	}
}

// value reads a value wherever one is expected.
func (p *parser) value() (*Value, error) {
	p.skipBlanks()
	start := p.off
	r, _ := p.peek()
	switch {
	case r == '[':
		return p.arrayValue()
	case r == '{':
		return p.mapValue()
	case r == '"':
		return p.doubleQuoted()
	case r == '\'':
		return p.singleQuoted()
	case r == '(':
		return p.blockString()
	case r == '-':
		return p.negative()
	case unicode.IsDigit(r):
		return p.number()
	case r == '.':
		return nil, p.errAt(start, "a value cannot start with '.': numbers start with a digit, and other text must be quoted")
	case isNL(r):
		return nil, p.errAt(start, "expected a value, found end of line")
	}
	// Everything else, the end of the input included (an empty
	// string), is an unquoted string, a boolean or a $variable.
	return p.bare(start, start)
}

// mapValue reads a '{' ... '}' value.
func (p *parser) mapValue() (*Value, error) {
	open := p.off
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.off++
	m := newMap()
	p.scopes = append(p.scopes, m)
	defer func() { p.scopes = p.scopes[:len(p.scopes)-1] }()
	for {
		p.skipSpace()
		r, w := p.peek()
		var k key
		var err error
		switch {
		case r == eof:
			return nil, p.unclosed(open, '}', "block", nil)
		case r == '}':
			p.off += w
			return &Value{Kind: KindMap, Pos: p.pos(open), mp: m}, nil
		case p.atComment():
			p.skipComment()
			continue
		case isKeySep(r):
			return nil, p.errAt(p.off, "unexpected %q: expected a key", r)
		case r == ']':
			return nil, p.errAt(p.off, "unexpected ']' in the block opened at %d:%d", p.pos(open).Line, p.pos(open).Col)
		case r == '/':
			// nats-server drops a lone '/' in front of a key.
			p.off += w
			k, err = p.bareKey(true, open)
		case r == '"' || r == '\'':
			k, err = p.quotedKey(r)
		default:
			k, err = p.bareKey(true, open)
		}
		if err != nil {
			return nil, err
		}
		var v *Value
		if k.include {
			err = p.include(m, k)
		} else {
			v, err = p.mapEntry(m, k, open)
		}
		if err != nil {
			return nil, err
		}
		closed, err := p.endMapValue(open, v)
		if err != nil {
			return nil, err
		}
		if closed {
			return &Value{Kind: KindMap, Pos: p.pos(open), mp: m}, nil
		}
	}
}

// mapEntry reads the separator and value after a key inside a map. Unlike
// at the top level, the value may be on a later line than the separator.
func (p *parser) mapEntry(m *Map, k key, open int) (*Value, error) {
	p.skipSpace()
	if r, _ := p.peek(); isKeySep(r) {
		p.off++
		p.skipSpace()
	}
	switch r, _ := p.peek(); r {
	case eof:
		return nil, p.unclosed(open, '}', "block", nil)
	case ',', '}':
		// nats-server files a value-less key before '}' under the
		// wrong name; refuse it instead.
		return nil, p.errAt(k.off, "key %q has no value", k.name)
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	m.set(Entry{Key: k.name, KeyPos: p.pos(k.off), Value: v})
	return v, nil
}

// endMapValue consumes what follows a value in a map: a newline, ';' or ','
// starts the next key, '}' closes the map. A lone '/' counts as a separator.
func (p *parser) endMapValue(open int, v *Value) (closed bool, err error) {
	for {
		r, w := p.peek()
		switch {
		case r == eof:
			return false, p.unclosed(open, '}', "block", nil)
		case p.atComment():
			p.skipComment()
		case isBlank(r):
			p.off += w
		case r == '/' || isNL(r) || r == ';' || r == ',':
			p.off += w
			return false, nil
		case r == '}':
			p.off += w
			return true, nil
		default:
			return false, p.junkAfter(v, r, "a newline, ';', ',' or '}'")
		}
	}
}

// arrayValue reads a '[' ... ']' value. Elements are separated by commas
// or newlines; a trailing comma is allowed, an empty element is not.
func (p *parser) arrayValue() (*Value, error) {
	open := p.off
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	p.off++
	arr := &Value{Kind: KindArray, Pos: p.pos(open), arr: []*Value{}}
	for {
		p.skipSpace()
		r, w := p.peek()
		switch {
		case r == eof:
			return nil, p.unclosed(open, ']', "array", arr.arr)
		case p.atComment():
			p.skipComment()
			continue
		case r == ']':
			p.off += w
			return arr, nil
		case r == ',' || r == '/':
			return nil, p.errAt(p.off, "unexpected %q in array: expected a value or ']'", r)
		}
		e, err := p.value()
		if err != nil {
			return nil, err
		}
		arr.arr = append(arr.arr, e)
		closed, err := p.endArrayElem(open, arr.arr)
		if err != nil {
			return nil, err
		}
		if closed {
			return arr, nil
		}
	}
}

// endArrayElem consumes what follows an array element: ',' or a newline
// before the next one, or ']'. A lone '/' counts as a separator.
func (p *parser) endArrayElem(open int, elems []*Value) (closed bool, err error) {
	for {
		r, w := p.peek()
		switch {
		case r == eof:
			return false, p.unclosed(open, ']', "array", elems)
		case p.atComment():
			p.skipComment()
		case isBlank(r):
			p.off += w
		case r == '/' || r == ',' || isNL(r):
			p.off += w
			return false, nil
		case r == ']':
			p.off += w
			return true, nil
		default:
			return false, p.junkAfter(elems[len(elems)-1], r, "',' or ']'")
		}
	}
}

// unclosed reports a block or array that is still open at the cursor.
func (p *parser) unclosed(open int, closer rune, what string, elems []*Value) *Error {
	op := p.pos(open)
	err := p.errAt(p.off, "expected %q to close %s opened at %d:%d", closer, what, op.Line, op.Col)
	// In "[1]" nats-server reads "1]" as one string, because a digit-led
	// word only ends at a comma, blank or newline, and the array never
	// closes. Point that out when it is the likely cause.
	for _, e := range elems {
		if e.Kind == KindString && strings.Contains(e.str, "]") && e.str != "" && unicode.IsDigit(rune(e.str[0])) {
			err.Msg += " (nats-server reads " + quote(e.str) + " at " + posLC(e.Pos) +
				" as one string: put a space or ',' before ']')"
			break
		}
	}
	return err
}

// junkAfter reports an unexpected character after a value.
func (p *parser) junkAfter(v *Value, r rune, want string) *Error {
	err := p.errAt(p.off, "expected %s after the value, found %s", want, describe(r))
	glued := p.off > 0 && !isBlank(rune(p.src[p.off-1]))
	if glued && v != nil && (v.Kind == KindInt || v.Kind == KindFloat) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		err.Msg += " (quote values such as durations that start with a digit, e.g. \"1m30s\")"
	}
	return err
}

func posLC(p Pos) string { return Pos{Line: p.Line, Col: p.Col}.String() }
