// Package jetstream serves the JetStream API ($JS.API.…) over the core
// server: it owns the streams of the server, keeps their configuration on
// disk, feeds them the messages published on their subjects and answers
// API requests with nats-server's JSON.
package jetstream

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/filestore"
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
	// Accounts are the accounts that run JetStream, with their limits.
	// Nil runs it in the global account alone, with no limits of its own,
	// as a server without accounts does.
	Accounts map[string]Limits
	// Disabled are the other accounts: their API requests are answered
	// with "JetStream not enabled for account".
	Disabled []string
	// SystemAccount is the system account's name ("" without one): it
	// never runs JetStream, and answers only $JS.API.INFO, with an error.
	SystemAccount string
	// Cluster, when set, runs JetStream clustered (cluster.go): streams
	// placed and replicated across the cluster's JetStream servers.
	Cluster *ClusterConfig
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

// Manager runs JetStream on a core server: the JetStream of each account
// that has it (a jsAccount: its API, streams and consumers), and what they
// share, the store files, their workers and read cache, and the server's
// limits. Accounts without JetStream get an answer saying so.
type Manager struct {
	srv     *core.Server
	cfg     Config
	fs      vfs.FS
	log     *slog.Logger
	handles *filestore.Handles    // open store files, shared by the file streams
	workers *filestore.Workers    // the file streams' syncs and maintenance
	cache   *filestore.BlockCache // the file streams' read cache

	backups backupState // snapshots and restores in progress, every account's
	cl      *cluster    // clustered mode; nil on a server of its own

	life         sync.Mutex // serializes Reconfigure and Shutdown
	accMu        sync.RWMutex
	accounts     map[string]*jsAccount
	disabled     map[string]*core.InternalClient // "not enabled" responders of the other accounts
	disabledQ    chan disabledRequest            // refusals to send
	disabledDone chan struct{}                   // stops their sender
	stopped      bool
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
	if cfg.Accounts == nil {
		cfg.Accounts = map[string]Limits{globalAccount: NoLimits()}
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
	m := &Manager{
		srv:      srv,
		cfg:      cfg,
		fs:       cfg.FS,
		handles:  handles,
		workers:  filestore.NewWorkers(storeWorkers()),
		cache:    filestore.NewBlockCache(readCacheBytes),
		log:      cfg.Logger.With("subsystem", "jetstream"),
		accounts: map[string]*jsAccount{},
		disabled: map[string]*core.InternalClient{},
	}
	for name, lim := range cfg.Accounts {
		if name == cfg.SystemAccount {
			return nil, fmt.Errorf("jetstream: the system account %q cannot run JetStream", name)
		}
		acc := srv.LookupAccount(name)
		if acc == nil {
			return nil, fmt.Errorf("jetstream: account %q does not exist", name)
		}
		m.accounts[name] = newJSAccount(m, acc, lim)
	}
	return m, nil
}

// Start recovers the streams in the store directory and subscribes to the
// API, in every account that has JetStream. Call it before the server
// accepts clients.
func (m *Manager) Start() error {
	if _, err := migrateLayout(m.fs, m.cfg.StoreDir, m.log); err != nil {
		return err
	}
	m.removeRestoreStaging()
	streams := 0
	for _, a := range m.accountList() {
		if err := a.start(); err != nil {
			m.Shutdown()
			return err
		}
		streams += a.numStreams()
	}
	if err := m.answerDisabled(); err != nil {
		m.Shutdown()
		return err
	}
	if m.cfg.Cluster != nil {
		if err := m.startCluster(); err != nil {
			m.Shutdown()
			return err
		}
	}
	m.log.Info("JetStream started", "store_dir", Dir(m.cfg.StoreDir), "sync", syncDescription(m.cfg.SyncInterval),
		"accounts", len(m.accounts), "streams", streams, "max_open_files", m.cfg.MaxOpenFiles)
	return nil
}

// accountList returns the accounts running JetStream, ordered by name.
func (m *Manager) accountList() []*jsAccount {
	m.accMu.RLock()
	out := make([]*jsAccount, 0, len(m.accounts))
	for _, a := range m.accounts {
		out = append(out, a)
	}
	m.accMu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// account returns the JetStream of the account name, nil when it has none.
func (m *Manager) account(name string) *jsAccount {
	m.accMu.RLock()
	defer m.accMu.RUnlock()
	return m.accounts[name]
}

func syncDescription(d time.Duration) string {
	if d == 0 {
		return "always"
	}
	return d.String()
}

// Shutdown stops serving the API and closes every stream of every
// account, syncing its store. Messages published after this are not
// stored.
func (m *Manager) Shutdown() {
	m.life.Lock()
	defer m.life.Unlock()
	m.accMu.Lock()
	if m.stopped {
		m.accMu.Unlock()
		return
	}
	m.stopped = true
	disabled, done := m.disabled, m.disabledDone
	m.disabled, m.disabledDone = map[string]*core.InternalClient{}, nil
	m.accMu.Unlock()
	for _, ic := range disabled {
		ic.Close()
	}
	if done != nil {
		close(done)
	}
	if m.cl != nil {
		m.cl.stop()
	}
	for _, a := range m.accountList() {
		a.shutdown()
	}
	if m.cl != nil {
		m.cl.closeLog()
	}
}

// removeRestoreStaging empties the restore staging directory, shared by
// every account, at start.
func (m *Manager) removeRestoreStaging() {
	dir := filepath.Join(Dir(m.cfg.StoreDir), stagingDir)
	if err := m.fs.RemoveAll(dir); err != nil {
		m.log.Error("restore staging not removed", "dir", dir, "err", err)
	}
}
