package conf

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// eof is what peek returns at the end of the input. nats-server uses rune 0
// for this, which makes a NUL byte in a file act like an end of input in some
// places and like text in others; we refuse NUL bytes up front instead.
const eof rune = -1

// parser reads one file (or one environment variable's value). It is a
// recursive-descent reader working directly on the text, because what a
// character means depends on where it is: the nats format is defined by a
// state machine in which, for example, '#' starts a comment after a value but
// a string where a value is expected.
type parser struct {
	src   string
	file  string // name used in positions
	dir   string // directory that include paths are joined to
	lines []int  // byte offset of the start of each line
	off   int

	// colShift is subtracted from columns on line 1. An environment
	// variable's value is parsed behind a synthetic "pk=" so it is read
	// exactly as nats-server reads it; errors must not count that prefix.
	colShift int

	// scopes are the maps open at the current point, outermost first; a
	// $variable is looked up in them innermost first.
	scopes []*Map

	ld *loader
}

func newParser(ld *loader, src, file, dir string) *parser {
	lines := []int{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &parser{src: src, file: file, dir: dir, lines: lines, ld: ld}
}

// pos converts a byte offset into a position.
func (p *parser) pos(off int) Pos {
	// The last line start that is <= off.
	line := sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off }) - 1
	col := off - p.lines[line] + 1
	if line == 0 {
		col = max(col-p.colShift, 1)
	}
	return Pos{File: p.file, Line: line + 1, Col: col}
}

func (p *parser) errAt(off int, format string, args ...any) *Error {
	return &Error{Pos: p.pos(off), Msg: fmt.Sprintf(format, args...)}
}

// peek returns the rune at the cursor and its width without consuming it.
func (p *parser) peek() (rune, int) {
	return p.runeAt(p.off)
}

func (p *parser) runeAt(off int) (rune, int) {
	if off >= len(p.src) {
		return eof, 0
	}
	if c := p.src[off]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(p.src[off:])
}

// skipSpace skips Unicode white space, newlines included. nats-server does
// this before keys and, inside arrays and maps, before values.
func (p *parser) skipSpace() {
	for {
		r, w := p.peek()
		if r == eof || !unicode.IsSpace(r) {
			return
		}
		p.off += w
	}
}

// skipBlanks skips spaces and tabs only: before a top-level value a newline
// is an error, not white space.
func (p *parser) skipBlanks() {
	for p.off < len(p.src) && isBlank(rune(p.src[p.off])) {
		p.off++
	}
}

// atComment reports whether a comment ('#' or '//') starts at the cursor.
func (p *parser) atComment() bool {
	return strings.HasPrefix(p.src[p.off:], "#") || strings.HasPrefix(p.src[p.off:], "//")
}

// skipComment consumes a comment up to, not including, the end of the line.
func (p *parser) skipComment() {
	for p.off < len(p.src) && !isNL(rune(p.src[p.off])) {
		p.off++
	}
}

// enter counts one more level of nesting (block, array or include) and
// refuses to go deeper than maxDepth, so hostile input cannot exhaust the
// stack. leave must be called on the way out.
func (p *parser) enter(off int) error {
	if p.ld.depth >= maxDepth {
		return p.errAt(off, "nesting deeper than %d levels of blocks, arrays and includes", maxDepth)
	}
	p.ld.depth++
	return nil
}

func (p *parser) leave() { p.ld.depth-- }

func isBlank(r rune) bool { return r == ' ' || r == '\t' }

func isNL(r rune) bool { return r == '\n' || r == '\r' }

func isKeySep(r rune) bool { return r == '=' || r == ':' }

// describe names a rune for an error message.
func describe(r rune) string {
	switch r {
	case eof:
		return "end of file"
	case '\n', '\r':
		return "end of line"
	}
	return fmt.Sprintf("%q", r)
}
