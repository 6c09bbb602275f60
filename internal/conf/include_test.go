package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIncludeFiles reads testdata/include: a relative include, an include
// inside a block, an include nested two deep whose path is relative to the
// included file, and a variable defined by one included file and used by
// the file that included it.
func TestIncludeFiles(t *testing.T) {
	root, err := ParseFile(filepath.Join("testdata", "include", "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	perms := m{"publish": "alice.>", "subscribe": a{"alice.>", "_INBOX.>"}}
	checkTree(t, root, m{
		"port":            int64(4224),
		"max_payload":     int64(2 << 20), // main.conf overrides limits.conf
		"max_connections": int64(100),
		"authorization": m{
			"DEFAULT_PERMS": perms,
			"users": a{
				m{"user": "alice", "password": "alice-pw", "permissions": perms},
				m{"user": "bob", "password": "bob-pw"},
			},
			"timeout": int64(1),
		},
	})

	// Keys keep the file they were written in.
	e, _ := root.Entry("max_connections")
	if want := filepath.Join("testdata", "include", "limits.conf"); e.KeyPos.File != want || e.KeyPos.Line != 2 {
		t.Errorf("max_connections at %v, want %s:2", e.KeyPos, want)
	}
	auth, _ := root.Get("authorization")
	am, _ := auth.AsMap()
	users, _ := am.Entry("users")
	if want := filepath.Join("testdata", "include", "auth", "users.conf"); users.KeyPos.File != want {
		t.Errorf("users at %v, want file %s", users.KeyPos, want)
	}
	if dp, _ := am.Entry("DEFAULT_PERMS"); !dp.Referenced {
		t.Error("DEFAULT_PERMS should be marked as referenced")
	}
}

// TestParseIncludesFromWorkingDirectory: Parse has no file, so, like
// nats-server's conf.Parse, it resolves includes against the working
// directory.
func TestParseIncludesFromWorkingDirectory(t *testing.T) {
	t.Chdir(filepath.Join("testdata", "include"))
	root, err := Parse("include limits.conf\nmax_payload = 5")
	if err != nil {
		t.Fatal(err)
	}
	checkTree(t, root, m{"max_payload": int64(5), "max_connections": int64(100)})
}

func TestIncludeCycle(t *testing.T) {
	_, err := ParseFile(filepath.Join("testdata", "cycle", "a.conf"))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want *Error", err)
	}
	// Reported at the include that closes the loop, in b.conf.
	want := filepath.Join("testdata", "cycle", "b.conf") + ":2:1: include cycle: a.conf includes b.conf includes a.conf" +
		" (included from " + filepath.Join("testdata", "cycle", "a.conf") + ":2:1)"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func TestIncludeMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte("port: 1\n  include 'gone.conf'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.File != path || ce.Line != 2 || ce.Col != 3 {
		t.Fatalf("got %v, want an *Error at %s:2:3", err, path)
	}
	if !strings.Contains(ce.Msg, `include "gone.conf"`) {
		t.Errorf("message %q does not name the include", ce.Msg)
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile(filepath.Join(t.TempDir(), "none.conf"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

func TestIncludeSemantics(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		files memFiles
		want  m
	}{
		{"three ways to write the path", "include a.conf\ninclude 'b.conf'\ninclude \"c.conf\"",
			memFiles{"a.conf": "a = 1", "b.conf": "b = 2", "c.conf": "c = 3"},
			m{"a": int64(1), "b": int64(2), "c": int64(3)}},
		{"the keyword ignores letter case", "INCLUDE a.conf", memFiles{"a.conf": "a = 1"}, m{"a": int64(1)}},
		{"inside a block, merged into that block", "x { include a.conf\n y = $a }", memFiles{"a.conf": "a = 1"},
			m{"x": m{"a": int64(1), "y": int64(1)}}},
		{"keys after an include override it", "include a.conf\na = 2", memFiles{"a.conf": "a = 1"}, m{"a": int64(2)}},
		{"an include overrides keys before it", "a = 2\ninclude a.conf", memFiles{"a.conf": "a = 1"}, m{"a": int64(1)}},
		{"the same file twice", "x { include a.conf }\ny { include a.conf }", memFiles{"a.conf": "a = 1"},
			m{"x": m{"a": int64(1)}, "y": m{"a": int64(1)}}},
		{"an empty file", "include e.conf\nz = 1", memFiles{"e.conf": "# nothing\n"}, m{"z": int64(1)}},
		{"nested paths are relative to the including file", "include d/one.conf",
			memFiles{"d/one.conf": "include two.conf", "d/two.conf": "deep = true"}, m{"deep": true}},
		// Like nats-server, an absolute path is still joined to the
		// including file's directory.
		{"absolute paths are joined too", "include d/one.conf",
			memFiles{"d/one.conf": "include /abs.conf", "d/abs.conf": "abs = 1"}, m{"abs": int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMem(tc.src, tc.files, nil)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			checkTree(t, got, tc.want)
		})
	}
}

func TestIncludedFileDoesNotSeeIncluderVariables(t *testing.T) {
	_, err := parseMem("secret = 1\ninclude a.conf", memFiles{"a.conf": "\n  x = $secret"}, nil)
	want := "a.conf:2:7: undefined variable $secret"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "(included from test.conf:2:1)") {
		t.Fatalf("got %v, want %q ... (included from test.conf:2:1)", err, want)
	}
}

func TestIncludeErrorChain(t *testing.T) {
	files := memFiles{"one.conf": "include two.conf", "two.conf": "ok = 1\nbad = \"\\q\""}
	_, err := parseMem("x {\n  include one.conf\n}", files, nil)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want *Error", err)
	}
	if ce.File != "two.conf" || ce.Line != 2 || ce.Col != 8 {
		t.Errorf("error at %v, want two.conf:2:8", ce.Pos)
	}
	want := []Pos{{"one.conf", 1, 1}, {"test.conf", 2, 3}}
	if len(ce.IncludedFrom) != 2 || ce.IncludedFrom[0] != want[0] || ce.IncludedFrom[1] != want[1] {
		t.Errorf("IncludedFrom = %v, want %v", ce.IncludedFrom, want)
	}
}
