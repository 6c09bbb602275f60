package conf

import (
	"fmt"
	"strconv"
	"strings"
)

// Pos is a position in a configuration file. Line and Col start at 1; Col
// counts bytes, as the Go toolchain does, so a tab or a multi-byte character
// advances it by its encoded size.
type Pos struct {
	File string // "" for text given to Parse
	Line int
	Col  int
}

// String renders "file:line:col", or "line:col" when there is no file name.
func (p Pos) String() string {
	lc := strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	if p.File == "" {
		return lc
	}
	return p.File + ":" + lc
}

// Errorf builds an *Error at p. The options layer uses it to report a bad
// value (v.Pos.Errorf) or an unknown key (entry.KeyPos.Errorf) with the same
// "file:line:col: message" shape the parser uses.
func (p Pos) Errorf(format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// Error is a configuration error tied to a position. The embedded Pos gives
// File, Line and Col of the offending text.
type Error struct {
	Pos
	Msg string

	// Err is the underlying cause when there is one (a file system error
	// for an include, or the error inside an environment variable's value),
	// so errors.Is(err, fs.ErrNotExist) works through it.
	Err error

	// IncludedFrom lists the include statements that led to Pos.File,
	// innermost first. It is empty for errors in the top-level file.
	IncludedFrom []Pos
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	b.WriteString(": ")
	b.WriteString(e.Msg)
	for i, p := range e.IncludedFrom {
		if i == 0 {
			b.WriteString(" (included from ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
		if i == len(e.IncludedFrom)-1 {
			b.WriteString(")")
		}
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
