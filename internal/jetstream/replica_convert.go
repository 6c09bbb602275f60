package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
)

// A stream created with one replica is stored by its server alone, with
// no Raft group (its publishes are as fast as a single server's). When an
// update gives it more replicas, that server converts it:
//
//  1. it stops taking publishes and stops its consumers, keeping their
//     state, and closes the stream;
//  2. it reopens the stream's files as a replica and founds a group of
//     one (the assignment's Founders);
//  3. it re-proposes every stored message in the group (SeedEntries), so
//     the log holds the whole stream, then one assignment per consumer
//     carrying the consumer's state;
//  4. it leads as any stream leader does: subscribes again, starts the
//     consumers from their replicas, and adds the new members, which join
//     with an empty log and replay it.
//
// Publishes in between find no subscriber (the client's publish fails
// with "no responders" and may retry). A memory stream is not converted
// (jsmeta refuses the update): closing it would lose its messages.

// convertWait bounds the whole conversion.
const convertWait = 2 * time.Minute

// liveConsumer is a consumer's configuration and state as conversion
// found it.
type liveConsumer struct {
	cfg     jsapi.ConsumerConfig
	created time.Time
	state   consumer.State
}

// convert turns the unreplicated ent into the replicated stream sa
// assigns; adminMu held. On failure the stream is reopened as it was.
// Steps 1 and 2 run here; seeding and leading run after, off adminMu
// (finishConversion).
func (m *jsAccount) convert(ent *entry, sa *jsmeta.Stream) error {
	name := sa.Config.Name
	running := ent.sortedConsumers()
	m.mu.Lock()
	delete(m.streams, name)
	m.mu.Unlock()
	ent.subMu.Lock()
	for _, sub := range append(ent.subs, ent.direct...) {
		sub.Unsubscribe()
	}
	ent.subs, ent.direct = nil, nil
	ent.subMu.Unlock()
	ent.stopSources() // the group's leader copies from now on
	m.stopConsumers(ent)
	var live []liveConsumer
	for _, c := range running { // stopped: their state is final
		st, _ := c.Snapshot()
		live = append(live, liveConsumer{cfg: c.Config(), created: c.Created(), state: st})
	}
	if err := ent.close(); err != nil {
		return m.reopen(sa, fmt.Errorf("close: %w", err))
	}

	rep := newReplication(sa)
	rent, err := m.openAssigned(sa, rep, false)
	if err != nil {
		return m.reopen(sa, fmt.Errorf("reopen as a replica: %w", err))
	}
	self := jscluster.NodeID(m.cl.cfg.ServerName)
	g, err := m.joinGroup(rent, sa, []uint64{self})
	rep.wg.Add(1)
	go m.finishConversion(rent, g, live, err)
	return nil
}

// finishConversion seeds the new group and then leads it, off adminMu:
// seeding a large stream takes a while, and the account's other streams
// (and the meta group's hosting of every account) must not wait for it.
// Until it leads, the stream answers nothing, as while it was closed.
// An unhosting meanwhile (rep.done) cuts the seeding short.
func (m *jsAccount) finishConversion(ent *entry, g *jscluster.StreamGroup, live []liveConsumer, err error) {
	seedHook()
	if err == nil {
		err = m.seed(ent, g, live)
	}
	if err != nil {
		// The group (of one) stays: the stream is replicated from now
		// on, and the leader's loop retries adding the members.
		m.log.Error("stream not converted to a replicated one", "stream", ent.s.Name(), "err", err)
	}
	// The consumers' own files gave their state to the log.
	for _, c := range live {
		if err := m.fs.RemoveAll(m.consumerDir(ent, c.cfg.Name)); err != nil {
			m.log.Warn("converted consumer's files not removed", "consumer", c.cfg.Name, "err", err)
		}
	}
	select {
	case <-ent.rep.done:
		ent.rep.wg.Done()
		return
	default:
	}
	m.followLeadership(ent)
}

// seedHook runs before a conversion seeds its group: tests hold it there.
var seedHook = func() {}

// seed makes this server the leader of the new group of one and puts the
// stream's messages and consumers in its log, before anything else.
func (m *jsAccount) seed(ent *entry, g *jscluster.StreamGroup, live []liveConsumer) error {
	ctx, cancel := context.WithTimeout(context.Background(), convertWait)
	defer cancel()
	go func() {
		select {
		case <-ent.rep.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := m.cl.node.Host.Campaign(ctx, g.ID()); err != nil {
		return err
	}
	for {
		st, err := g.Status(ctx)
		if err != nil {
			return err
		}
		if st.Leader == st.ID {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := g.Seed(ctx, ent.s.SeedEntries()); err != nil {
		return fmt.Errorf("seed messages: %w", err)
	}
	ent.s.ResetProposals()
	for _, c := range live {
		st := c.state
		a := consumerAssign{Config: c.cfg, Created: c.created, State: &st}
		if err := m.proposeConsumerAssign(ent, c.cfg.Name, a); err != nil {
			return fmt.Errorf("seed consumer %s: %w", c.cfg.Name, err)
		}
	}
	return nil
}

// reopen hosts the stream again as it was, after a failed conversion.
func (m *jsAccount) reopen(sa *jsmeta.Stream, cause error) error {
	solo := *sa
	solo.Group.Peers = sa.Group.Peers[:1]
	if _, err := m.openAssigned(&solo, nil, false); err != nil {
		return errors.Join(cause, fmt.Errorf("reopen: %w", err))
	}
	return cause
}
