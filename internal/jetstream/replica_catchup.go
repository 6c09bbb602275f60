package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/stream"
)

// Fetching a stream's messages from a peer after a snapshot
// (jscluster.Snapshots.Fetch), and serving such fetches.
//
// Each member of a replicated stream answers catch-up requests on a
// subject of its own in the stream's account: the group and its node id,
// under $JSC.CATCHUP. A request asks for one piece (stream.ServeCatchUp)
// of the range the fetcher needs; the fetcher applies it before asking
// for the next, so at most one piece per fetch is in flight. A member
// serves only once it applied the index the snapshot was taken at, one
// piece at a time; otherwise, or on any failure, the fetcher asks the
// next member, the leader first.

const (
	// DefaultCompactEntries is how many entries of a file-stored stream's
	// group pass between the store syncs that let its log be compacted.
	DefaultCompactEntries = 1 << 16
	catchUpPrefix         = "$JSC.CATCHUP."
	catchUpPiece          = 1 << 20 // bytes of messages per piece
	catchUpWait           = 5 * time.Second
	catchUpRetry          = time.Second
)

// compactEvery is the stream's CompactEvery; a memory stream's snapshots
// carry its messages (jscluster.StreamHooks.Inline), since its store does
// not outlive a restart.
func (m *jsAccount) compactEvery(ent *entry) uint64 {
	if n := m.cl.cfg.CompactEntries; n > 0 {
		return n
	}
	return DefaultCompactEntries
}

func catchUpSubject(group string, node uint64) string {
	return catchUpPrefix + strconv.FormatUint(jscluster.GroupID(group), 16) + "." + strconv.FormatUint(node, 16)
}

// catchUpRequest asks for one piece.
type catchUpRequest struct {
	Index uint64 `json:"index"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
	Had   uint64 `json:"had"`
}

// serveCatchUp answers peers' catch-up requests for ent's group.
func (m *jsAccount) serveCatchUp(ent *entry, sa *jsmeta.Stream) {
	rep := ent.rep
	subj := catchUpSubject(sa.Group.Name, m.cl.node.ID)
	sub, err := m.api.Subscribe(subj, "", func(msg *core.Msg) {
		servePeer(m, msg, &rep.serving, 1, func(req catchUpRequest) ([]byte, error) { return m.servePiece(ent, req) })
	})
	if err != nil {
		m.log.Error("stream catch-up requests not served", "stream", sa.Config.Name, "err", err)
		return
	}
	if old := rep.catchupSub.Swap(sub); old != nil {
		old.Unsubscribe()
	}
}

func (m *jsAccount) servePiece(ent *entry, req catchUpRequest) ([]byte, error) {
	g := ent.rep.group()
	switch {
	case g == nil || g.Fetching():
		return nil, errors.New("fetching itself")
	case g.AppliedIndex() < req.Index:
		return nil, fmt.Errorf("applied %d, below %d", g.AppliedIndex(), req.Index)
	}
	c, err := ent.s.ServeCatchUp(req.From, req.To, req.Had, catchUpPiece)
	if err != nil {
		return nil, err
	}
	return c.MarshalBinary()
}

// runFetch fetches until the latest target is met, then tells the group.
func (m *jsAccount) runFetch(ent *entry) {
	rep := ent.rep
	for attempt := 0; ; attempt++ {
		rep.fetchMu.Lock()
		t := rep.fetchWant
		rep.fetchMu.Unlock()
		err := m.fetchOnce(ent, t)
		rep.fetchMu.Lock()
		if rep.fetchWant.Gen != t.Gen {
			rep.fetchMu.Unlock()
			continue
		}
		if err == nil {
			rep.fetchRunning = false
			rep.fetchMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), groupWait)
			err = rep.group().FetchDone(ctx, t.Gen)
			cancel()
			if err != nil {
				m.log.Warn("stream caught up, group not resumed", "stream", ent.s.Name(), "err", err)
			} else {
				m.log.Info("stream replica caught up from a peer", "stream", ent.s.Name(), "last", t.Last)
			}
			return
		}
		if errors.Is(err, errStopped) {
			rep.fetchRunning = false
			rep.fetchMu.Unlock()
			return
		}
		rep.fetchMu.Unlock()
		if attempt%10 == 0 {
			m.log.Warn("stream replica not caught up yet; retrying", "stream", ent.s.Name(), "last", t.Last, "err", err)
		}
		if !m.pause(ent, catchUpRetry) {
			rep.fetchMu.Lock()
			rep.fetchRunning = false
			rep.fetchMu.Unlock()
			return
		}
	}
}

// pause waits d unless the stream or the cluster stops first.
func (m *jsAccount) pause(ent *entry, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ent.rep.done:
	case <-m.cl.done:
	}
	return false
}

// fetchOnce fetches target t piece by piece, from the members in turn.
func (m *jsAccount) fetchOnce(ent *entry, t jscluster.FetchTarget) error {
	rep := ent.rep
	var g *jscluster.StreamGroup
	for g = rep.group(); g == nil; g = rep.group() {
		// Fetch is called while the group starts, before it is bound.
		if !m.pause(ent, 20*time.Millisecond) {
			return errStopped
		}
	}
	peers := m.fetchPeers(ent, g)
	if len(peers) == 0 {
		return errors.New("no other member to fetch from")
	}
	asker, err := m.newPeerAsker("catchup")
	if err != nil {
		return err
	}
	defer asker.close()
	from, failures := uint64(1), 0
	for from <= t.Last {
		peer := peers[failures%len(peers)]
		c, err := askPiece(asker, peer, catchUpRequest{Index: t.Index, From: from, To: t.Last, Had: t.Had}, ent.rep.done)
		if errors.Is(err, errStopped) {
			return err
		}
		if err == nil {
			err = ent.s.ApplyCatchUp(c, t.Had, t.Last)
			if err == nil && c.Next <= from {
				err = fmt.Errorf("piece from %d ends at %d", from, c.Next)
			}
		}
		if err != nil {
			if failures++; failures >= 3*len(peers) {
				return err
			}
			continue
		}
		from = c.Next
	}
	return ent.s.SyncStore()
}

// askPiece asks the member peer (a subject) for one piece.
func askPiece(asker *peerAsker, peer string, req catchUpRequest, stop <-chan struct{}) (*stream.CatchUp, error) {
	body, _ := json.Marshal(req)
	b, err := asker.ask(peer, body, catchUpWait, stop)
	if err != nil {
		return nil, err
	}
	c := new(stream.CatchUp)
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return c, nil
}

// fetchPeers lists the other members' catch-up subjects, the leader's
// first.
func (m *jsAccount) fetchPeers(ent *entry, g *jscluster.StreamGroup) []string {
	sa := ent.rep.assigned()
	if sa == nil {
		return nil
	}
	st, _ := m.cl.status(g.ID())
	var out []string
	for _, name := range sa.Group.Peers {
		id := jscluster.NodeID(name)
		if id == m.cl.node.ID {
			continue
		}
		subj := catchUpSubject(sa.Group.Name, id)
		if id == st.Leader {
			out = append([]string{subj}, out...)
		} else {
			out = append(out, subj)
		}
	}
	return out
}
