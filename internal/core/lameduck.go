package core

import (
	"context"
	"time"

	"github.com/starling-mq/starling/internal/proto"
)

// lameDuckMaxGap bounds the pause between two client closes, so a server
// with few clients does not take the whole duration to empty.
const lameDuckMaxGap = time.Second

// LameDuck takes the server out of service gently: it stops accepting,
// tells clients (an INFO with "ldm": true, which clients take as a cue to
// reconnect elsewhere), waits the grace period, closes the remaining
// clients one by one spread over the rest of the lame-duck duration, and
// shuts down. It returns early, shutting down at once, if ctx ends.
func (s *Server) LameDuck(ctx context.Context) error {
	s.mu.Lock()
	if s.shutdown || s.lameDuck {
		s.mu.Unlock()
		return s.Shutdown(ctx)
	}
	s.lameDuck = true
	ln := s.listener
	s.mu.Unlock()
	opts := s.getOpts()
	s.emitLameDuck()
	s.log.Info("entering lame duck mode", "duration", opts.LameDuckDuration, "grace_period", opts.LameDuckGracePeriod)
	if ln != nil {
		ln.Close()
	}
	// Peers drop this server's URLs from what they tell their clients;
	// this server's clients get the others' URLs without its own.
	ldm := proto.AppendRouteInfoUpdate(nil, s.routeInfo())
	for _, r := range s.upRoutes() {
		r.send(ldm)
	}
	for _, c := range s.clientList() {
		c.sendAsyncInfo(true)
	}
	if !sleepCtx(ctx, opts.LameDuckGracePeriod) {
		return s.Shutdown(context.Background())
	}
	clients := s.clientList()
	gap := lameDuckMaxGap
	if n := len(clients); n > 0 {
		gap = min(gap, (opts.LameDuckDuration-opts.LameDuckGracePeriod)/time.Duration(n))
	}
	for i, c := range clients {
		if i > 0 && !sleepCtx(ctx, gap) {
			break
		}
		c.close(reasonServerShutdown)
	}
	return s.Shutdown(ctx)
}

// IsLameDuck reports whether lame-duck mode has started.
func (s *Server) IsLameDuck() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lameDuck
}

func (s *Server) clientList() []*client {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}

// sendAsyncInfo sends a fresh INFO to a client that accepts asynchronous
// INFO (CONNECT protocol 1): on lame duck, with "ldm": true, so it moves
// elsewhere; after a reload that changed what INFO says.
func (c *client) sendAsyncInfo(lameDuck bool) {
	c.mu.Lock()
	protocol := c.opts.Protocol
	c.mu.Unlock()
	if protocol < proto.ClientProtoInfo {
		return
	}
	info := c.srv.info(c.cid, c.host)
	info.LameDuckMode = lameDuck
	c.send(proto.AppendInfoLine(nil, &info))
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
