//go:build !unix

package chaos

import (
	"errors"
	"net"
)

// refuser, where a bound socket cannot be had without listening, is a
// listener that closes every connection it accepts: a dial then succeeds
// and the connection ends at once, which a server retries as a route that
// closed rather than counting a failed attempt. The harness is meant for
// unix systems; this keeps the package building elsewhere.
type refuser struct {
	ln   net.Listener
	done chan struct{}
}

func newRefuser() (*refuser, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &refuser{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err == nil {
				c.Close()
			}
		}
	}()
	return r, nil
}

func (r *refuser) Addr() string { return r.ln.Addr().String() }

func (r *refuser) Close() error {
	err := r.ln.Close()
	<-r.done
	return err
}
