package conf

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

const (
	// MaxFileSize bounds each file read, includes included. Real configs,
	// even with thousands of users, are far smaller.
	MaxFileSize = 64 << 20

	// maxDepth bounds nested blocks, arrays, includes and environment
	// variables together, so hostile input cannot exhaust the stack.
	maxDepth = 100
)

// Parse parses configuration text. Positions carry no file name. As with
// nats-server's conf.Parse, include paths are relative to the current
// working directory.
func Parse(data string) (*Map, error) {
	return newLoader(readFileLimited, os.LookupEnv).parseText(data, "", ".", 0)
}

// ParseFile parses the configuration file at path. Include paths are
// relative to the directory of the file that contains the include.
// A file that cannot be read is reported as the *fs.PathError from os.
func ParseFile(path string) (*Map, error) {
	return newLoader(readFileLimited, os.LookupEnv).load(path)
}

// loader holds what one Parse or ParseFile call shares across the files and
// environment variables it reads.
type loader struct {
	readFile  func(name string) ([]byte, error)
	lookupEnv func(name string) (string, bool)

	depth     int
	active    []string        // files being parsed, outermost first
	done      map[string]*Map // files parsed already, by absolute path
	envActive map[string]bool // environment variables being expanded
}

func newLoader(readFile func(string) ([]byte, error), lookupEnv func(string) (string, bool)) *loader {
	return &loader{
		readFile:  readFile,
		lookupEnv: lookupEnv,
		done:      map[string]*Map{},
		envActive: map[string]bool{},
	}
}

// parseText parses src as the file named file; includes are joined to dir.
// colShift hides a prefix on line 1 from error columns (see parser).
func (ld *loader) parseText(src, file, dir string, colShift int) (*Map, error) {
	p := newParser(ld, src, file, dir)
	p.colShift = colShift
	if len(src) > MaxFileSize {
		return nil, p.errAt(0, "configuration is larger than %d bytes", MaxFileSize)
	}
	// nats-server's lexer mistakes a NUL byte for the end of the input
	// in some states and not in others; no real config contains one.
	if i := strings.IndexByte(src, 0); i >= 0 {
		return nil, p.errAt(i, "NUL byte in configuration")
	}
	m := newMap()
	if err := p.document(m); err != nil {
		return nil, err
	}
	return m, nil
}

// load reads and parses one file. A file included several times (but not
// recursively) is parsed once: its meaning cannot depend on where it is
// included, because an included file does not see the includer's keys.
func (ld *loader) load(path string) (*Map, error) {
	id := fileID(path)
	if m, ok := ld.done[id]; ok {
		return m, nil
	}
	data, err := ld.readFile(path)
	if err != nil {
		return nil, err
	}
	ld.active = append(ld.active, id)
	defer func() { ld.active = ld.active[:len(ld.active)-1] }()
	m, err := ld.parseText(string(data), path, filepath.Dir(path), 0)
	if err != nil {
		return nil, err
	}
	ld.done[id] = m
	return m, nil
}

// include reads the path of an include statement whose keyword starts at
// k.off, parses the file and merges its top-level keys into m, where later
// keys of m may override them. Like nats-server, the path is joined to the
// including file's directory even when it is absolute.
func (p *parser) include(m *Map, k key) error {
	p.skipBlanks()
	name, err := p.includePath()
	if err != nil {
		return err
	}
	if name == "" {
		return p.errAt(k.off, "include needs a file name")
	}
	if err := p.enter(k.off); err != nil {
		return err
	}
	defer p.leave()
	at := p.pos(k.off)
	path := filepath.Join(p.dir, name)
	id := fileID(path)
	for i, a := range p.ld.active {
		if a == id {
			chain := append(append([]string(nil), p.ld.active[i:]...), id)
			for j := range chain {
				chain[j] = filepath.Base(chain[j])
			}
			return &Error{Pos: at, Msg: "include cycle: " + strings.Join(chain, " includes ")}
		}
	}
	inc, err := p.ld.load(path)
	if err != nil {
		if ce, ok := err.(*Error); ok {
			ce.IncludedFrom = append(ce.IncludedFrom, at)
			return ce
		}
		return &Error{Pos: at, Msg: fmt.Sprintf("include %q: %v", name, err), Err: err}
	}
	for _, e := range inc.entries {
		m.set(e)
	}
	return nil
}

// includePath reads the file name after the include keyword: quoted with
// ' or " (no escapes) or bare up to a blank, newline, ';' or '}'.
func (p *parser) includePath() (string, error) {
	start := p.off
	switch r, _ := p.peek(); {
	case r == '\'' || r == '"':
		end := strings.IndexRune(p.src[start+1:], r)
		if end < 0 {
			return "", p.errAt(start, "unterminated include path: missing closing %q", r)
		}
		p.off = start + 1 + end + 1
		return p.src[start+1 : start+1+end], nil
	case r == '[' || r == '{' || r == '(' || r == '-' || r == '\\' || isNL(r) || unicode.IsDigit(r):
		return "", p.errAt(start, "expected an include file name, found %s", describe(r))
	}
	for {
		r, w := p.peek()
		switch {
		case r == eof || isNL(r) || isBlank(r) || r == ';' || r == '}':
			return p.src[start:p.off], nil
		case r == '\'':
			// As in an unquoted value, a single quote ends the name
			// and is dropped.
			name := p.src[start:p.off]
			p.off += w
			return name, nil
		}
		p.off += w
	}
}

// fileID identifies a file for cycle detection and the parse cache.
func fileID(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// readFileLimited reads a whole file of at most MaxFileSize bytes.
func readFileLimited(name string) (data []byte, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, MaxFileSize)
	}
	return data, nil
}
