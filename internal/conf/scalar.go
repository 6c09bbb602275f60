package conf

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func (p *parser) str(off int, s string) *Value {
	return &Value{Kind: KindString, Pos: p.pos(off), str: s}
}

// bare reads an unquoted value from start. Text in [start, from) has
// already been taken literally (a number that turned out to be text).
// It ends at a blank, newline, ';', ',', ']', '}' or the end of the input,
// or at a single quote, which is consumed and dropped. Backslash escapes
// work as in double-quoted strings.
func (p *parser) bare(start, from int) (*Value, error) {
	p.off = from
	var buf []byte
	escaped := false
	seg := start
	for {
		r, w := p.peek()
		switch {
		case r == '\\':
			buf = append(buf, p.src[seg:p.off]...)
			var err error
			if buf, err = p.escape(buf); err != nil {
				return nil, err
			}
			seg, escaped = p.off, true
		case r == eof || isNL(r) || isBlank(r) || r == ';' || r == ',' || r == ']' || r == '}':
			if escaped {
				return p.str(start, string(append(buf, p.src[seg:p.off]...))), nil
			}
			return p.word(start, p.src[start:p.off])
		case r == '\'':
			// nats-server ends the word here; "ab'" is "ab", and it is a
			// string even when it reads "true'" or "$x'".
			s := string(append(buf, p.src[seg:p.off]...))
			p.off += w
			return p.str(start, s), nil
		default:
			p.off += w
		}
	}
}

// word gives a plain unquoted word its meaning: a boolean in any letter
// case (true/false, yes/no, on/off), a $variable, or a string.
func (p *parser) word(start int, s string) (*Value, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return &Value{Kind: KindBool, Pos: p.pos(start), bln: true}, nil
	case "false", "no", "off":
		return &Value{Kind: KindBool, Pos: p.pos(start)}, nil
	}
	if name, ok := strings.CutPrefix(s, "$"); ok {
		return p.resolve(name, start)
	}
	return p.str(start, s), nil
}

// doubleQuoted reads a "..." string with escapes. Newlines may appear
// inside it literally.
func (p *parser) doubleQuoted() (*Value, error) {
	start := p.off
	p.off++
	var buf []byte
	seg := p.off
	for {
		r, w := p.peek()
		switch r {
		case eof:
			return nil, p.errAt(start, "unterminated string: missing closing '\"'")
		case '\\':
			buf = append(buf, p.src[seg:p.off]...)
			var err error
			if buf, err = p.escape(buf); err != nil {
				return nil, err
			}
			seg = p.off
		case '"':
			s := p.src[seg:p.off]
			if buf != nil {
				s = string(append(buf, s...))
			}
			p.off += w
			return p.str(start, s), nil
		default:
			p.off += w
		}
	}
}

// singleQuoted reads a '...' string: raw text, no escapes.
func (p *parser) singleQuoted() (*Value, error) {
	start := p.off
	end := strings.IndexByte(p.src[start+1:], '\'')
	if end < 0 {
		return nil, p.errAt(start, "unterminated string: missing closing \"'\"")
	}
	p.off = start + 1 + end + 1
	return p.str(start, p.src[start+1:start+1+end]), nil
}

// blockString reads a "(" ... ")" raw multi-line string. It ends at a ')'
// alone at the start of a line (followed by '\n' or the end of the input).
// The text keeps everything between '(' and that ')', including the
// newline after '(' and the one before ')'.
func (p *parser) blockString() (*Value, error) {
	start := p.off
	from := start + 1
	for i := from; i < len(p.src); i++ {
		if p.src[i] == ')' && p.src[i-1] == '\n' && (i+1 == len(p.src) || p.src[i+1] == '\n') {
			p.off = i + 1
			return p.str(start, p.src[from:i]), nil
		}
	}
	p.off = len(p.src)
	return nil, p.errAt(start, "unterminated block string: expected ')' alone at the start of a line")
}

// escape decodes the escape sequence at the cursor (a backslash) and
// appends it to buf. Only \t \n \r \" \\ and \xHH exist.
func (p *parser) escape(buf []byte) ([]byte, error) {
	at := p.off
	p.off++
	r, w := p.peek()
	switch r {
	case 't':
		buf = append(buf, '\t')
	case 'n':
		buf = append(buf, '\n')
	case 'r':
		buf = append(buf, '\r')
	case '"':
		buf = append(buf, '"')
	case '\\':
		buf = append(buf, '\\')
	case 'x':
		h := p.src[p.off+1 : min(p.off+3, len(p.src))]
		if len(h) != 2 || !isHex(h[0]) || !isHex(h[1]) {
			return nil, p.errAt(at, "invalid escape: \\x needs two hexadecimal digits")
		}
		p.off += 3
		return append(buf, unhex(h[0])<<4|unhex(h[1])), nil
	case eof:
		return nil, p.errAt(at, "unterminated escape at end of file")
	default:
		return nil, p.errAt(at, "invalid escape \\%c: only \\t, \\n, \\r, \\\", \\\\ and \\xHH are allowed", r)
	}
	p.off += w
	return buf, nil
}

// number reads a value that starts with a digit. nats-server decides what
// it is while reading: an integer (maybe with a unit suffix), a float, an
// address (a second '.'), a Zulu datetime, or, at the first character that
// fits none of these, an unquoted string, so "3secret" is a string.
func (p *parser) number() (*Value, error) {
	start := p.off
	_, w := p.peek()
	p.off += w
	for {
		r, w := p.peek()
		switch {
		case unicode.IsDigit(r):
			p.off += w
		case r == '-':
			if p.off-start != 4 {
				return nil, p.errAt(start, "digits followed by '-' must be a Zulu datetime such as 2006-01-02T15:04:05Z; quote other text")
			}
			p.off += w
			return p.datetime(start)
		case r == '.':
			p.off += w
			return p.fraction(start)
		case isUnitStart(r):
			p.off += w
			return p.unit(start)
		case numberEnds(r):
			return p.integer(start)
		default:
			// Taken literally, even a quote, backslash or ']'; the rest
			// is read as an unquoted string.
			p.off += w
			return p.bare(start, p.off)
		}
	}
}

// negative reads a value that starts with '-': a negative integer or float.
// Unlike a positive number it never turns into a string.
func (p *parser) negative() (*Value, error) {
	start := p.off
	p.off++
	r, w := p.peek()
	if !unicode.IsDigit(r) {
		return nil, p.errAt(start, "expected a digit after '-', found %s (quote text that starts with '-')", describe(r))
	}
	p.off += w
	for {
		r, w := p.peek()
		switch {
		case unicode.IsDigit(r):
			p.off += w
		case r == '.':
			p.off += w
			return p.fraction(start)
		case isUnitStart(r):
			p.off += w
			return p.unit(start)
		default:
			return p.integer(start)
		}
	}
}

// fraction continues a number after its '.': more digits make a float, a
// second '.' makes an address such as 127.0.0.1:4222.
func (p *parser) fraction(start int) (*Value, error) {
	r, w := p.peek()
	if !unicode.IsDigit(r) {
		return nil, p.errAt(p.off, "expected a digit after '.', found %s", describe(r))
	}
	p.off += w
	for {
		r, w := p.peek()
		switch {
		case unicode.IsDigit(r):
			p.off += w
		case r == '.':
			p.off += w
			return p.address(start), nil
		default:
			f, err := strconv.ParseFloat(p.src[start:p.off], 64)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) {
					return nil, p.errAt(start, "float %s is out of range", p.src[start:p.off])
				}
				return nil, p.errAt(start, "invalid float %q", p.src[start:p.off])
			}
			return &Value{Kind: KindFloat, Pos: p.pos(start), flt: f}, nil
		}
	}
}

// address reads the rest of an unquoted address: digits, '.', ':' and '-'.
func (p *parser) address(start int) *Value {
	for {
		r, w := p.peek()
		if !unicode.IsDigit(r) && r != '.' && r != ':' && r != '-' {
			return p.str(start, p.src[start:p.off])
		}
		p.off += w
	}
}

// unit continues a number after a unit letter (K, M, G, T, P, E): any run
// of B and I letters may follow. If the number does not end there, the
// whole thing is an unquoted string ("1Mbit", "3Gyz").
func (p *parser) unit(start int) (*Value, error) {
	for {
		r, w := p.peek()
		if r != 'b' && r != 'B' && r != 'i' && r != 'I' {
			break
		}
		p.off += w
	}
	if r, _ := p.peek(); numberEnds(r) || unicode.IsDigit(r) {
		return p.integer(start)
	}
	return p.bare(start, p.off)
}

// integer converts the number text in [start, cursor).
func (p *parser) integer(start int) (*Value, error) {
	text := p.src[start:p.off]
	n, err := ParseSize(text)
	if err != nil {
		return nil, p.errAt(start, "%v", err)
	}
	return &Value{Kind: KindInt, Pos: p.pos(start), num: n}, nil
}

// datetime reads the rest of a Zulu datetime after "YYYY-".
func (p *parser) datetime(start int) (*Value, error) {
	const shape = "00-00T00:00:00Z" // '0' is any digit
	for _, want := range shape {
		r, w := p.peek()
		if want == '0' && !unicode.IsDigit(r) || want != '0' && r != want {
			return nil, p.errAt(p.off, "expected a datetime such as 2006-01-02T15:04:05Z, found %s", describe(r))
		}
		p.off += w
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", p.src[start:p.off])
	if err != nil {
		return nil, p.errAt(start, "invalid datetime %q: %v", p.src[start:p.off], err)
	}
	return &Value{Kind: KindTime, Pos: p.pos(start), tim: t}, nil
}

// numberEnds reports whether r ends a positive integer. A ']' is not in
// the list: nats-server reads "1]" as a string.
func numberEnds(r rune) bool {
	return r == eof || isNL(r) || isBlank(r) || r == '}' || r == ';' || r == ','
}

func isUnitStart(r rune) bool {
	switch r {
	case 'k', 'K', 'm', 'M', 'g', 'G', 't', 'T', 'p', 'P', 'e', 'E':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func quote(s string) string { return strconv.Quote(s) }
