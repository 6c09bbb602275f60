package core

import (
	"syscall"
	"unsafe"
)

// writevNow writes bufs with one writev on a non-blocking socket without
// waiting for it to become writable: a full socket buffer writes less, or
// nothing, and is not an error.
func writevNow(raw syscall.RawConn, bufs [][]byte, iov *[]syscall.Iovec) (int, error) {
	v := (*iov)[:0]
	for _, b := range bufs {
		if len(b) > 0 {
			io := syscall.Iovec{Base: &b[0]}
			io.SetLen(len(b))
			v = append(v, io)
		}
	}
	*iov = v
	if len(v) == 0 {
		return 0, nil
	}
	var n uintptr
	var errno syscall.Errno
	err := raw.Write(func(fd uintptr) bool {
		n, _, errno = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
		return true // never wait for writability: the writer goroutine does that
	})
	for i := range v {
		v[i] = syscall.Iovec{} // do not keep chunks reachable from the scratch
	}
	switch {
	case err != nil:
		return 0, err
	case errno == syscall.EAGAIN || errno == syscall.EINTR:
		return 0, nil
	case errno != 0:
		return 0, errno
	}
	return int(n), nil
}
