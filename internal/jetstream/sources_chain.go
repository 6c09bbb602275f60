package jetstream

import (
	"context"
	"time"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/stream"
)

// A replicated source's copies go out in chains (jscluster.StreamGroup
// .PublishChain): up to chainLinks messages proposed back to back, each
// applied only if the one before it was, one chain at a time. Waiting
// for every copy's commit before reading the next put a Raft round trip
// under every message (about a thousand a second); a chain puts one under
// a few hundred. A mirror's copies are pipelined instead (copyMirror):
// they keep the origin's sequences, which guard them across chains.

// chainLinks and chainBytes bound one chain. chainWait bounds the wait
// for its outcome: long, because a copier that stops waiting starts again
// from what the stream holds, and a chain committed after that would be
// copied twice; Raft answers every proposal (committed, dropped, or no
// longer leader) well within it unless the server is stuck.
const (
	chainLinks = 256
	chainBytes = 1 << 20
	chainWait  = 30 * time.Second
)

// copyChains copies into replicated stream e, as its leader, in chains,
// from origin sequence next, until copyBurst messages were read, the
// origin has nothing more, or a copy fails (the copier then starts again
// from what the stream holds). It returns how many messages it read.
func (m *jsAccount) copyChains(origin origin, e *entry, c *copier, next uint64, quit <-chan struct{}) int {
	read := 0
	msgs := make([]jscluster.ChainMsg, 0, chainLinks)
	for read < copyBurst {
		g := e.rep.group()
		if g == nil || !e.rep.leading.Load() {
			return read
		}
		msgs = msgs[:0]
		size, from := 0, next
		for read < copyBurst && len(msgs) < chainLinks && size < chainBytes {
			select {
			case <-quit:
				return read
			default:
			}
			msg, err := origin.LoadNext(c.filter, next)
			if err != nil {
				break
			}
			read++
			next = msg.Seq + 1
			subj, tag, ok := c.sourced(msg)
			if !ok {
				continue // not selected: skipped
			}
			hdr := stream.SourcedHeader(msg.Header, tag)
			msgs = append(msgs, jscluster.ChainMsg{Subject: subj, Hdr: hdr, Data: msg.Data})
			size += len(subj) + len(hdr) + len(msg.Data)
		}
		if next == from {
			return read // nothing new
		}
		if len(msgs) > 0 && !m.publishChain(g, e, c, msgs, quit) {
			return read
		}
		c.next.Store(next)
		c.lastActive.Store(time.Now().UnixNano())
	}
	return read
}

// publishChain commits one chain and reports whether every copy was
// applied or refused for good (a discard-new limit, a duplicate's ID:
// dropped, as a publish would be); otherwise the copier starts again from
// what the stream holds, after the last copy applied.
func (m *jsAccount) publishChain(g *jscluster.StreamGroup, e *entry, c *copier, msgs []jscluster.ChainMsg, quit <-chan struct{}) bool {
	ctx, cancel := context.WithTimeout(context.Background(), chainWait)
	defer cancel()
	go func() {
		select {
		case <-quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	for i, r := range g.PublishChain(ctx, msgs) {
		err := r.Err
		if err == nil && r.Ans != nil && r.Ans.Err != nil && r.Ans.Err.Code >= 500 {
			err = r.Ans.Err
		}
		if err != nil {
			m.log.Debug("replicated copies not committed; starting again from the stream",
				"origin", c.src.Name, "copied", i, "of", len(msgs), "err", err)
			c.next.Store(c.resume(e.s))
			return false
		}
	}
	return true
}
