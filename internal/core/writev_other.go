//go:build !linux

package core

import (
	"errors"
	"syscall"
)

// writevNow is Linux-only; elsewhere producers always hand off to the
// writer goroutine.
func writevNow(syscall.RawConn, [][]byte, *[]syscall.Iovec) (int, error) {
	return 0, errors.ErrUnsupported
}
