// Package transcript runs data-driven tests written as transcripts, in the
// style of etcd raft's interaction tests: a file of commands, each with
// its input and the output it must produce, so a test reads as a record
// of what happened and a change in behaviour shows as a diff.
//
// A file is a sequence of cases separated by blank lines:
//
//	# a comment
//	command key=value key="quoted value" flag
//	input line
//	input line
//	----
//	expected output line
//	expected output line
//
// The first line names the command and its arguments; lines up to "----"
// are its input; lines after it, up to a blank line or the end of the
// file, are the expected output (so output has no blank lines). Run the
// tests with -rewrite to write the actual output into the files instead
// of comparing, then review the diff.
//
// The package is for tests only (the stream's and the consumer's); it
// imports nothing of the project.
package transcript

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite transcript files with the actual output")

// Case is one command of a transcript.
type Case struct {
	Pos    string  // file:line, for messages
	Cmd    string  // the command word
	Args   []Field // its arguments, in order
	Input  []string
	Want   string // expected output, lines joined with "\n"
	header string // the command line as written
}

// Field is one argument: key=value, or a bare word (Val empty, Bare set).
type Field struct {
	Key, Val string
	Bare     bool
}

// Arg returns the value of key and whether it was given.
func (c *Case) Arg(key string) (string, bool) {
	for _, f := range c.Args {
		if f.Key == key {
			return f.Val, true
		}
	}
	return "", false
}

// Run runs every case of the file at path through fn, which returns the
// output; a difference from the expected output fails the test, naming
// the case's line. Cases run in order on the same state, so fn's
// closure holds whatever the transcript builds up.
func Run(t *testing.T, path string, fn func(t *testing.T, c *Case) string) {
	t.Helper()
	cases, err := Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for i, c := range cases {
		got := strings.TrimRight(fn(t, c), "\n")
		if *rewrite {
			if i > 0 {
				out.WriteString("\n")
			}
			out.WriteString(c.text(got))
			continue
		}
		if got != c.Want {
			t.Errorf("%s: %s\ngot:\n%s\nwant:\n%s", c.Pos, c.header, indent(got), indent(c.Want))
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// text renders the case with output got, for -rewrite; comments before a
// case are kept with it.
func (c *Case) text(got string) string {
	var b strings.Builder
	b.WriteString(c.header + "\n")
	for _, l := range c.Input {
		b.WriteString(l + "\n")
	}
	b.WriteString("----\n")
	if got != "" {
		b.WriteString(got + "\n")
	}
	return b.String()
}

// Parse reads the cases of a transcript file.
func Parse(path string) ([]*Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []*Case
	var cur *Case
	var comments []string
	inOutput := false
	var want []string
	end := func() {
		if cur != nil {
			cur.Want = strings.Join(want, "\n")
			cases = append(cases, cur)
		}
		cur, want, inOutput = nil, nil, false
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		pos := fmt.Sprintf("%s:%d", path, n)
		switch {
		case cur == nil && strings.TrimSpace(line) == "":
			if len(comments) > 0 {
				comments = append(comments, "")
			}
		case cur == nil && strings.HasPrefix(line, "#"):
			comments = append(comments, line)
		case cur == nil:
			fields, err := Fields(line)
			if err != nil || len(fields) == 0 || !fields[0].Bare {
				return nil, fmt.Errorf("%s: bad command line %q: %v", pos, line, err)
			}
			head := strings.Join(comments, "\n")
			if head != "" {
				head += "\n"
			}
			cur = &Case{Pos: pos, Cmd: fields[0].Key, Args: fields[1:], header: head + line}
			comments = nil
		case inOutput && line == "":
			end()
		case inOutput:
			want = append(want, line)
		case line == "----":
			inOutput = true
		default:
			cur.Input = append(cur.Input, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil && !inOutput {
		return nil, fmt.Errorf("%s: case without \"----\"", cur.Pos)
	}
	end()
	return cases, nil
}

// Fields splits a line into words: key=value, key="quoted value" (Go
// syntax) or a bare word.
func Fields(line string) ([]Field, error) {
	var out []Field
	rest := strings.TrimSpace(line)
	for rest != "" {
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		eq := strings.IndexByte(rest[:end], '=')
		if eq < 0 {
			out = append(out, Field{Key: rest[:end], Bare: true})
			rest = strings.TrimSpace(rest[end:])
			continue
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("value of %s: %w", key, err)
			}
			v, _ := strconv.Unquote(q)
			out = append(out, Field{Key: key, Val: v})
			rest = strings.TrimSpace(rest[len(q):])
			continue
		}
		end = strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		out = append(out, Field{Key: key, Val: rest[:end]})
		rest = strings.TrimSpace(rest[end:])
	}
	return out, nil
}

// Value renders v for a key=value field: as is when it is a plain word,
// quoted otherwise (spaces, quotes, control bytes, empty).
func Value(v string) string {
	if v == "" {
		return `""`
	}
	for _, r := range v {
		if r <= ' ' || r == '"' || r == '=' || r > '~' {
			return strconv.Quote(v)
		}
	}
	return v
}
