package jetstream

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/store"
)

// Page sizes of the listing APIs, as nats-server's.
const (
	namesPageSize = 1024
	listPageSize  = 256
)

// apiLevel is the JetStream API level reported to clients. Level 1 tells
// them per-message TTLs are available.
const apiLevel = 1

func (m *jsAccount) accountInfo(r *request) any {
	resp := &jsapi.AccountInfoResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeAccountInfoResponse}}
	mem, file := m.usage()
	m.mu.RLock()
	n := len(m.streams)
	m.mu.RUnlock()
	consumers := 0
	for _, e := range m.sortedStreams() {
		consumers += e.numConsumers()
	}
	stats := jsapi.JetStreamAccountStats{
		JetStreamTier: jsapi.JetStreamTier{Memory: mem, Store: file, Streams: n, Consumers: consumers},
		Domain:        m.cfg.Domain,
		API: jsapi.JetStreamAPIStats{
			Level:  apiLevel,
			Total:  m.apiTotal.Load(),
			Errors: m.apiErrors.Load(),
		},
	}
	lim := m.lim()
	stats.Limits = jsapi.JetStreamAccountLimits{
		MaxMemory:            lim.MaxMemory,
		MaxStore:             lim.MaxStore,
		MaxStreams:           lim.MaxStreams,
		MaxConsumers:         lim.MaxConsumers,
		MaxAckPending:        -1,
		MemoryMaxStreamBytes: -1,
		StoreMaxStreamBytes:  -1,
	}
	// An account without limits of its own reports the server's.
	if stats.Limits.MaxMemory < 0 && m.cfg.MaxMemory > 0 {
		stats.Limits.MaxMemory = m.cfg.MaxMemory
	}
	if stats.Limits.MaxStore < 0 && m.cfg.MaxStore > 0 {
		stats.Limits.MaxStore = m.cfg.MaxStore
	}
	resp.JetStreamAccountStats = &stats
	return resp
}

// checkConfig runs nats-server's configuration checks (checkStreamCfg),
// with the account's other streams known so that mirrors and sources are
// checked against their origins (message size, inherited direct gets)
// and for cycles, then the ones that depend on this server, and
// normalizes the configuration. The caller holds adminMu, so the streams
// it looks at do not change before it acts on the answer.
func (m *jsAccount) checkConfig(cfg jsapi.StreamConfig, pedantic bool) (jsapi.StreamConfig, *jsapi.ApiError) {
	if e := unsupported(&cfg, m.clustered()); e != nil {
		return cfg, e
	}
	dropLaterLevels(&cfg)
	cfg, e := jsapi.CheckStreamConfig(cfg, jsapi.Limits{Pedantic: pedantic, Lookup: m.streamConfig})
	if e != nil {
		return cfg, e
	}
	// nats-server refuses replicas after checking the configuration.
	if cfg.Replicas > 1 && !m.clustered() {
		return cfg, jsapi.NewError(jsapi.ErrStreamReplicasNotSupported)
	}
	cfg.Metadata = jsapi.StoredMetadata(cfg.Metadata, jsapi.RequiredAPILevel(cfg))
	return cfg, nil
}

// streamConfig is the configuration of the stream name, if there is one
// (jsapi.Limits.Lookup).
func (m *jsAccount) streamConfig(name string) (jsapi.StreamConfig, bool) {
	if m.clustered() {
		var cfg jsapi.StreamConfig
		found := false
		m.cl.read(func(st *jsmeta.State) {
			if sa := st.Stream(m.name, name); sa != nil {
				cfg, found = sa.Config, true
			}
		})
		return cfg, found
	}
	e := m.lookup(name)
	if e == nil {
		return jsapi.StreamConfig{}, false
	}
	return e.s.Config(), true
}

// unsupported refuses configuration this server cannot honour yet, so a
// client is told instead of silently getting something else. Placement is
// honoured in a cluster: the meta leader places by cluster and tags, and
// refuses what no server matches as nats-server does (10005).
func unsupported(cfg *jsapi.StreamConfig, clustered bool) *jsapi.ApiError {
	var what string
	external := cfg.Mirror != nil && cfg.Mirror.External != nil
	for _, src := range cfg.Sources {
		external = external || (src != nil && src.External != nil)
	}
	switch {
	case external:
		what = "sourcing from another account or domain (external)"
	case !clustered && cfg.Placement != nil && (cfg.Placement.Cluster != "" || len(cfg.Placement.Tags) > 0):
		what = "placement"
	}
	if what == "" {
		return nil
	}
	return jsapi.NewError(jsapi.ErrStreamInvalidConfig, fmt.Errorf("%s is not supported by this server yet", what))
}

// dropLaterLevels clears the settings of API levels above the one this
// server implements (counters, atomic and fast batches, schedules, async
// persistence, source consumers), as nats-server 2.11 does by not knowing
// them: the reply's configuration shows them off, which is how clients
// (natscli, nats.go) tell that a server lacks a feature. natscli's
// benchmarks, for one, always ask for atomic and fast batches.
func dropLaterLevels(cfg *jsapi.StreamConfig) {
	cfg.AllowMsgCounter = false
	cfg.AllowAtomicPublish = false
	cfg.AllowMsgSchedules = false
	cfg.AllowBatchPublish = false
	cfg.PersistMode = jsapi.DefaultPersistMode
	if cfg.Mirror != nil {
		cfg.Mirror.Consumer = nil
	}
	for _, src := range cfg.Sources {
		if src != nil {
			src.Consumer = nil
		}
	}
}

func (m *jsAccount) overlaps(cfg *jsapi.StreamConfig, except string) bool {
	if m.clustered() {
		for _, sa := range m.metaStreams() {
			if sa.Config.Name != except && jsapi.SubjectsOverlap(cfg.Subjects, sa.Config.Subjects) {
				return true
			}
		}
		return false
	}
	m.mu.RLock()
	all := make([]*entry, 0, len(m.streams))
	for _, e := range m.streams {
		all = append(all, e) // any order: the answer is yes or no
	}
	m.mu.RUnlock()
	for _, e := range all {
		other := e.s.Config()
		if other.Name == except {
			continue
		}
		if jsapi.SubjectsOverlap(cfg.Subjects, other.Subjects) {
			return true
		}
	}
	return false
}

func (m *jsAccount) streamCreate(r *request) any {
	resp := &jsapi.StreamCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamCreateResponse}}
	var req jsapi.StreamConfigRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	if e := jsapi.CheckStreamCreate(streamName(r.subject), req.StreamConfig); e != nil {
		resp.Error = e
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	cfg, e := m.checkConfig(req.StreamConfig, req.Pedantic)
	if e != nil {
		resp.Error = e
		return resp
	}
	if e := m.lookup(cfg.Name); e != nil {
		existing := e.s.Config()
		same := cfg
		same.Metadata = jsapi.WithRequiredLevelOf(cfg.Metadata, existing.Metadata)
		if !reflect.DeepEqual(existing, same) {
			resp.Error = jsapi.NewError(jsapi.ErrStreamNameExist)
			return resp
		}
		// Creating an identical stream again is not an error.
		resp.StreamInfo = e.info(false, "")
		resp.DidCreate = true
		return resp
	}
	if e := m.reserve(&cfg, true); e != nil {
		resp.Error = e
		return resp
	}
	// nats-server checks these filters only when it adds a stream, so an
	// update keeps them as sent.
	if err := jsapi.CheckOriginFilters(cfg); err != nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamCreate, err)
		return resp
	}
	if m.overlaps(&cfg, "") {
		resp.Error = jsapi.NewError(jsapi.ErrStreamSubjectOverlap)
		return resp
	}
	ent, err := m.hostNewStream(&streamAssignment{Config: cfg, Created: time.Now().UTC(), Peers: m.peers()})
	if err != nil {
		resp.Error = m.storeError("create", cfg.Name, err)
		return resp
	}
	resp.StreamInfo = ent.info(false, "")
	resp.DidCreate = true
	return resp
}

func (m *jsAccount) storeError(op, name string, err error) *jsapi.ApiError {
	m.log.Error("stream "+op+" failed", "stream", name, "err", err)
	return jsapi.NewError(jsapi.ErrStreamCreate, jsapi.PathFree(err))
}

func (m *jsAccount) writeMeta(meta *streamMeta) error {
	b, err := encodeMeta(meta)
	if err != nil {
		return err
	}
	return m.diskOps().writeFile(filepath.Join(m.streamDir(meta.Config.Name), metaFile), b)
}

func (m *jsAccount) streamUpdate(r *request) any {
	resp := &jsapi.StreamUpdateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamUpdateResponse}}
	var req jsapi.StreamConfigRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	cfg, e := m.checkConfig(req.StreamConfig, req.Pedantic)
	if e != nil {
		resp.Error = e
		return resp
	}
	// As nats-server, the name is compared once the configuration passed.
	if streamName(r.subject) != cfg.Name {
		resp.Error = jsapi.NewError(jsapi.ErrStreamMismatch)
		return resp
	}
	ent := m.lookup(cfg.Name)
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	old := ent.s.Config()
	if e := jsapi.CheckStreamUpdate(old, cfg); e != nil {
		resp.Error = e
		return resp
	}
	jsapi.Seal(&cfg)
	if cfg.MaxBytes != old.MaxBytes {
		if e := m.reserve(&cfg, false); e != nil {
			resp.Error = e
			return resp
		}
	}
	if m.overlaps(&cfg, cfg.Name) {
		resp.Error = jsapi.NewError(jsapi.ErrStreamSubjectOverlap)
		return resp
	}
	if err := m.hostStreamUpdate(ent, &streamAssignment{Config: cfg, Created: ent.s.Created(), Peers: m.peers()}); err != nil {
		resp.Error = m.failed(jsapi.ErrStreamUpdate, err)
		return resp
	}
	resp.StreamInfo = ent.info(false, "")
	return resp
}

func (m *jsAccount) streamInfo(r *request) any {
	resp := &jsapi.StreamInfoResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamInfoResponse}}
	var req jsapi.StreamInfoRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	info := ent.info(req.DeletedDetails, req.SubjectsFilter)
	// As nats-server's: the domain, and this server as the leader (the
	// one LEADER_ELECTED named), which nats stream info shows.
	info.Domain = m.cfg.Domain
	info.Cluster = m.clusterInfo(ent)
	if req.SubjectsFilter != "" {
		// Subjects come in pages, like every other listing.
		resp.Total = len(info.State.Subjects)
		resp.Offset = req.Offset
		resp.Limit = maxSubjectDetails
		info.State.Subjects = pageSubjects(info.State.Subjects, req.Offset, maxSubjectDetails)
	}
	resp.StreamInfo = info
	return resp
}

// maxSubjectDetails bounds the subjects one stream info response lists.
const maxSubjectDetails = 100_000

func pageSubjects(all map[string]uint64, offset, limit int) map[string]uint64 {
	if offset <= 0 && len(all) <= limit {
		return all
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	offset = min(max(offset, 0), len(keys))
	keys = keys[offset:min(offset+limit, len(keys))]
	out := make(map[string]uint64, len(keys))
	for _, k := range keys {
		out[k] = all[k]
	}
	return out
}

func (m *jsAccount) streamDelete(r *request) any {
	resp := &jsapi.StreamDeleteResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamDeleteResponse}}
	name := streamName(r.subject)
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	hosted, err := m.unhostStream(name)
	if !hosted {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	if err != nil {
		resp.Error = m.failed(jsapi.ErrStreamDelete, err)
		return resp
	}
	resp.Success = true
	return resp
}

// filtered returns the streams (by name order) whose subjects overlap the
// filter, all of them when it is empty.
func (m *jsAccount) filtered(filter string) []*entry {
	return bySubjects(m.sortedStreams(), filter, func(e *entry) []string { return e.s.Config().Subjects })
}

// bySubjects keeps the streams of all whose subjects overlap filter (all
// of them when it is empty or ">"), in place: the listings' filter, for
// hosted streams and for assignments alike.
func bySubjects[T any](all []T, filter string, subjects func(T) []string) []T {
	if filter == "" || filter == ">" {
		return all
	}
	out := all[:0]
	for _, s := range all {
		if jsapi.SubjectsOverlap([]string{filter}, subjects(s)) {
			out = append(out, s)
		}
	}
	return out
}

func (m *jsAccount) streamNames(r *request) any {
	resp := &jsapi.StreamNamesResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamNamesResponse}}
	var req jsapi.StreamNamesRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	all := m.filtered(req.Subject)
	pg := paginate(len(all), req.Offset, namesPageSize)
	resp.ApiPaged = pg.paged
	// nats-server sends null, not [], when there are none.
	for _, e := range all[pg.from:pg.to] {
		resp.Streams = append(resp.Streams, e.s.Name())
	}
	return resp
}

func (m *jsAccount) streamList(r *request) any {
	resp := &jsapi.StreamListResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamListResponse}}
	var req jsapi.StreamListRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	all := m.filtered(req.Subject)
	pg := paginate(len(all), req.Offset, listPageSize)
	resp.ApiPaged = pg.paged
	resp.Streams = []*jsapi.StreamInfo{}
	for _, e := range all[pg.from:pg.to] {
		resp.Streams = append(resp.Streams, e.info(false, ""))
	}
	return resp
}

func (m *jsAccount) streamPurge(r *request) any {
	resp := &jsapi.StreamPurgeResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamPurgeResponse}}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	var req jsapi.StreamPurgeRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	cfg := ent.s.Config()
	switch {
	case cfg.Sealed:
		resp.Error = jsapi.NewError(jsapi.ErrStreamSealed)
		return resp
	case cfg.DenyPurge:
		resp.Error = jsapi.NewError(jsapi.ErrStreamPurgeFailed, errors.New("stream purge not permitted"))
		return resp
	case req.Sequence > 0 && req.Keep > 0:
		resp.Error = jsapi.NewError(jsapi.ErrBadRequest)
		return resp
	}
	preq := store.PurgeRequest{Subject: req.Subject, Seq: req.Sequence, Keep: req.Keep}
	var n uint64
	var err error
	if ent.rep != nil {
		ctx, cancel := context.WithTimeout(context.Background(), groupWait)
		n, err = ent.rep.group().Purge(ctx, preq)
		cancel()
	} else {
		n, err = ent.s.Purge(preq)
	}
	if err != nil {
		resp.Error = m.failed(jsapi.ErrStreamPurgeFailed, err)
		return resp
	}
	resp.Success, resp.Purged = true, n
	return resp
}
