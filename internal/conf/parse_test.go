package conf

import (
	"slices"
	"strings"
	"testing"
	"time"
)

type m = map[string]any
type a = []any

// syntaxCases cover the format feature by feature. Every expected tree
// here was also checked against nats-server's own parser; the one that
// differs on purpose is "block string ending the file" (see doc.go).
var syntaxCases = []struct {
	name string
	src  string
	want m
}{
	{"empty", "", m{}},
	{"only comments and blank lines", "\n# one\n\n// two\n   \n", m{}},
	{"three key separators", "a = 1\nb: 2\nc 3\n", m{"a": int64(1), "b": int64(2), "c": int64(3)}},
	{"separators without spaces", "a=1\nb:2", m{"a": int64(1), "b": int64(2)}},
	{"semicolons and commas end entries", "a=1; b=2, c=3;", m{"a": int64(1), "b": int64(2), "c": int64(3)}},
	{"value on the line after a top-level key", "port\n4222\n", m{"port": int64(4222)}},
	{"brace on the line after a key", "cluster\n{\n  port: 6222\n}\n", m{"cluster": m{"port": int64(6222)}}},
	{"separator before a block is optional", "a { x = 1 }\nb: { x = 2 }\nc = {x = 3}",
		m{"a": m{"x": int64(1)}, "b": m{"x": int64(2)}, "c": m{"x": int64(3)}}},
	{"separator before an array is optional", "a [1, 2 ]\nb: [3 ]", m{"a": a{int64(1), int64(2)}, "b": a{int64(3)}}},
	{"quoted keys", "\"my key\" = 1\n'other key': 2\n\"include\" = 3",
		m{"my key": int64(1), "other key": int64(2), "include": int64(3)}},
	{"include is an ordinary key before '=' or ':'", "include: 5\n", m{"include": int64(5)}},
	{"odd characters in bare keys", "a.b-c/d_e = 1\ncluster{ = 2", m{"a.b-c/d_e": int64(1), "cluster{": int64(2)}},
	{"double-quoted escapes", `s = "tab\there nl\n cr\r \"q\" back\\slash \x41\x7a"`,
		m{"s": "tab\there nl\n cr\r \"q\" back\\slash Az"}},
	{"single quotes are raw", `s = 'C:\nats\new'`, m{"s": `C:\nats\new`}},
	{"unquoted words take escapes", `s = one\ttwo`, m{"s": "one\ttwo"}},
	{"a single quote ends an unquoted word", "s = ab'\nt = true'", m{"s": "ab", "t": "true"}},
	{"strings may span lines", "s = \"one\ntwo\"\nt = 'three\nfour'", m{"s": "one\ntwo", "t": "three\nfour"}},
	{"empty strings", "a = \"\"\nb = ''\nc = ;\nd =", m{"a": "", "b": "", "c": "", "d": ""}},
	{"booleans in any case", "a=true\nb=TRUE\nc=yes\nd=On\ne=false\nf=No\ng=OFF\nh=\"true\"\ni=truex",
		m{"a": true, "b": true, "c": true, "d": true, "e": false, "f": false, "g": false, "h": "true", "i": "truex"}},
	{"integers and floats", "a=0\nb=42\nc=-7\nd=1.5\ne=-0.25\nf=007",
		m{"a": int64(0), "b": int64(42), "c": int64(-7), "d": 1.5, "e": -0.25, "f": int64(7)}},
	{"decimal size suffixes", "a=2k\nb=3M\nc=1g\nd=1T\ne=1p\nf=1e\ng=-2K",
		m{"a": int64(2000), "b": int64(3e6), "c": int64(1e9), "d": int64(1e12), "e": int64(1e15), "f": int64(1e18), "g": int64(-2000)}},
	{"binary size suffixes", "a=2kb\nb=2KI\nc=2KiB\nd=8MB\ne=1GiB\nf=1tb\ng=1Pi\nh=1EB",
		m{"a": int64(2048), "b": int64(2048), "c": int64(2048), "d": int64(8 << 20), "e": int64(1 << 30), "f": int64(1 << 40), "g": int64(1 << 50), "h": int64(1 << 60)}},
	{"digit-led words that are not numbers are strings", "a=3secret\nb=2s\nc=500ms\nd=1h\ne=1Mbit\nf=12'ab",
		m{"a": "3secret", "b": "2s", "c": "500ms", "d": "1h", "e": "1Mbit", "f": "12'ab"}},
	{"addresses", "a=127.0.0.1:4222\nb=0.0.0.0\nc=10.1.2.3:1-2", m{"a": "127.0.0.1:4222", "b": "0.0.0.0", "c": "10.1.2.3:1-2"}},
	{"datetime", "t = 2023-04-05T06:07:08Z", m{"t": time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)}},
	{"comments after values and keys", "a = 1 # one\nb = 2 // two\nc { # open\n  d = 3 // inner\n  # alone\n} # after\n",
		m{"a": int64(1), "b": int64(2), "c": m{"d": int64(3)}}},
	{"a comment marker where a value belongs is text", "a = #nohash\nb = x#y\nc = //x", m{"a": "#nohash", "b": "x#y", "c": "//x"}},
	{"comments in arrays", "a = [ # first\n  1 // one\n  # nothing\n  2\n]", m{"a": a{int64(1), int64(2)}}},
	{"arrays separated by newlines", "a [\n  x\n  y\n]", m{"a": a{"x", "y"}}},
	{"trailing comma in arrays", "a = [x, y, ]\nb = [\n  1,\n  2,\n]", m{"a": a{"x", "y"}, "b": a{int64(1), int64(2)}}},
	{"empty containers", "a = []\nb = {}", m{"a": a{}, "b": m{}}},
	{"nested arrays", "a = [[1, 2 ], [x, [y ] ], []]", m{"a": a{a{int64(1), int64(2)}, a{"x", a{"y"}}, a{}}}},
	{"arrays of maps", "u = [\n  {user: a, pass: b}\n  {user: c; pass: d}, {user: e\n pass: f}\n]",
		m{"u": a{m{"user": "a", "pass": "b"}, m{"user": "c", "pass": "d"}, m{"user": "e", "pass": "f"}}}},
	{"map values may follow on the next line", "m {\n  a =\n    1\n  b\n  2\n}", m{"m": m{"a": int64(1), "b": int64(2)}}},
	{"inline maps with commas", "m = {a: 1, b: 2, c: {d: 3}}", m{"m": m{"a": int64(1), "b": int64(2), "c": m{"d": int64(3)}}}},
	{"block string", "text (\nline one\n  line (two)\n)\nafter = 1",
		m{"text": "\nline one\n  line (two)\n", "after": int64(1)}},
	{"block string ending the file", "text (\nx\n)", m{"text": "\nx\n"}},
	{"whole file in braces", "{\n  \"a\": 1,\n  \"b\": [\"x\", \"y\" ],\n  \"c\": {\"d\": true}\n}\n",
		m{"a": int64(1), "b": a{"x", "y"}, "c": m{"d": true}}},
	{"separators and comments inside top-level braces", "{ a = 1; b = 2, c = 3 # x\n d = 4 // y\n}",
		m{"a": int64(1), "b": int64(2), "c": int64(3), "d": int64(4)}},
	{"keys after top-level braces", "{ a = 1 } b = 2", m{"a": int64(1), "b": int64(2)}},
	{"nested top-level braces", "{ {a = 1}, {b = 2} # c\n c = 3 }", m{"a": int64(1), "b": int64(2), "c": int64(3)}},
	{"stray closing brace at the end", "a { b = 1 }\n}\n", m{"a": m{"b": int64(1)}}},
	{"later keys replace earlier ones", "a = 1\na = 2", m{"a": int64(2)}},
	{"CRLF line endings", "a = 1\r\nb {\r\n  c = x\r\n}\r\n", m{"a": int64(1), "b": m{"c": "x"}}},
	{"variables", "a = 1\nb = $a", m{"a": int64(1), "b": int64(1)}},
}

func TestSyntax(t *testing.T) {
	for _, tc := range syntaxCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMem(tc.src, nil, nil)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			checkTree(t, got, tc.want)
		})
	}
}

// quirkCases pin behaviour that looks odd but is what nats-server does
// (each checked against it), so that configs behave identically on both
// servers.
var quirkCases = []struct {
	name    string
	src     string
	want    m      // when the parse succeeds
	wantErr string // when it fails
}{
	{"a digit-led word only ends at a blank, comma or newline", "a = [1k]\nb = 4222]", m{"a": a{"1k"}, "b": "4222]"}, ""},
	{"so an integer right before ']' breaks the array", "a = [1, 2]", nil, "expected ']' to close array opened at 1:5"},
	{"a negative integer before ']' is fine", "a = [-1]", m{"a": a{int64(-1)}}, ""},
	{"1m is a size, not a minute", "a = 1m", m{"a": int64(1000000)}, ""},
	{"a lone '/' after a value is ignored", "a = 1 /", m{"a": int64(1)}, ""},
	{"a lone '/' separates array elements", "a = [x / y ]", m{"a": a{"x", "y"}}, ""},
	{"'}' after a top-level value is ignored", "a = 1 }\nb = 2", m{"a": int64(1), "b": int64(2)}, ""},
	{"text cannot start with '-'", "a = -x", nil, "expected a digit after '-'"},
	{"a comma at the start of an array line", "a = [1\n, 2 ]", nil, "unexpected ',' in array"},
	{"no exponent in floats", "a = 1e3", nil, "expected a newline, ';' or ','"},
	{"bcrypt hashes need no quotes", "p = $2a$11$abc", m{"p": "$2a$11$abc"}, ""},
}

func TestNatsQuirks(t *testing.T) {
	for _, tc := range quirkCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMem(tc.src, nil, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parse %q: got error %v, want one containing %q", tc.src, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			checkTree(t, got, tc.want)
		})
	}
}

func TestKeyOrderAndPositions(t *testing.T) {
	src := "b = 1\n" +
		"a {\n" +
		"  \"q\": 'x'\n" +
		"  list = [\n" +
		"    7, é8\n" +
		"  ]\n" +
		"}\n" +
		"b = 2\n"
	root, err := parseMem(src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range root.Entries() {
		keys = append(keys, e.Key)
	}
	// "b" keeps its first place but holds the later value and position.
	if want := []string{"b", "a"}; !slices.Equal(keys, want) {
		t.Fatalf("key order %v, want %v", keys, want)
	}
	b, _ := root.Entry("b")
	if got := b.Value.Interface(); got != int64(2) {
		t.Errorf("b = %v, want 2", got)
	}
	blk, _ := root.Get("a")
	inner, _ := blk.AsMap()
	q, _ := inner.Entry("q")
	list, _ := inner.Get("list")
	elems, _ := list.AsArray()

	checks := []struct {
		what string
		got  Pos
		want Pos
	}{
		{"key b", b.KeyPos, Pos{"test.conf", 8, 1}},
		{"value of b", b.Value.Pos, Pos{"test.conf", 8, 5}},
		{"block a", blk.Pos, Pos{"test.conf", 2, 3}},
		{"quoted key q", q.KeyPos, Pos{"test.conf", 3, 3}},
		{"value of q", q.Value.Pos, Pos{"test.conf", 3, 8}},
		{"array", list.Pos, Pos{"test.conf", 4, 10}},
		{"first element", elems[0].Pos, Pos{"test.conf", 5, 5}},
		// Columns count bytes: "é" is two.
		{"second element", elems[1].Pos, Pos{"test.conf", 5, 8}},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s at %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	root, err := parseMem("s = x\ni = 1\nf = 1.5\nb = on\nt = 2020-01-02T03:04:05Z\nm {}\nl []", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) *Value {
		v, ok := root.Get(k)
		if !ok {
			t.Fatalf("missing %s", k)
		}
		return v
	}
	if s, err := get("s").AsString(); s != "x" || err != nil {
		t.Errorf("AsString = %q, %v", s, err)
	}
	if i, err := get("i").AsInt(); i != 1 || err != nil {
		t.Errorf("AsInt = %d, %v", i, err)
	}
	if f, err := get("f").AsFloat(); f != 1.5 || err != nil {
		t.Errorf("AsFloat = %v, %v", f, err)
	}
	if b, err := get("b").AsBool(); !b || err != nil {
		t.Errorf("AsBool = %v, %v", b, err)
	}
	if tm, err := get("t").AsTime(); tm.Year() != 2020 || err != nil {
		t.Errorf("AsTime = %v, %v", tm, err)
	}
	if mp, err := get("m").AsMap(); mp == nil || mp.Len() != 0 || err != nil {
		t.Errorf("AsMap = %v, %v", mp, err)
	}
	if l, err := get("l").AsArray(); l == nil || len(l) != 0 || err != nil {
		t.Errorf("AsArray = %v, %v", l, err)
	}
	// A wrong kind names the position and both kinds.
	_, err = get("s").AsInt()
	if want := "test.conf:1:5: expected integer, got string"; err == nil || err.Error() != want {
		t.Errorf("AsInt on a string: %v, want %q", err, want)
	}
	if _, ok := root.Get("nope"); ok {
		t.Error("Get of a missing key succeeded")
	}
}
