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

const haveWritev = false

// writevAll is Linux-only; the writer uses net.Buffers elsewhere.
func writevAll(syscall.RawConn, [][]byte, *[]syscall.Iovec, func(int)) (int, error) {
	return 0, errors.ErrUnsupported
}

// sendQueued is unknown off Linux.
func sendQueued(syscall.RawConn) (int, bool) { return 0, false }
