package conf

import (
	"errors"
	"strings"
	"testing"
)

var varCases = []struct {
	name string
	src  string
	env  map[string]string
	want m
}{
	{"file scope", "port = 4222\nlisten = $port", nil, m{"port": int64(4222), "listen": int64(4222)}},
	{"an enclosing block is visible", "x = 1\nb { c { y = $x } }", nil, m{"x": int64(1), "b": m{"c": m{"y": int64(1)}}}},
	{"an inner key shadows an outer one, only inside its block", "x = 1\nb { x = 2\n y = $x }\nz = $x", nil,
		m{"x": int64(1), "b": m{"x": int64(2), "y": int64(2)}, "z": int64(1)}},
	{"maps inside arrays see their enclosing blocks", "p = 5\nl = [ {v: $p}, $p ]", nil,
		m{"p": int64(5), "l": a{m{"v": int64(5)}, int64(5)}}},
	{"the latest definition before the reference wins", "a = 1\na = 2\nb = $a", nil, m{"a": int64(2), "b": int64(2)}},
	{"a variable can hold a block", "perms { publish: \"x.>\" }\nu { permissions: $perms }", nil,
		m{"perms": m{"publish": "x.>"}, "u": m{"permissions": m{"publish": "x.>"}}}},
	{"kinds are kept", "s = 'x'\nf = 1.5\nb = yes\nl = [1 ]\nv = [$s, $f, $b, $l]", nil,
		m{"s": "x", "f": 1.5, "b": true, "l": a{int64(1)}, "v": a{"x", 1.5, true, a{int64(1)}}}},
	{"no expansion inside quotes", "a = 1\nb = \"$a\"\nc = '$a'", nil, m{"a": int64(1), "b": "$a", "c": "$a"}},
	{"the environment is the outermost scope", "p = $PORT", map[string]string{"PORT": "4222"}, m{"p": int64(4222)}},
	{"a key defined in the file beats the environment", "PORT = 1\np = $PORT", map[string]string{"PORT": "2"},
		m{"PORT": int64(1), "p": int64(1)}},
	{"environment text is parsed as a value", "a = $SIZE\nb = $WORD\nc = $QUOTED\nd = $LIST\ne = $FLAG",
		map[string]string{"SIZE": "4k", "WORD": "3Gyz", "QUOTED": "'3xyz'", "LIST": "[a, b ]", "FLAG": "off"},
		m{"a": int64(4000), "b": "3Gyz", "c": "3xyz", "d": a{"a", "b"}, "e": false}},
	{"environment variables may refer to others", "a = $OUTER", map[string]string{"OUTER": "$INNER", "INNER": "7"},
		m{"a": int64(7)}},
	{"an empty environment variable is an empty string", "a = $EMPTY", map[string]string{"EMPTY": ""}, m{"a": ""}},
	{"bcrypt hashes are not variables", "pass = $2a$11$xyz", nil, m{"pass": "$2a$11$xyz"}},
}

func TestVariables(t *testing.T) {
	for _, tc := range varCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMem(tc.src, nil, tc.env)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			checkTree(t, got, tc.want)
		})
	}
}

// TestVariableFromProcessEnvironment goes through Parse and the real
// environment rather than the injected one.
func TestVariableFromProcessEnvironment(t *testing.T) {
	t.Setenv("STARLING_CONF_TEST_PAYLOAD", "8MB")
	got, err := Parse("max_payload: $STARLING_CONF_TEST_PAYLOAD")
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, got, m{"max_payload": int64(8 << 20)})
}

func TestVariableErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		env  map[string]string
		want string
	}{
		{"undefined", "a = 1\nb {\n  c = $nope\n}", nil,
			`test.conf:3:7: undefined variable $nope: no key "nope" earlier in this block or an enclosing one, and no such environment variable`},
		{"defined later", "a = $b\nb = 1", nil, "test.conf:1:5: undefined variable $b"},
		{"a block's own key is not defined inside it", "a { b = $a }", nil, "test.conf:1:9: undefined variable $a"},
		{"a sibling block is not a scope", "x { v = 1 }\ny { w = $v }", nil, "test.conf:2:9: undefined variable $v"},
		{"bare $", "a = $", nil, "test.conf:1:5: undefined variable $:"},
		{"environment cycle", "a = $LOOP", map[string]string{"LOOP": "$LOOP"},
			"test.conf:1:5: in environment variable LOOP at 1:1: variable $LOOP refers to itself through the environment"},
		{"bad environment text", "a = 1\nb = $BAD", map[string]string{"BAD": "x y"},
			"test.conf:2:5: in environment variable BAD at 1:3: expected a newline, ';' or ',' after the value, found 'y'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMem(tc.src, nil, tc.env)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("parse %q: got %v, want %q", tc.src, err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *Error", err)
			}
		})
	}
}

func TestVariableUseIsRecorded(t *testing.T) {
	src := "SECRET = 's'\nUNUSED = 'u'\nauth { pass = $SECRET }"
	root, err := parseMem(src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]bool{"SECRET": true, "UNUSED": false, "auth": false} {
		if e, _ := root.Entry(key); e.Referenced != want {
			t.Errorf("%s.Referenced = %v, want %v", key, e.Referenced, want)
		}
	}
	// The resolved value points at the reference, not the definition,
	// because that is where an operator must look when it is rejected.
	auth, _ := root.Get("auth")
	am, _ := auth.AsMap()
	pass, _ := am.Get("pass")
	if want := (Pos{"test.conf", 3, 15}); pass.Pos != want {
		t.Errorf("resolved value at %v, want %v", pass.Pos, want)
	}
}
