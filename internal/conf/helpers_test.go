package conf

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
)

// memFiles is an in-memory file system for include tests and the fuzz
// target: slash-separated paths relative to the working directory.
type memFiles map[string]string

func (f memFiles) read(name string) ([]byte, error) {
	s, ok := f[filepath.ToSlash(filepath.Clean(name))]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

// parseMem parses src as "test.conf" with the given files and environment.
func parseMem(src string, files memFiles, env map[string]string) (*Map, error) {
	ld := newLoader(files.read, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	return ld.parseText(src, "test.conf", ".", 0)
}

// checkTree fails the test unless m holds exactly want.
func checkTree(t *testing.T, m *Map, want map[string]any) {
	t.Helper()
	if got := m.Interface(); !reflect.DeepEqual(got, want) {
		t.Errorf("tree mismatch\n got: %s\nwant: %s", show(got), show(want))
	}
}

// show prints a tree with types, so 1 and "1" differ visibly.
func show(v any) string { return fmt.Sprintf("%#v", v) }
