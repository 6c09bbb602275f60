package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Files and environment the fuzz target can reach: a normal include, one
// that includes itself, a broken one, and variables that are plain,
// structured, chained and circular.
var (
	fuzzFiles = memFiles{
		"inc.conf":  "x = 1\ny { z = [1, 2 ] }\n",
		"self.conf": "include self.conf\n",
		"bad.conf":  "a = \"open\n",
	}
	fuzzEnv = map[string]string{"NUM": "42", "LIST": "[a, {b: 1} ]", "CHAIN": "$NUM", "LOOP": "$LOOP"}
)

// checkParse is the property every input must have: parsing never panics
// (the fuzz engine catches that), a failure is an *Error whose position
// lies inside the input, and a success prints as text that parses back to
// the same tree.
func checkParse(t *testing.T, src string) {
	root, err := parseMem(src, fuzzFiles, fuzzEnv)
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("parse %q: error %T is not *Error: %v", src, err, err)
		}
		if ce.File == "test.conf" {
			checkInside(t, src, ce.Pos)
		}
		return
	}
	if nodes(root, 10000) > 10000 {
		return
	}
	text, ok := format(root)
	if !ok {
		return
	}
	again, err := parseMem(text, nil, nil)
	if err != nil {
		// Resolving variables can nest a tree deeper than any one
		// block in the input was.
		if strings.Contains(err.Error(), "nesting deeper") {
			return
		}
		t.Fatalf("parse %q: printed as %q, which fails: %v", src, text, err)
	}
	if got, want := again.Interface(), root.Interface(); !reflect.DeepEqual(got, want) {
		t.Fatalf("parse %q: printed as %q, which parses to\n%s\nnot\n%s", src, text, show(got), show(want))
	}
}

// checkInside fails unless p is a line and column of src (or just past
// the end of a line).
func checkInside(t *testing.T, src string, p Pos) {
	lines := strings.Split(src, "\n")
	if p.Line < 1 || p.Line > len(lines) || p.Col < 1 || p.Col > len(lines[p.Line-1])+1 {
		t.Fatalf("parse %q: error position %d:%d is outside the input", src, p.Line, p.Col)
	}
}

// fuzzSeeds gathers every input the table tests use, plus the fixtures.
func fuzzSeeds(t testing.TB) []string {
	var seeds []string
	for _, tc := range syntaxCases {
		seeds = append(seeds, tc.src)
	}
	for _, tc := range quirkCases {
		seeds = append(seeds, tc.src)
	}
	for _, tc := range varCases {
		seeds = append(seeds, tc.src)
	}
	for _, tc := range errorCases {
		seeds = append(seeds, tc.src)
	}
	seeds = append(seeds, "include inc.conf\nw = $y", "a { include self.conf }", "include bad.conf",
		"a = [$LIST, $CHAIN]", "a = $LOOP")
	for _, f := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, string(data))
	}
	return seeds
}

var fixtures = []string{"production.conf", "json.conf", "include/main.conf", "include/auth/users.conf"}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkParse(t, src)
	})
}

// TestEveryPrefix cuts the fixtures at every byte, the way a truncated
// file or an editor's half-saved buffer would look.
func TestEveryPrefix(t *testing.T) {
	for _, f := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(data) + 1 {
			checkParse(t, string(data[:i]))
		}
	}
}
