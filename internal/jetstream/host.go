package jetstream

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
)

// JetStream's administration is split in two. Deciding — an API handler
// checking a request against every stream and consumer — ends in an
// assignment: this stream or consumer, with this configuration, on these
// servers. Hosting — the functions below — makes the local state match an
// assignment: the store and its metadata, the subscriptions feeding it,
// its sources, its consumers. On one server the handler hosts its
// assignment at once, under adminMu; in a cluster the meta group will
// order assignments and every server named in one will host it, so
// nothing here may look at the request, the clock or the other streams.

// streamAssignment is a decision about one stream.
type streamAssignment struct {
	Config  jsapi.StreamConfig
	Created time.Time
	Peers   []string // the servers holding it (today: this one)
}

// consumerAssignment is a decision about one consumer of a stream.
type consumerAssignment struct {
	Stream  string
	Config  jsapi.ConsumerConfig
	Created time.Time
	Peers   []string
}

// peers is the placement of everything today: this server alone.
func (m *jsAccount) peers() []string { return []string{m.srv.Name()} }

// hostNewStream creates the stream sa assigns. On failure nothing of it is
// left on disk.
func (m *jsAccount) hostNewStream(sa *streamAssignment) (*entry, error) {
	dir := m.streamDir(sa.Config.Name)
	if err := m.saveStreamMeta(&streamMeta{Config: sa.Config, Created: sa.Created}); err != nil {
		m.fs.RemoveAll(dir)
		return nil, err
	}
	ent, err := m.openStream(sa.Config, sa.Created)
	if err != nil {
		m.fs.RemoveAll(dir)
		return nil, err
	}
	return ent, nil
}

// hostStreamUpdate brings the hosted stream ent to sa's configuration:
// metadata, limits, sources, and the subscriptions when the subjects or
// direct gets changed.
func (m *jsAccount) hostStreamUpdate(ent *entry, sa *streamAssignment) error {
	old, cfg := ent.s.Config(), sa.Config
	if err := m.saveStreamMeta(&streamMeta{Config: cfg, Created: ent.s.Created()}); err != nil {
		return err
	}
	if err := ent.s.Update(cfg); err != nil {
		return err
	}
	if !reflect.DeepEqual(old.Sources, cfg.Sources) {
		ent.stopSources()
		m.startSources(ent, cfg)
	}
	if !reflect.DeepEqual(old.Subjects, cfg.Subjects) || old.AllowDirect != cfg.AllowDirect || old.MirrorDirect != cfg.MirrorDirect {
		if err := m.subscribeStream(ent, cfg); err != nil {
			return err
		}
	}
	m.adviseStream(jsapi.AdvisoryModify, cfg.Name)
	return nil
}

// unhostStream removes the stream name and its consumers with their
// files. It reports whether the stream was hosted, and the error of
// removing its directory.
func (m *jsAccount) unhostStream(name string) (bool, error) {
	m.mu.Lock()
	ent := m.streams[name]
	delete(m.streams, name)
	m.mu.Unlock()
	if ent == nil {
		return false, nil
	}
	if ent.rep != nil {
		m.stopReplication(ent, true)
	}
	ent.subMu.Lock()
	for _, sub := range append(ent.subs, ent.direct...) {
		sub.Unsubscribe()
	}
	ent.subs, ent.direct = nil, nil
	ent.subMu.Unlock()
	ent.stopSources()
	consumers := ent.sortedConsumers()
	m.stopConsumers(ent)
	dir := m.streamDir(name)
	// The metadata goes first: a crash half-way through then leaves
	// files that are not mistaken for a stream.
	if err := m.fs.Remove(filepath.Join(dir, metaFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.log.Error("stream delete: remove metadata", "stream", name, "err", err)
	}
	if err := ent.destroy(); err != nil {
		m.log.Error("stream delete: remove messages", "stream", name, "err", err)
	}
	// Its consumers went with it, and are reported first, as nats-server
	// does.
	for _, c := range consumers {
		m.advise(jsapi.AdvisoryPrefix+"CONSUMER.DELETED."+name+"."+c.Name(), &jsapi.ConsumerActionAdvisory{
			TypedEvent: advisoryEvent(jsapi.TypeConsumerAction), Stream: name, Consumer: c.Name(), Action: jsapi.AdvisoryDelete, Domain: m.cfg.Domain,
		})
	}
	m.adviseStream(jsapi.AdvisoryDelete, name)
	return true, m.fs.RemoveAll(dir)
}

// hostConsumer creates the consumer ca assigns on the hosted stream ent,
// or brings the existing one to ca's configuration.
func (m *jsAccount) hostConsumer(ent *entry, ca *consumerAssignment) (*consumer.Consumer, error) {
	existing := ent.consumer(ca.Config.Name)
	created := ca.Created
	if existing != nil {
		created = existing.Created()
	}
	if err := m.persistConsumer(ent, ca.Config, created); err != nil {
		return nil, err
	}
	if existing != nil {
		existing.Update(ca.Config)
		return existing, nil
	}
	c := m.startConsumer(ent, ca.Config, created, nil)
	c.AdvisePause()
	return c, nil
}
