// Package jetstream serves the JetStream API ($JS.API.…) over the core
// server: it owns the streams of the server, keeps their configuration on
// disk, feeds them the messages published on their subjects and answers
// API requests with nats-server's JSON.
package jetstream

import (
	"errors"
	"fmt"
	"log/slog"
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

// Config sets up JetStream.
type Config struct {
	// StoreDir holds the streams; it is created if missing.
	StoreDir string
	// FS is what every file of JetStream is read and written through:
	// stores, configuration and state files (nil: the operating system's).
	// Tests give a memory file system that simulates crashes.
	FS vfs.FS
	// SyncInterval 0 syncs every write before acknowledging it (group
	// commit). A positive interval acknowledges once the write reached the
	// OS and syncs periodically: faster, but a power loss can lose
	// acknowledged messages.
	SyncInterval time.Duration
	// MaxMemory and MaxStore limit the bytes of all memory and file
	// streams; 0 means no limit.
	MaxMemory int64
	MaxStore  int64
	// Domain is the JetStream domain ("" for none).
	Domain string
	// MaxOpenFiles bounds the store files kept open while idle, shared by
	// every file stream; 0 derives it from the descriptor limit (see
	// DefaultMaxOpenFiles).
	MaxOpenFiles int
	// Logger; nil discards.
	Logger *slog.Logger
}

// apiWorkers serve API requests that may touch the disk, so a slow
// request never stalls the connection that sent it.
const (
	apiWorkers  = 4
	apiQueueLen = 4096
)

// readCacheBytes bounds the blocks of stored messages cached in memory,
// all file streams together: a per-stream cache would grow with the number
// of streams read.
const readCacheBytes = 64 << 20

// Manager runs JetStream on a core server.
type Manager struct {
	srv     *core.Server
	cfg     Config
	fs      vfs.FS
	log     *slog.Logger
	handles *filestore.Handles    // open store files, shared by the file streams
	workers *filestore.Workers    // the file streams' syncs and maintenance
	cache   *filestore.BlockCache // the file streams' read cache

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
	wg   sync.WaitGroup

	backups backupState // snapshots and restores in progress

	apiTotal  atomic.Uint64
	apiErrors atomic.Uint64
	dropped   atomic.Uint64
	in        atomic.Pointer[inbound] // the consumers' queues, once started

	disk diskOps // metadata writes; zero: the OS's (tests inject faults)
}

// entry is a stream and the subscriptions feeding it.
type entry struct {
	s       *stream.Stream
	out     *core.InternalClient // the stream's own: its acks (see openStreamOn)
	storage jsapi.StorageType    // fixed for a stream's life
	subs    []*core.Subscription
	direct  []*core.Subscription

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

// New prepares JetStream for srv; Start loads the streams and begins
// serving.
func New(srv *core.Server, cfg Config) (*Manager, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("jetstream: store directory is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	n, err := maxOpenFiles(cfg.MaxOpenFiles, descriptorLimit())
	if err != nil {
		return nil, err
	}
	cfg.MaxOpenFiles = n
	handles, err := filestore.NewHandles(n)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return &Manager{
		srv:     srv,
		cfg:     cfg,
		fs:      cfg.FS,
		handles: handles,
		workers: filestore.NewWorkers(storeWorkers()),
		cache:   filestore.NewBlockCache(readCacheBytes),
		log:     cfg.Logger.With("subsystem", "jetstream"),
		streams: map[string]*entry{},
		work:    make(chan *request, apiQueueLen),
		quit:    make(chan struct{}),
	}, nil
}

// Start recovers the streams in the store directory and subscribes to the
// API. Call it before the server accepts clients.
func (m *Manager) Start() error {
	if _, err := migrateLayout(m.fs, m.cfg.StoreDir, m.log); err != nil {
		return err
	}
	dir := streamsRoot(m.cfg.StoreDir, globalAccount)
	if err := vfs.MkdirAllSynced(m.fs, dir, 0o700); err != nil {
		return fmt.Errorf("jetstream: store directory: %w", err)
	}
	m.removeRestoreStaging()
	m.api = m.srv.NewInternalClient("jetstream-api")
	m.acks = m.srv.NewInternalClient("jetstream-streams")
	m.deliver = m.srv.NewInternalClient("jetstream-consumers")
	m.adv = newAdvisor(m.srv.NewInternalClient("jetstream-advisories"), m.log)
	m.rpub = m.srv.NewInternalClient("jetstream-republish")
	if err := m.recover(dir); err != nil {
		m.Shutdown()
		return err
	}
	if err := m.subscribeAPI(); err != nil {
		m.Shutdown()
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
	m.log.Info("JetStream started", "store_dir", Dir(m.cfg.StoreDir), "sync", syncDescription(m.cfg.SyncInterval), "streams", len(m.streams), "max_open_files", m.cfg.MaxOpenFiles)
	return nil
}

func syncDescription(d time.Duration) string {
	if d == 0 {
		return "always"
	}
	return d.String()
}

// recover opens every stream found on disk. A stream whose metadata is
// unreadable is logged and skipped, never deleted.
func (m *Manager) recover(dir string) error {
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

func (m *Manager) streamDir(name string) string {
	return filepath.Join(streamsRoot(m.cfg.StoreDir, globalAccount), name)
}

// openStore opens the message store for cfg.
func (m *Manager) openStore(cfg jsapi.StreamConfig) (store.Store, error) {
	return m.openStoreIn(cfg, m.streamDir(cfg.Name))
}

// openStoreIn opens the message store for cfg in stream directory dir.
func (m *Manager) openStoreIn(cfg jsapi.StreamConfig, dir string) (store.Store, error) {
	if cfg.Storage == jsapi.MemoryStorage {
		return store.NewMemory(), nil
	}
	compression := ""
	if cfg.Compression == jsapi.S2Compression {
		compression = "s2"
	}
	return filestore.Open(m.fs, filepath.Join(dir, msgsDir), filestore.Config{
		SyncInterval: m.cfg.SyncInterval,
		Compression:  compression,
		Handles:      m.handles,
		Workers:      m.workers,
		Cache:        m.cache,
		Logger:       m.log.With("stream", cfg.Name),
	})
}

// openStream opens (or creates) a stream's store and starts feeding it.
func (m *Manager) openStream(cfg jsapi.StreamConfig, created time.Time) (*entry, error) {
	st, err := m.openStore(cfg)
	if err != nil {
		return nil, err
	}
	return m.openStreamOn(cfg, created, st)
}

// openStreamOn starts a stream over st (a restore fills the store first),
// which it then owns.
func (m *Manager) openStreamOn(cfg jsapi.StreamConfig, created time.Time, st store.Store) (*entry, error) {
	// Each stream sends its acks through a client of its own, as
	// nats-server gives each stream its own: an in-process publish holds
	// its client's lock while in-process subscribers run, so one client
	// shared by every stream would put every ack of the server behind
	// one lock, and behind whatever a subscriber does with it.
	out := m.srv.NewInternalClient("jetstream-stream")
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
func (m *Manager) subscribeStream(e *entry, cfg jsapi.StreamConfig) error {
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
	for _, name := range direct {
		for _, subj := range []string{jsapi.DirectGetPrefix + name, jsapi.DirectGetPrefix + name + ".>"} {
			sub, err := m.api.Subscribe(subj, directQueue, m.directHandler(s, name))
			if err != nil {
				return err
			}
			e.direct = append(e.direct, sub)
		}
	}
	return nil
}

// directQueue groups direct-get responders, as nats-server does, so a
// request is answered once.
const directQueue = "_zz_"

// lookup returns a stream by name.
func (m *Manager) lookup(name string) *entry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.streams[name]
}

// sortedStreams returns the streams ordered by name.
func (m *Manager) sortedStreams() []*entry {
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

// usage sums the bytes stored by streams of each storage type.
func (m *Manager) usage() (mem, file uint64) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, e := range m.streams {
		// Not e.s.Config(): this runs under the publishing stream's lock.
		b := e.s.Store().State().Bytes
		if e.storage == jsapi.MemoryStorage {
			mem += b
		} else {
			file += b
		}
	}
	return mem, file
}

// resourcesExceeded reports whether n more bytes of type t would pass the
// server-wide limit.
func (m *Manager) resourcesExceeded(t jsapi.StorageType, n uint64) bool {
	limit := m.cfg.MaxStore
	if t == jsapi.MemoryStorage {
		limit = m.cfg.MaxMemory
	}
	if limit <= 0 {
		return false
	}
	mem, file := m.usage()
	used := file
	if t == jsapi.MemoryStorage {
		used = mem
	}
	return used+n > uint64(limit)
}

// Shutdown stops serving the API and closes every stream, syncing its
// store. Messages published after this are not stored.
func (m *Manager) Shutdown() {
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
