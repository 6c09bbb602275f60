// Package serverproc holds what the benchmark programs share to run
// server processes on loopback: a free port, and waiting for a listener.
package serverproc

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitListening polls the loopback port until it accepts a connection or
// d passes.
func WaitListening(port int, d time.Duration) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %v: %w", addr, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
