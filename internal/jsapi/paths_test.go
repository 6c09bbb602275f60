package jsapi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestPathFree(t *testing.T) {
	full := &fs.PathError{Op: "open", Path: "/var/lib/starling/streams/S/meta.json", Err: syscall.ENOSPC}
	cases := []struct {
		in   error
		want string
	}{
		{full, "open: no space left on device"},
		{fmt.Errorf("create stream S in /var/lib/starling: %w", full), "open: no space left on device"},
		{&os.LinkError{Op: "rename", Old: "/a/b", New: "/a/c", Err: syscall.EACCES}, "rename: permission denied"},
		{errors.New("maximum messages exceeded"), "maximum messages exceeded"},
	}
	for _, tc := range cases {
		got := PathFree(tc.in)
		if got.Error() != tc.want || strings.Contains(got.Error(), "/") {
			t.Errorf("PathFree(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !errors.Is(PathFree(full), syscall.ENOSPC) {
		t.Error("cause lost")
	}
	if PathFree(nil) != nil {
		t.Error("nil changed")
	}
}

func TestScrubPath(t *testing.T) {
	got, changed := ScrubPath("stream dir /srv/js/streams/S is not empty", "/srv/js")
	if !changed || got != "stream dir <store_dir>/streams/S is not empty" {
		t.Fatalf("got %q %v", got, changed)
	}
	if _, changed := ScrubPath("consumer name can not contain '\\', '/'", "/"); changed {
		t.Fatal("root scrubbed")
	}
}
