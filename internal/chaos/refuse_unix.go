//go:build unix

package chaos

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// refuser holds a loopback port that refuses every connection at once: a
// socket bound to it that never listens. The kernel answers a SYN to it
// with a reset, so a dial fails as "connection refused" (a failed attempt,
// not a connection that opens and then closes), and no other listener
// can take the port while the socket holds it (it is bound without
// SO_REUSEADDR).
type refuser struct {
	fd   int
	addr string
}

func newRefuser() (*refuser, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("refuser socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("refuser bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("refuser address: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		syscall.Close(fd)
		return nil, fmt.Errorf("refuser address %v is not IPv4", sa)
	}
	return &refuser{fd: fd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(in4.Port))}, nil
}

// Addr is the refusing address, host:port.
func (r *refuser) Addr() string { return r.addr }

func (r *refuser) Close() error { return syscall.Close(r.fd) }
