package jetstream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/filestore"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/stream"
	"github.com/starling-mq/starling/internal/vfs"
)

// jsAccount is JetStream in one account: its API subscriptions, streams,
// consumers, advisories and limits. Every client it uses is in the
// account, so its streams see the account's subjects only, and two
// accounts may each have a stream of the same name. The resources shared
// by every account (store files, workers, cache, server limits) are the
// embedded Manager's.
type jsAccount struct {
	*Manager
	name   string
	acc    *core.Account
	limits atomic.Pointer[Limits]

	nextPeerInbox atomic.Uint64 // names peer requests' reply subjects (peer_request.go)

	api     *core.InternalClient // API requests and replies
	adv     *advisor             // advisories and audit events
	rpub    *core.InternalClient // republished messages (never under a stream's lock)
	acks    *core.InternalClient // stream subscriptions and acks
	deliver *core.InternalClient // consumer deliveries, pull requests and their acks

	adminMu sync.Mutex // serializes create, update and delete
	stateMu sync.Mutex // serializes consumer state writes
	mu      sync.RWMutex
	streams map[string]*entry
	closed  bool

	work chan *request
	quit chan struct{}
	// settling bounds the direct gets waiting for publishes in flight.
	settling chan struct{}
	wg       sync.WaitGroup

	apiTotal  atomic.Uint64
	apiErrors atomic.Uint64
	dropped   atomic.Uint64
	in        atomic.Pointer[inbound] // the consumers' queues, once started

	disk diskOps // metadata writes; zero: the OS's (tests inject faults)
}

// maxSettling bounds the direct gets waiting at once for a replicated
// stream's publishes in flight; past it, a get reads what is applied.
const maxSettling = 256

func newJSAccount(m *Manager, acc *core.Account, lim Limits) *jsAccount {
	a := &jsAccount{
		Manager:  m,
		name:     acc.Name(),
		acc:      acc,
		streams:  map[string]*entry{},
		work:     make(chan *request, apiQueueLen),
		quit:     make(chan struct{}),
		settling: make(chan struct{}, maxSettling),
	}
	a.limits.Store(&lim)
	return a
}

// newClient makes an in-process client in the account.
func (m *jsAccount) newClient(name string) *core.InternalClient {
	return m.srv.NewInternalClientIn(m.acc, name)
}

// start recovers the account's streams and subscribes to its API.
func (m *jsAccount) start() error {
	dir := streamsRoot(m.cfg.StoreDir, m.name)
	if err := vfs.MkdirAllSynced(m.fs, dir, 0o700); err != nil {
		return fmt.Errorf("jetstream: store directory: %w", err)
	}
	m.api = m.newClient("jetstream-api")
	m.acks = m.newClient("jetstream-streams")
	m.deliver = m.newClient("jetstream-consumers")
	m.adv = newAdvisor(m.newClient("jetstream-advisories"), m.log)
	m.rpub = m.newClient("jetstream-republish")
	// Before any stream is opened: each subscribes its consumers'
	// subjects to the inbound workers (consumer_subs.go).
	m.in.Store(m.startInbound())
	// In a cluster the meta group's log says which streams this server
	// holds, and hosting opens them as it replays (cluster.go).
	if m.cfg.Cluster == nil {
		if err := m.recover(dir); err != nil {
			m.shutdown() // the clients and workers started above
			return err
		}
	}
	if err := m.subscribeAPI(); err != nil {
		return err
	}
	for range apiWorkers {
		m.wg.Add(1)
		go m.worker()
	}
	m.wg.Add(1)
	go m.flushConsumers()
	// Started last: advisories of recovered streams reach the streams
	// that capture them whatever order they were recovered in.
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.adv.run(m.quit)
	}()
	return nil
}

// numStreams is the number of the account's streams.
func (m *jsAccount) numStreams() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.streams)
}

// entry is a stream and the subscriptions feeding it.
type entry struct {
	s       *stream.Stream
	out     *core.InternalClient // the stream's own: its acks (see openStreamOn)
	storage jsapi.StorageType    // fixed for a stream's life
	rep     *replication         // a replicated stream's group and consumers; nil otherwise
	subMu   sync.Mutex           // subs and direct
	subs    []*core.Subscription
	direct  []*core.Subscription // direct gets, copiers' reads, the consumers' subjects (consumer_subs.go)

	srcMu   sync.Mutex
	sources *sourcing // copiers of a mirror or sources, nil without

	conMu      sync.Mutex
	consumers  map[string]*consumer.Consumer
	persisting map[string]*consumer.Consumer // those of consumers that keep state on disk
}

// info describes the stream with its mirror and sources.
func (e *entry) info(deleted bool, subjectsFilter string) *jsapi.StreamInfo {
	si := e.s.Info(deleted, subjectsFilter)
	si.Config.Metadata = jsapi.ReplyMetadata(si.Config.Metadata, core.ProtocolVersion, apiLevel)
	e.addSourceInfo(si)
	return si
}

// recover opens every stream found on disk. A stream whose metadata is
// unreadable is logged and skipped, never deleted.
func (m *jsAccount) recover(dir string) error {
	ents, err := m.fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("jetstream: read store directory: %w", err)
	}
	for _, de := range ents {
		if !de.IsDir() {
			continue
		}
		sdir := filepath.Join(dir, de.Name())
		b, err := vfs.ReadFile(m.fs, filepath.Join(sdir, metaFile))
		if errors.Is(err, os.ErrNotExist) {
			continue // a stream deleted or created half-way
		}
		if err != nil {
			m.log.Error("stream not recovered", "dir", sdir, "err", err)
			continue
		}
		meta, err := decodeMeta(b)
		if err != nil {
			m.log.Error("stream not recovered", "dir", sdir, "err", err)
			continue
		}
		if _, err := m.openStream(meta.Config, meta.Created); err != nil {
			m.log.Error("stream not recovered", "stream", meta.Config.Name, "err", err)
			continue
		}
		m.log.Info("stream recovered", "stream", meta.Config.Name)
	}
	return nil
}

func (m *jsAccount) streamDir(name string) string {
	return filepath.Join(streamsRoot(m.cfg.StoreDir, m.name), name)
}

// openStore opens the message store for cfg.
func (m *jsAccount) openStore(cfg jsapi.StreamConfig) (store.Store, error) {
	return m.openStoreIn(cfg, m.streamDir(cfg.Name))
}

// openStoreIn opens the message store for cfg in stream directory dir.
func (m *jsAccount) openStoreIn(cfg jsapi.StreamConfig, dir string) (store.Store, error) {
	return m.openStoreSynced(cfg, dir, m.cfg.SyncInterval)
}

// openStoreSynced opens the message store for cfg in dir, syncing at
// sync (0: before every acknowledgement).
func (m *jsAccount) openStoreSynced(cfg jsapi.StreamConfig, dir string, sync time.Duration) (store.Store, error) {
	return m.openStoreAs(cfg, dir, sync, false)
}

// openStoreAs opens the message store for cfg in dir; replica marks the
// store of a replicated stream, refilled from the Raft log.
func (m *jsAccount) openStoreAs(cfg jsapi.StreamConfig, dir string, sync time.Duration, replica bool) (store.Store, error) {
	if cfg.Storage == jsapi.MemoryStorage {
		return store.NewMemory(), nil
	}
	compression := ""
	if cfg.Compression == jsapi.S2Compression {
		compression = "s2"
	}
	return filestore.Open(m.fs, filepath.Join(dir, msgsDir), filestore.Config{
		SyncInterval: sync,
		Replica:      replica,
		Compression:  compression,
		Handles:      m.handles,
		Workers:      m.workers,
		Cache:        m.cache,
		Logger:       m.log.With("stream", cfg.Name),
	})
}

// openStream opens (or creates) a stream's store and starts feeding it.
func (m *jsAccount) openStream(cfg jsapi.StreamConfig, created time.Time) (*entry, error) {
	st, err := m.openStore(cfg)
	if err != nil {
		return nil, err
	}
	return m.openStreamOn(cfg, created, st)
}

// openStreamOn starts a stream over st (a restore fills the store first),
// which it then owns.
func (m *jsAccount) openStreamOn(cfg jsapi.StreamConfig, created time.Time, st store.Store) (*entry, error) {
	// Each stream sends its acks through a client of its own, as
	// nats-server gives each stream its own: an in-process publish holds
	// its client's lock while in-process subscribers run, so one client
	// shared by every stream would put every ack of the server behind
	// one lock, and behind whatever a subscriber does with it.
	out := m.newClient("jetstream-stream")
	s, err := stream.New(cfg, stream.Options{
		Store:             st,
		Out:               out,
		Republish:         m.rpub,
		Logger:            m.log,
		Domain:            m.cfg.Domain,
		Created:           created,
		ResourcesExceeded: m.resourcesExceeded,
	})
	if err != nil {
		out.Close()
		st.Close()
		return nil, err
	}
	e := &entry{s: s, out: out, storage: cfg.Storage}
	if err := m.subscribeStream(e, cfg); err != nil {
		e.close()
		return nil, err
	}
	m.mu.Lock()
	m.streams[cfg.Name] = e
	m.mu.Unlock()
	m.startSources(e, cfg)
	// Created or recovered, it is announced (as nats-server announces
	// recovered streams), before its consumers are.
	m.adviseStreamLeader(cfg.Name)
	m.adviseStream(jsapi.AdvisoryCreate, cfg.Name)
	m.recoverConsumers(e)
	return e, nil
}

// close closes the stream, then its client (acks queued at the close
// are sent first).
func (e *entry) close() error {
	err := e.s.Close()
	e.out.Close()
	return err
}

// destroy closes the stream removing its messages, then its client.
func (e *entry) destroy() error {
	err := e.s.Destroy()
	e.out.Close()
	return err
}

// subscribeStream (re)creates the subscriptions feeding e for cfg.
func (m *jsAccount) subscribeStream(e *entry, cfg jsapi.StreamConfig) error {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	for _, sub := range e.subs {
		sub.Unsubscribe()
	}
	for _, sub := range e.direct {
		sub.Unsubscribe()
	}
	e.subs, e.direct = nil, nil
	s := e.s
	ingest := func(msg *core.Msg) {
		if msg.Trace != nil {
			ingestTraced(s, msg) // trace.go
			return
		}
		if msg.InProcess {
			// In-process publisher: stored on the stream's goroutine,
			// never on the publisher's (see stream/inqueue.go).
			s.IngestQueued(string(msg.Subject), string(msg.Reply), msg.Header, msg.Data)
			return
		}
		s.Ingest(string(msg.Subject), string(msg.Reply), msg.Header, msg.Data)
	}
	if e.rep != nil {
		ingest = replicatedIngest(m.cl, e)
	}
	for _, subj := range cfg.Subjects {
		sub, err := m.acks.Subscribe(subj, "", ingest)
		if err != nil {
			return err
		}
		e.subs = append(e.subs, sub)
	}
	var direct []string
	if cfg.AllowDirect {
		direct = append(direct, cfg.Name)
	}
	if cfg.MirrorDirect && cfg.Mirror != nil {
		// A mirror can answer direct gets for its origin too; the queue
		// group makes one responder answer each request.
		direct = append(direct, cfg.Mirror.Name)
	}
	if m.clustered() {
		// Copiers on other servers read the stream through its leader.
		sub, err := m.api.Subscribe(sourcePrefix+cfg.Name, "", m.sourceHandler(e))
		if err != nil {
			return err
		}
		e.direct = append(e.direct, sub)
	}
	for _, name := range direct {
		for _, subj := range []string{jsapi.DirectGetPrefix + name, jsapi.DirectGetPrefix + name + ".>"} {
			sub, err := m.api.Subscribe(subj, directQueue, m.directHandler(s, name, e.leased))
			if err != nil {
				return err
			}
			e.direct = append(e.direct, sub)
		}
	}
	subs, err := m.subscribeConsumers(e)
	if err != nil {
		return err
	}
	e.direct = append(e.direct, subs...)
	return nil
}

// directQueue groups direct-get responders, as nats-server does, so a
// request is answered once.
const directQueue = "_zz_"

// lookup returns a stream by name.
func (m *jsAccount) lookup(name string) *entry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.streams[name]
}

// sortedStreams returns the streams ordered by name.
func (m *jsAccount) sortedStreams() []*entry {
	// Sorted by the map's keys (the names, fixed for a stream's life):
	// asking each stream for its name takes its lock at every comparison,
	// which with 10,000 streams made every create cost milliseconds.
	m.mu.RLock()
	names := make([]string, 0, len(m.streams))
	for name := range m.streams {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]*entry, len(names))
	for i, name := range names {
		out[i] = m.streams[name]
	}
	m.mu.RUnlock()
	return out
}

// shutdown stops serving the account's API and closes its streams,
// syncing their stores.
func (m *jsAccount) shutdown() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	streams := m.streams
	m.streams = map[string]*entry{}
	m.mu.Unlock()
	if m.api != nil {
		m.api.Close()
	}
	if m.acks != nil {
		m.acks.Close()
	}
	if m.deliver != nil {
		m.deliver.Close()
	}
	close(m.quit)
	m.wg.Wait()
	if m.adv != nil {
		m.adv.pub.Close()
	}
	for _, e := range streams {
		if e.rep != nil {
			m.stopReplication(e, false)
		}
		e.stopSources()
		m.stopConsumers(e)
	}
	for name, e := range streams {
		if err := e.close(); err != nil {
			m.log.Error("stream close failed", "stream", name, "err", err)
		}
	}
	if m.rpub != nil {
		m.rpub.Close()
	}
}
