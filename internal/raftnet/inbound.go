package raftnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// inboundBuf sizes the read buffer of an inbound connection.
const inboundBuf = 64 << 10

// inConn is one inbound connection.
type inConn struct {
	conn     net.Conn
	remote   string
	want     string // the server the caller authenticated, if any
	received atomic.Uint64

	mu    sync.Mutex // a leaf: guards hello alone
	hello Hello
}

func (in *inConn) stats() InboundStats {
	in.mu.Lock()
	h := in.hello
	in.mu.Unlock()
	return InboundStats{Remote: in.remote, ServerID: h.ServerID, NodeID: h.NodeID, Received: in.received.Load()}
}

// read is the goroutine of one inbound connection: a hello, then batches
// handed to the handler, until the connection fails or sends bad input.
func (t *Transport) read(in *inConn) {
	defer t.wg.Done()
	conn := in.conn
	err := t.readFrames(in)
	t.mu.Lock()
	delete(t.inbound, conn)
	t.mu.Unlock()
	conn.Close()
	switch {
	case isProtocolError(err):
		t.badFrames.Add(1)
		t.log.Warn("raft connection rejected", "remote", conn.RemoteAddr().String(), "err", err)
	case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		t.log.Debug("raft connection ended", "remote", conn.RemoteAddr().String(), "err", err)
	}
}

// errProtocol marks rejections that are the sender's fault but not a
// malformed frame: a second hello, a message from another node.
var errProtocol = errors.New("raftnet: protocol violation")

func isProtocolError(err error) bool {
	for _, e := range []error{ErrFrameTooLarge, ErrChecksum, ErrUnknownKind, ErrMalformed, ErrVersion, errProtocol} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (t *Transport) readFrames(in *inConn) error {
	conn := in.conn
	dec := NewDecoder(bufio.NewReaderSize(conn, inboundBuf), t.opts.MaxFrameSize)
	next := func() (Frame, error) {
		if err := conn.SetReadDeadline(time.Now().Add(t.opts.ReadTimeout)); err != nil {
			return Frame{}, err
		}
		f, err := dec.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("raftnet: no frame for %v: %w", t.opts.ReadTimeout, err)
		}
		return f, err
	}
	f, err := next()
	if err != nil {
		return err
	}
	if f.Kind != KindHello {
		return fmt.Errorf("%w: first frame is kind %d, not a hello", errProtocol, f.Kind)
	}
	h, err := DecodeHello(f.Body)
	if err != nil {
		return err
	}
	if in.want != "" && h.ServerID != in.want {
		return fmt.Errorf("%w: hello names server %q on a connection from %q", errProtocol, h.ServerID, in.want)
	}
	if t.opts.Accept != nil {
		if err := t.opts.Accept(h); err != nil {
			return fmt.Errorf("%w: hello refused: %w", errProtocol, err)
		}
	}
	in.mu.Lock()
	in.hello = h
	in.mu.Unlock()
	for {
		f, err := next()
		if err != nil {
			return err
		}
		switch f.Kind {
		case KindKeepalive:
			t.keepalives.Add(1)
			continue
		case KindHello:
			return fmt.Errorf("%w: a second hello", errProtocol)
		}
		// A fresh slice per batch: the handler owns it and may queue it.
		batch, err := DecodeBatch(f.Body, nil)
		if err != nil {
			return err
		}
		// Messages claiming another sender would be steps forged or
		// misrouted; the connection belongs to the node of its hello.
		for _, e := range batch {
			if e.Msg.GetFrom() != h.NodeID {
				return fmt.Errorf("%w: message from %d on the connection of %d", errProtocol, e.Msg.GetFrom(), h.NodeID)
			}
		}
		t.opts.Handler(batch)
		t.received.Add(uint64(len(batch)))
		in.received.Add(uint64(len(batch)))
	}
}
