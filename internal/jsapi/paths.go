package jsapi

import (
	"errors"
	"io/fs"
	"os"
	"strings"
)

// PathFree returns err as a client may see it: without the server's file
// paths. A file system error (open, mkdir, rename, ...) becomes its
// operation and cause ("open: no space left on device"), which is what a
// client can act on; the caller logs the full error. Other errors are
// returned as they are.
func PathFree(err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &pathFreeError{op: pe.Op, err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &pathFreeError{op: le.Op, err: le.Err}
	}
	return err
}

// pathFreeError keeps the cause for errors.Is (ENOSPC, EACCES, ...).
type pathFreeError struct {
	op  string
	err error
}

func (e *pathFreeError) Error() string { return e.op + ": " + e.err.Error() }
func (e *pathFreeError) Unwrap() error { return e.err }

// ScrubPath removes dir (an absolute directory such as the store's) from
// an error description, the last guard against a path that an error built
// by hand carries. It reports whether it changed anything.
func ScrubPath(desc, dir string) (string, bool) {
	if dir == "" || dir == "/" || !strings.Contains(desc, dir) {
		return desc, false
	}
	return strings.ReplaceAll(desc, dir, "<store_dir>"), true
}
