package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

// healthWait bounds each group's status query.
const healthWait = time.Second

// Health reports why this server's JetStream is not ready to lose a peer
// (nil when it is): in a cluster, until it knows a meta leader and has
// applied what it committed, and until every replicated stream it holds
// has a leader and has applied its group's commits, as nats-server's
// /healthz says a server that is catching up is unavailable, so a rolling
// restart waits for it. A server on its own is always ready.
func (m *Manager) Health() error {
	if !m.clustered() {
		return nil
	}
	c := m.cl
	meta := c.meta.Load()
	if meta == nil {
		return errors.New("JetStream has not established contact with a meta leader")
	}
	st, err := c.status(jscluster.MetaGroup)
	if err != nil || st.Leader == 0 {
		return errors.New("JetStream has not established contact with a meta leader")
	}
	if st.Applied < st.Commit {
		return errors.New("JetStream is not current with the meta leader")
	}
	var assigned []*jsmeta.Stream
	c.read(func(s *jsmeta.State) {
		hosted, _ := s.Hosted(c.cfg.ServerName)
		assigned = hosted
	})
	for _, sa := range assigned {
		if err := m.streamHealth(sa); err != nil {
			return fmt.Errorf("JetStream stream '%s > %s' is not current: %w", sa.Account, sa.Config.Name, err)
		}
	}
	return nil
}

// streamHealth checks one stream this server should hold.
func (m *Manager) streamHealth(sa *jsmeta.Stream) error {
	a := m.account(sa.Account)
	if a == nil {
		return errors.New("account not found")
	}
	ent := a.lookup(sa.Config.Name)
	switch {
	case ent == nil:
		return errors.New("stream not found")
	case ent.rep == nil:
		return nil
	case ent.rep.group() == nil:
		return errors.New("group node missing")
	}
	st, err := m.cl.status(ent.rep.group().ID())
	switch {
	case err != nil:
		return errors.New("group node missing")
	case st.Leader == 0:
		return errors.New("group node unhealthy")
	case st.Applied < st.Commit:
		return errors.New("stream catching up")
	}
	return nil
}

func (c *cluster) status(group uint64) (raftnode.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), healthWait)
	defer cancel()
	return c.node.Host.Status(ctx, group)
}
