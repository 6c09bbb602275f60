package jetstream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
	"github.com/starling-mq/starling/internal/subject"
)

// Mirrors and sources copy from other streams. Each origin is read by one
// goroutine: straight from its store when this server answers for it,
// woken by the origin after every store and by a slow tick (an origin
// created later, or recreated); else through the server that answers for
// it (source_remote.go), on the tick. Progress is the target's own
// content, so a restart resumes exactly.

// sourcePoll bounds how long a copier sleeps without a signal.
const sourcePoll = 250 * time.Millisecond

// copyBurst bounds messages copied between checks for shutdown.
const copyBurst = 1024

// copyWait bounds how long a replicated mirror's copier waits for room among
// its copies in flight (a source's chain waits chainWait).
const copyWait = 2 * time.Second

// copier copies one origin into a stream.
type copier struct {
	src    jsapi.StreamSource
	mirror bool
	trs    []*subject.Transform // source subject transforms, first match wins
	filter string

	next       atomic.Uint64 // next origin sequence to read
	lastActive atomic.Int64  // unix ns of the last copy
	lag        atomic.Uint64

	pipe copyPipe // a replicated mirror's copies in flight
}

// copyWindow bounds a replicated mirror's copies in flight.
const copyWindow = 256

// copyPipe is a replicated mirror's copies in flight (copyMirror): up to
// copyWindow proposed at once, each guarded by the one before it
// (stream.MirrorEntryAfter), so that a copy that never reached the log
// makes every replica refuse the ones after it rather than leave a hole.
type copyPipe struct {
	mu       sync.Mutex
	started  bool   // after is set
	after    uint64 // the mirror's last sequence the next copy must follow
	inflight int
	failed   bool          // a copy was not applied: start again from the mirror
	settled  chan struct{} // a copy's outcome arrived (capacity 1)
}

// sourcing is the set of copiers feeding one stream.
type sourcing struct {
	copiers []*copier
	quit    chan struct{}
	wg      sync.WaitGroup
}

// startSources starts copying for e's mirror or sources, if any.
func (m *jsAccount) startSources(e *entry, cfg jsapi.StreamConfig) {
	var list []*copier
	if cfg.Mirror != nil {
		list = append(list, newCopier(*cfg.Mirror, true))
	}
	for _, src := range cfg.Sources {
		if src != nil {
			list = append(list, newCopier(*src, false))
		}
	}
	if len(list) == 0 {
		return
	}
	sg := &sourcing{copiers: list, quit: make(chan struct{})}
	e.srcMu.Lock()
	e.sources = sg
	e.srcMu.Unlock()
	for _, c := range list {
		c.next.Store(c.resume(e.s))
		sg.wg.Add(1)
		go func() {
			defer sg.wg.Done()
			m.runCopier(e, c, sg.quit)
		}()
	}
}

// stopSources stops e's copiers and waits for them.
func (e *entry) stopSources() {
	e.srcMu.Lock()
	sg := e.sources
	e.sources = nil
	e.srcMu.Unlock()
	if sg == nil {
		return
	}
	close(sg.quit)
	sg.wg.Wait()
}

func newCopier(src jsapi.StreamSource, mirror bool) *copier {
	c := &copier{src: src, mirror: mirror, filter: src.FilterSubject}
	c.pipe.settled = make(chan struct{}, 1)
	for _, tr := range src.SubjectTransforms {
		if t, err := subject.NewTransform(tr.Source, tr.Destination); err == nil {
			c.trs = append(c.trs, t)
		}
	}
	if c.filter == "" && len(src.SubjectTransforms) == 0 {
		c.filter = ">"
	}
	if len(src.SubjectTransforms) > 0 {
		c.filter = ">" // the transforms' sources select
	}
	return c
}

// resume finds where copying continues: after what the target already
// holds from this origin, else at the configured start.
func (c *copier) resume(target *stream.Stream) uint64 {
	if c.mirror {
		if last := target.Store().State().LastSeq; last > 0 {
			return last + 1
		}
	} else if seq := target.LastSourced(c.src.Name); seq > 0 {
		return seq + 1
	}
	if c.src.OptStartSeq > 0 {
		return c.src.OptStartSeq
	}
	return 0 // from the origin's first message, or its start time
}

// transform maps an origin subject into the target, reporting false when
// the copier's selection excludes it.
func (c *copier) transform(subj string) (string, bool) {
	if len(c.trs) == 0 {
		return subj, true
	}
	for _, t := range c.trs {
		if out, ok := t.Apply(subj); ok {
			return out, true
		}
	}
	return "", false
}

func (m *jsAccount) runCopier(target *entry, c *copier, quit <-chan struct{}) {
	wake := make(chan struct{}, 1)
	tick := time.NewTicker(sourcePoll)
	defer tick.Stop()
	var local *entry
	var remote *remoteOrigin
	cancel := func() {}
	defer func() {
		cancel()
		if remote != nil {
			remote.close()
		}
	}()
	for {
		// The origin is read here when this server answers for it (its
		// one server or its leader), else from the one that does.
		e := m.lookup(c.src.Name)
		if e != nil && !e.leads() {
			e = nil
		}
		if e != local {
			cancel()
			local, cancel = e, func() {}
			if e != nil {
				cancel = e.s.Listen(wake)
			}
		}
		if local == nil && remote == nil && m.clustered() {
			var err error
			if remote, err = m.newRemoteOrigin(c.src.Name, quit); err != nil {
				m.log.Warn("origin not read from other servers", "origin", c.src.Name, "err", err)
			}
		}
		copied := 0
		switch {
		case local != nil:
			copied = m.copyFrom(localOrigin{local.s.Store()}, target, c, quit)
		case remote != nil:
			copied = m.copyFrom(remote, target, c, quit)
		}
		if copied == copyBurst {
			continue // more waiting; the quit check is inside copyFrom
		}
		select {
		case <-quit:
			return
		case <-wake:
		case <-tick.C:
		}
	}
}

// copyFrom copies up to copyBurst messages and returns how many it read.
func (m *jsAccount) copyFrom(origin origin, target *entry, c *copier, quit <-chan struct{}) int {
	next := c.next.Load()
	if next == 0 && c.src.OptStartTime != nil {
		if next = origin.SeqAtTime(c.src.OptStartTime.UnixNano()); next == 0 {
			return 0 // not known yet: the origin is not reachable
		}
	}
	var n int
	if target.rep != nil && !c.mirror {
		n = m.copyChains(origin, target, c, next, quit)
		next = c.next.Load()
	} else {
		n, next = m.copyEach(origin, target, c, next, quit)
	}
	if last := origin.LastSeq(); last >= next {
		c.lag.Store(last - next + 1)
	} else {
		c.lag.Store(0)
	}
	return n
}

// copyEach copies one message at a time from origin sequence next, up to
// copyBurst, into a stream of one server or a replicated mirror, and
// returns how many it read and where the next read starts.
func (m *jsAccount) copyEach(origin origin, target *entry, c *copier, next uint64, quit <-chan struct{}) (int, uint64) {
	n := 0
	for ; n < copyBurst; n++ {
		select {
		case <-quit:
			return n, next
		default:
		}
		msg, err := origin.LoadNext(c.filter, next)
		if err != nil {
			break
		}
		if !m.copyOne(target, c, msg, quit) {
			break // retried on the next wake-up
		}
		next = msg.Seq + 1
		c.next.Store(next)
		c.lastActive.Store(time.Now().UnixNano())
	}
	return n, next
}

func (m *jsAccount) copyOne(e *entry, c *copier, msg *store.Msg, quit <-chan struct{}) bool {
	if e.rep != nil {
		return m.copyReplicated(e, c, msg, quit)
	}
	target := e.s
	if c.mirror {
		if err := target.IngestMirror(msg); err != nil {
			m.log.Warn("mirror: message not stored", "origin", c.src.Name, "seq", msg.Seq, "err", err)
			return false
		}
		return true
	}
	subj, tag, ok := c.sourced(msg)
	if !ok {
		return true // not selected: skip it
	}
	return target.IngestSourced(subj, msg.Header, msg.Data, tag)
}

// sourced is the subject and source tag a sourced message is stored
// with; false when the copier's selection excludes it.
func (c *copier) sourced(msg *store.Msg) (subj, tag string, ok bool) {
	subj, ok = c.transform(msg.Subject)
	if !ok {
		return "", "", false
	}
	dest := ""
	if len(c.src.SubjectTransforms) > 0 {
		dest = c.src.SubjectTransforms[0].Destination
	}
	return subj, stream.SourceTag(c.src.Name, msg.Seq, c.src.FilterSubject, dest, msg.Subject), true
}

// copyReplicated copies one message into a replicated mirror, as its
// leader: pipelined (copyMirror), each copy guarded by the one before.
// (A replicated source's copies go in chains: copyChains.) After a
// failure the copier starts again from what the stream holds (a copy
// proposed twice is applied once).
func (m *jsAccount) copyReplicated(e *entry, c *copier, msg *store.Msg, quit <-chan struct{}) bool {
	g := e.rep.group()
	if g == nil || !e.rep.leading.Load() || !c.mirror {
		return false
	}
	return m.copyMirror(e, c, g, msg, quit)
}

// copyMirror proposes a replicated mirror's copy of msg without waiting
// for it, once fewer than copyWindow are in flight. After a copy failed
// it waits (bounded) for those in flight to settle and starts again from
// what the mirror holds: false, as for a failed copy. It gives up at once
// when the copier stops or this server no longer leads.
func (m *jsAccount) copyMirror(e *entry, c *copier, g *jscluster.StreamGroup, msg *store.Msg, quit <-chan struct{}) bool {
	p := &c.pipe
	deadline := time.Now().Add(copyWait)
	p.mu.Lock()
	for p.inflight >= copyWindow || (p.failed && p.inflight > 0) {
		p.mu.Unlock()
		left := time.Until(deadline)
		if !e.rep.leading.Load() {
			return false
		}
		if left <= 0 {
			p.mu.Lock()
			p.failed = true
			break
		}
		select {
		case <-p.settled:
		case <-quit:
			return false
		case <-time.After(min(left, sourcePoll)):
		}
		p.mu.Lock()
	}
	if p.failed || !p.started {
		// Every copy is guarded, so copies still in flight can only
		// extend the chain or be refused: starting from what is applied
		// is safe whenever.
		p.failed, p.started = false, true
		p.after = e.s.Store().State().LastSeq
		if next := c.resume(e.s); next != msg.Seq && next > 0 {
			p.mu.Unlock()
			c.next.Store(next)
			return false
		}
	}
	after := p.after
	p.after = msg.Seq
	p.inflight++
	p.mu.Unlock()
	g.ProposeEntryAsync(stream.MirrorEntryAfter(msg, after), func(_ uint64, err error) {
		p.mu.Lock()
		p.inflight--
		if err != nil {
			p.failed = true
		}
		p.mu.Unlock()
		select {
		case p.settled <- struct{}{}:
		default:
		}
	})
	return true
}

// sourceInfo reports a copier's progress for stream info.
func (c *copier) info() *jsapi.StreamSourceInfo {
	si := &jsapi.StreamSourceInfo{
		Name:              c.src.Name,
		Lag:               c.lag.Load(),
		FilterSubject:     c.src.FilterSubject,
		SubjectTransforms: c.src.SubjectTransforms,
		Active:            -1,
	}
	if t := c.lastActive.Load(); t > 0 {
		si.Active = time.Since(time.Unix(0, t))
	}
	return si
}

// addSourceInfo fills a stream info's mirror and sources.
func (e *entry) addSourceInfo(info *jsapi.StreamInfo) {
	e.srcMu.Lock()
	sg := e.sources
	e.srcMu.Unlock()
	if sg == nil {
		return
	}
	for _, c := range sg.copiers {
		if c.mirror {
			info.Mirror = c.info()
		} else {
			info.Sources = append(info.Sources, c.info())
		}
	}
}
