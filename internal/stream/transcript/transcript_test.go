package transcript

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Field
		err  bool
	}{
		{"cmd", []Field{{Key: "cmd", Bare: true}}, false},
		{"  cmd  k=v  ", []Field{{Key: "cmd", Bare: true}, {Key: "k", Val: "v"}}, false},
		{`k="a b" x= z`, []Field{{Key: "k", Val: "a b"}, {Key: "x"}, {Key: "z", Bare: true}}, false},
		{`k="a\"b"`, []Field{{Key: "k", Val: `a"b`}}, false},
		{`k="open`, nil, true},
	} {
		got, err := Fields(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("Fields(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestValue(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "": `""`, "a b": `"a b"`, `a"`: `"a\""`, "k=v": `"k=v"`, "\x01": `"\x01"`} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %s, want %s", in, got, want)
		}
		if f, err := Fields("k=" + Value(in)); err != nil || f[0].Val != in {
			t.Errorf("Value(%q) does not read back: %+v, %v", in, f, err)
		}
	}
}

// TestRun runs a transcript whose command echoes its arguments and input.
func TestRun(t *testing.T) {
	var cmds []string
	Run(t, "testdata/echo.txt", func(t *testing.T, c *Case) string {
		cmds = append(cmds, c.Cmd)
		var out []string
		for _, f := range c.Args {
			if f.Bare {
				out = append(out, f.Key)
			} else {
				out = append(out, f.Key+"="+Value(f.Val))
			}
		}
		if len(c.Input) > 0 {
			out = append(out, fmt.Sprintf("input: %s", strings.Join(c.Input, "|")))
		}
		return strings.Join(out, "\n")
	})
	if !slices.Equal(cmds, []string{"echo", "echo"}) {
		t.Fatalf("commands run: %v", cmds)
	}
}
