package core

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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

// haveWritev: the writer drives writev itself.
const haveWritev = true

// maxIovecs is the most buffers one writev takes (IOV_MAX on Linux).
const maxIovecs = 1024

// writevAll writes all of bufs, waiting for the socket to become writable
// as often as it must, until the deadline set on its connection. Every
// write that moves bytes is reported to progress as it happens.
func writevAll(raw syscall.RawConn, bufs [][]byte, iov *[]syscall.Iovec, progress func(int)) (int, error) {
	total := 0
	i, off := 0, 0 // the first unwritten byte is bufs[i][off]
	var errno syscall.Errno
	err := raw.Write(func(fd uintptr) bool {
		for {
			v := (*iov)[:0]
			for j := i; j < len(bufs) && len(v) < maxIovecs; j++ {
				b := bufs[j]
				if j == i {
					b = b[off:]
				}
				if len(b) > 0 {
					io := syscall.Iovec{Base: &b[0]}
					io.SetLen(len(b))
					v = append(v, io)
				}
			}
			*iov = v
			if len(v) == 0 {
				return true
			}
			n, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&v[0])), uintptr(len(v)))
			switch e {
			case 0:
			case syscall.EAGAIN:
				return false // wait until the socket is writable, or the deadline
			case syscall.EINTR:
				continue
			default:
				errno = e
				return true
			}
			total += int(n)
			progress(int(n))
			for left := int(n); left > 0; {
				if rem := len(bufs[i]) - off; left >= rem {
					left -= rem
					i, off = i+1, 0
				} else {
					off += left
					left = 0
				}
			}
		}
	})
	for k := range *iov {
		(*iov)[k] = syscall.Iovec{} // do not keep chunks reachable from the scratch
	}
	switch {
	case err != nil:
		return total, err
	case errno != 0:
		return total, errno
	}
	return total, nil
}

// sendQueued returns how many bytes wait in the socket's send queue, sent
// or not, that the peer has not acknowledged.
func sendQueued(raw syscall.RawConn) (int, bool) {
	var q int
	var qerr error
	if err := raw.Control(func(fd uintptr) {
		q, qerr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
	}); err != nil || qerr != nil {
		return 0, false
	}
	return q, true
}
