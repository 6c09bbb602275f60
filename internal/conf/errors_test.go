package conf

import (
	"errors"
	"strings"
	"testing"
)

var errorCases = []struct {
	name string
	src  string
	want string // the whole Error() text
}{
	{"unclosed block", "a = 1\ncluster {\n  port = 6222\n", "test.conf:4:1: expected '}' to close block opened at 2:9"},
	{"unclosed nested block", "a {\n  b {\n    c = 1\n  }\n", "test.conf:5:1: expected '}' to close block opened at 1:3"},
	{"unclosed top-level braces", "{\n  a = 1\n", "test.conf:3:1: expected '}' to close block opened at 1:1"},
	{"junk in top-level braces", "{ a = 1 x }", "test.conf:1:9: expected a newline, ';', ',' or '}' after the value, found 'x'"},
	{"newline after nested top-level braces", "{ {a = 1}\n b = 2 }", "test.conf:2:2: expected '}', ';' or ',' after a nested block, found 'b'"},
	{"unclosed nested top-level braces", "{ {a = 1}", "test.conf:1:10: expected '}' to close block opened at 1:1"},
	{"lone slash in top-level braces", "{ /a = 1 }", "test.conf:1:3: unexpected '/': comments start with '//' or '#'"},
	{"unclosed array", "routes = [\n  a\n  b\n", "test.conf:4:1: expected ']' to close array opened at 1:10"},
	{"integer before ']'", "ports = [4222, 4223]", `test.conf:1:21: expected ']' to close array opened at 1:9` +
		` (nats-server reads "4223]" at 1:16 as one string: put a space or ',' before ']')`},
	{"unclosed double-quoted string", "a = 1\nb = \"abc\n", `test.conf:2:5: unterminated string: missing closing '"'`},
	{"unclosed single-quoted string", "b = ['abc", `test.conf:1:6: unterminated string: missing closing "'"`},
	{"unclosed quoted key", "\"abc = 1", `test.conf:1:1: unterminated quoted key: missing closing '"'`},
	{"unclosed block string", "t (\nabc\n  )\n", "test.conf:1:3: unterminated block string: expected ')' alone at the start of a line"},
	{"bad escape", "a = \"ok\\q\"", `test.conf:1:8: invalid escape \q: only \t, \n, \r, \", \\ and \xHH are allowed`},
	{"bad escape in a bare word", "a = C:\\nats\\data", `test.conf:1:12: invalid escape \d: only \t, \n, \r, \", \\ and \xHH are allowed`},
	{"short hex escape", "a = \"\\x4\"", `test.conf:1:6: invalid escape: \x needs two hexadecimal digits`},
	{"separator where a key belongs", "= 1", "test.conf:1:1: unexpected '=': expected a key"},
	{"separator where a map key belongs", "a {\n  : 1\n}", "test.conf:2:3: unexpected ':': expected a key"},
	{"two values on a line", "a = 1 b = 2", "test.conf:1:7: expected a newline, ';' or ',' after the value, found 'b'"},
	{"unquoted duration with two units", "ping_interval = 1m30s",
		`test.conf:1:19: expected a newline, ';' or ',' after the value, found '3' (quote values such as durations that start with a digit, e.g. "1m30s")`},
	{"junk after a map value", "a { b = \"x\"y }", "test.conf:1:12: expected a newline, ';', ',' or '}' after the value, found 'y'"},
	{"junk after an array element", "a = [x y]", "test.conf:1:8: expected ',' or ']' after the value, found 'y'"},
	{"empty array element", "a = [1,,2]", "test.conf:1:8: unexpected ',' in array: expected a value or ']'"},
	{"']' in a block", "a { ] }", "test.conf:1:5: unexpected ']' in the block opened at 1:3"},
	{"lone slash at top level", "/a = 1", "test.conf:1:1: unexpected '/': comments start with '//' or '#'"},
	{"value missing at end of line", "a =\nb = 1", "test.conf:1:4: expected a value, found end of line"},
	{"key without value at end of file", "a = 1\nlonely", `test.conf:2:1: key "lonely" has no value`},
	{"key without value in a block", "a { b }", `test.conf:1:5: key "b" has no value`},
	{"leading dot", "a = .5", "test.conf:1:5: a value cannot start with '.': numbers start with a digit, and other text must be quoted"},
	{"leading minus on text", "a = -x", "test.conf:1:5: expected a digit after '-', found 'x' (quote text that starts with '-')"},
	{"digit after dot missing", "a = 1.x", "test.conf:1:7: expected a digit after '.', found 'x'"},
	{"date-like text", "a = 12-34", "test.conf:1:5: digits followed by '-' must be a Zulu datetime such as 2006-01-02T15:04:05Z; quote other text"},
	{"truncated datetime", "a = 2020-01-02", "test.conf:1:15: expected a datetime such as 2006-01-02T15:04:05Z, found end of file"},
	{"impossible datetime", "a = 2020-13-02T00:00:00Z", `test.conf:1:5: invalid datetime "2020-13-02T00:00:00Z": parsing time "2020-13-02T00:00:00Z": month out of range`},
	{"integer out of range", "a = 99999999999999999999", "test.conf:1:5: integer 99999999999999999999 is out of range"},
	{"size out of range", "a = 16EB", "test.conf:1:5: integer 16EB is out of range"},
	{"unknown size unit", "a = 1kbb", `test.conf:1:5: invalid integer "1kbb": unknown unit "kbb" (use K, KB, KiB, M, MB, MiB, ... E, EB, EiB)`},
	{"undefined variable", "a {\n  b = $missing\n}", `test.conf:2:7: undefined variable $missing: no key "missing" earlier in this block or an enclosing one, and no such environment variable`},
	{"include missing", "a = 1\ninclude gone.conf", `test.conf:2:1: include "gone.conf": open gone.conf: file does not exist`},
	{"include without a path", "include ;", "test.conf:1:1: include needs a file name"},
	{"include of an array", "include [x]", "test.conf:1:9: expected an include file name, found '['"},
	{"NUL byte", "a = 1\nb = x\x00", "test.conf:2:6: NUL byte in configuration"},
}

func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMem(tc.src, memFiles{}, nil)
			if err == nil {
				t.Fatalf("parse %q succeeded", tc.src)
			}
			if err.Error() != tc.want {
				t.Errorf("parse %q:\n got  %s\n want %s", tc.src, err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "test.conf" || ce.Line < 1 || ce.Col < 1 {
				t.Errorf("error %#v lacks a position", err)
			}
		})
	}
}

func TestNestingLimit(t *testing.T) {
	deep := "a = " + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := parseMem(deep, nil, nil); err != nil {
		t.Fatalf("%d levels: %v", maxDepth, err)
	}
	tooDeep := "a = " + strings.Repeat("{b = ", maxDepth) + "{}" + strings.Repeat("}", maxDepth)
	_, err := parseMem(tooDeep, nil, nil)
	want := "nesting deeper than 100 levels of blocks, arrays and includes"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestErrorFormatting(t *testing.T) {
	e := &Error{Pos: Pos{Line: 3, Col: 7}, Msg: "bad"}
	if got := e.Error(); got != "3:7: bad" {
		t.Errorf("without file: %q", got)
	}
	e = &Error{Pos: Pos{"c.conf", 1, 2}, Msg: "bad", IncludedFrom: []Pos{{"b.conf", 3, 4}, {"a.conf", 5, 6}}}
	if got, want := e.Error(), "c.conf:1:2: bad (included from b.conf:3:4, a.conf:5:6)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Pos{"x.conf", 7, 3}).Errorf("max_payload: invalid size %q", "lots").Error(); got != `x.conf:7:3: max_payload: invalid size "lots"` {
		t.Errorf("Pos.Errorf: %q", got)
	}
}
