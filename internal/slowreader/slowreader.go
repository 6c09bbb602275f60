// Package slowreader is a raw NATS subscriber that reads steadily but
// slowly, at a set byte rate: the reader the back-pressure tests and
// benchmark need, which no client library offers (a client reads its
// socket as fast as it can and buffers in its own memory).
package slowreader

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	step         = 16 << 10 // bytes per socket read
	readTimeout  = 2 * time.Minute
	writeTimeout = 10 * time.Second
)

// Read consumes c, a connection that has sent CONNECT and SUB, until it
// fails. buffered is what the caller already read from c. It reads at
// most rate bytes per second (0: as fast as it can), counts each MSG in
// msgs, answers PINGs, ignores INFO and -ERR, and closes pong (when not
// nil) at the first PONG. Every read and write has a deadline.
func Read(c net.Conn, buffered []byte, rate float64, msgs *atomic.Int64, pong chan struct{}) error {
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(buffered), &paced{c: c, rate: rate}), 2*step)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(line, "MSG "):
			f := strings.Fields(line)
			size, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				return fmt.Errorf("bad MSG line %q", line)
			}
			if _, err := r.Discard(size + 2); err != nil {
				return err
			}
			msgs.Add(1)
		case line == "PING\r\n":
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := c.Write([]byte("PONG\r\n")); err != nil {
				return err
			}
		case line == "PONG\r\n":
			if pong != nil {
				close(pong)
				pong = nil
			}
		case strings.HasPrefix(line, "INFO "), strings.HasPrefix(line, "-ERR "):
		default:
			return fmt.Errorf("unexpected line %q", line)
		}
	}
}

// paced hands out at most step bytes per read and keeps the average at
// rate bytes per second. Its pauses are the workload (a reader slower
// than the publishers), not synchronisation.
type paced struct {
	c     net.Conn
	rate  float64
	start time.Time
	total int
}

func (p *paced) Read(b []byte) (int, error) {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	if p.rate > 0 {
		if due := time.Duration(float64(p.total) / p.rate * float64(time.Second)); due > time.Since(p.start) {
			time.Sleep(due - time.Since(p.start))
		}
	}
	p.c.SetReadDeadline(time.Now().Add(readTimeout))
	n, err := p.c.Read(b[:min(len(b), step)])
	p.total += n
	return n, err
}
