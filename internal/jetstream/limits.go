package jetstream

import (
	"github.com/starling-mq/starling/internal/jsapi"
)

// Limits are an account's JetStream limits, as the accounts block sets
// them; -1 is no limit. MaxConsumers bounds the consumers of each stream,
// as nats-server applies it.
type Limits struct {
	MaxMemory    int64
	MaxStore     int64
	MaxStreams   int
	MaxConsumers int
}

// NoLimits is an account's JetStream with no limits of its own.
func NoLimits() Limits {
	return Limits{MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: -1}
}

// usage sums the bytes stored by the account's streams of each storage
// type.
func (m *jsAccount) usage() (mem, file uint64) {
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

// usage sums the bytes stored by every account's streams. It runs at
// each publish when the server has a limit, so it does not sort.
func (m *Manager) usage() (mem, file uint64) {
	m.accMu.RLock()
	defer m.accMu.RUnlock()
	for _, a := range m.accounts {
		am, af := a.usage()
		mem, file = mem+am, file+af
	}
	return mem, file
}

// resourcesExceeded is the error of storing n more bytes of type t, nil
// when they fit: first the account's limit, then the server's, with
// nats-server's errors for each.
func (m *jsAccount) resourcesExceeded(t jsapi.StorageType, n uint64) *jsapi.ApiError {
	if limit := m.lim().of(t); limit >= 0 {
		if used(t, m.usage)+n > uint64(limit) {
			return jsapi.NewError(jsapi.ErrAccountResourcesExceeded)
		}
	}
	limit := m.cfg.MaxStore
	if t == jsapi.MemoryStorage {
		limit = m.cfg.MaxMemory
	}
	if limit > 0 && used(t, m.Manager.usage)+n > uint64(limit) {
		return jsapi.NewError(jsapi.ErrInsufficientResources)
	}
	return nil
}

// of is the limit for storage type t.
func (l Limits) of(t jsapi.StorageType) int64 {
	if t == jsapi.MemoryStorage {
		return l.MaxMemory
	}
	return l.MaxStore
}

// used picks the bytes of type t out of a usage report.
func used(t jsapi.StorageType, usage func() (mem, file uint64)) uint64 {
	mem, file := usage()
	if t == jsapi.MemoryStorage {
		return mem
	}
	return file
}

// reserved sums the max_bytes of the account's streams of type t, except
// the stream named except (the one being updated). The streams are listed
// under m.mu and asked for their configuration after: a publish holds its
// stream's lock and then takes m.mu (resourcesExceeded), so m.mu is never
// held while a stream's lock is taken.
func (m *jsAccount) reserved(t jsapi.StorageType, except string) uint64 {
	m.mu.RLock()
	streams := make([]*entry, 0, len(m.streams))
	for name, e := range m.streams {
		if name != except && e.storage == t {
			streams = append(streams, e)
		}
	}
	m.mu.RUnlock()
	var sum uint64
	for _, e := range streams {
		if mb := e.s.Config().MaxBytes; mb > 0 {
			sum += uint64(mb)
		}
	}
	return sum
}

// reserve checks a stream configuration against the account's limits
// before the stream is created or updated: the number of streams (on
// create), and the bytes its max_bytes reserves next to the other
// streams' reservations, against the account's limit and the server's.
// A stream without max_bytes reserves nothing, as in nats-server; its
// publishes are checked against the limits instead.
func (m *jsAccount) reserve(cfg *jsapi.StreamConfig, create bool) *jsapi.ApiError {
	lim := m.lim()
	if create && lim.MaxStreams > 0 && m.numStreams() >= lim.MaxStreams {
		return jsapi.NewError(jsapi.ErrMaximumStreamsLimit)
	}
	if cfg.MaxBytes <= 0 {
		return nil
	}
	want := m.reserved(cfg.Storage, cfg.Name) + uint64(cfg.MaxBytes)
	exceeded := jsapi.ErrStorageResourcesExceeded
	server := m.cfg.MaxStore
	if cfg.Storage == jsapi.MemoryStorage {
		exceeded = jsapi.ErrMemoryResourcesExceeded
		server = m.cfg.MaxMemory
	}
	if limit := lim.of(cfg.Storage); limit >= 0 && want > uint64(limit) {
		return jsapi.NewError(exceeded)
	}
	if server > 0 {
		var all uint64
		for _, a := range m.accountList() {
			if a == m {
				all += a.reserved(cfg.Storage, cfg.Name)
			} else {
				all += a.reserved(cfg.Storage, "")
			}
		}
		if all+uint64(cfg.MaxBytes) > uint64(server) {
			return jsapi.NewError(exceeded)
		}
	}
	return nil
}

// consumerLimitReached reports whether a stream with n consumers has as
// many as the account allows each stream (0, like -1, is no limit, as in
// nats-server).
func (m *jsAccount) consumerLimitReached(n int) bool {
	lim := m.lim()
	return lim.MaxConsumers > 0 && n >= lim.MaxConsumers
}

// lim is the account's limits in force (a reload may change them).
func (m *jsAccount) lim() *Limits { return m.limits.Load() }
