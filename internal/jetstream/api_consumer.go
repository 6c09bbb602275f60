package jetstream

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/vfs"
)

const consumersDir = "consumers"

// consumerMeta is a durable consumer's persisted configuration.
type consumerMeta struct {
	Config  jsapi.ConsumerConfig `json:"config"`
	Created time.Time            `json:"created"`
}

// consumer API subjects after the prefix: CONSUMER.CREATE.<stream>[.<name>[.<filter>]]
func (m *jsAccount) consumerCreate(r *request) any {
	resp := &jsapi.ConsumerCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerCreateResponse}}
	rest := strings.TrimPrefix(r.subject, "$JS.API.CONSUMER.CREATE.")
	streamName, rest, _ := strings.Cut(rest, ".")
	name, filter, _ := strings.Cut(rest, ".")
	return m.createConsumer(r, resp, streamName, name, filter, false)
}

func (m *jsAccount) consumerDurableCreate(r *request) any {
	resp := &jsapi.ConsumerCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerCreateResponse}}
	return m.createConsumer(r, resp, token(r.subject, 5), token(r.subject, 6), "", true)
}

func (m *jsAccount) createConsumer(r *request, resp *jsapi.ConsumerCreateResponse, streamName, name, filter string, durableAPI bool) any {
	var req jsapi.CreateConsumerRequest
	if len(r.data) == 0 {
		resp.Error = jsapi.NewError(jsapi.ErrConsumerConfigRequired)
		return resp
	}
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	cfg := req.Config
	if req.Stream != "" && req.Stream != streamName {
		resp.Error = jsapi.NewError(jsapi.ErrStreamMismatch)
		return resp
	}
	if e := nameFromSubject(&cfg, name, durableAPI); e != nil {
		resp.Error = e
		return resp
	}
	if filter != "" {
		if len(cfg.FilterSubjects) > 0 {
			resp.Error = jsapi.NewError(jsapi.ErrConsumerMultipleFiltersNotAllowed)
			return resp
		}
		if cfg.FilterSubject != "" && cfg.FilterSubject != filter {
			resp.Error = jsapi.NewError(jsapi.ErrConsumerCreateFilterSubjectMismatch)
			return resp
		}
		cfg.FilterSubject = filter
	}
	if cfg.Replicas > 1 && !m.clustered() {
		// As nats-server without a cluster, before looking at the stream.
		resp.Error = jsapi.NewError(jsapi.ErrStreamReplicasNotSupported)
		return resp
	}
	ent := m.lookup(streamName)
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	if c := ent.consumer(consumerName(cfg)); c != nil {
		// Only CONSUMER.PAUSE pauses and resumes an existing consumer: a
		// create or edit (natscli sends the zero time) keeps its pause.
		cfg.PauseUntil = c.Config().PauseUntil
	}
	scfg := ent.s.Config()
	cfg, e := consumer.Normalize(cfg, scfg, req.Pedantic)
	if e != nil {
		resp.Error = e
		return resp
	}
	cfg.Metadata = jsapi.StoredMetadata(cfg.Metadata, jsapi.ConsumerRequiredAPILevel(cfg))
	ent.conMu.Lock()
	existing := ent.consumers[cfg.Name]
	n := len(ent.consumers)
	ent.conMu.Unlock()
	if existing != nil {
		old := existing.Config()
		same := cfg
		same.Metadata = jsapi.WithRequiredLevelOf(cfg.Metadata, old.Metadata)
		if reflect.DeepEqual(old, same) {
			if req.Action == jsapi.ActionUpdate || req.Action == jsapi.ActionCreateOrUpdate || req.Action == jsapi.ActionCreate {
				resp.ConsumerInfo = m.consumerReply(ent, existing)
				return resp
			}
		}
		if req.Action == jsapi.ActionCreate {
			resp.Error = jsapi.NewError(jsapi.ErrConsumerAlreadyExists)
			return resp
		}
		bound := old.DeliverSubject != "" && m.deliver.HasInterest(old.DeliverSubject)
		if e := consumer.CheckUpdate(old, cfg, bound); e != nil {
			resp.Error = e
			return resp
		}
		if scfg.Retention == jsapi.WorkQueuePolicy && ent.workQueueConflict(cfg, cfg.Name) != nil {
			// New filters may not reach into another consumer's share.
			resp.Error = jsapi.NewError(jsapi.ErrConsumerWQConsumerNotUnique)
			return resp
		}
		c, err := m.hostConsumerOf(ent, &consumerAssignment{Stream: streamName, Config: cfg, Created: existing.Created(), Peers: m.peers()})
		if err != nil {
			resp.Error = m.failed(jsapi.ErrConsumerCreate, err)
			return resp
		}
		resp.ConsumerInfo = m.consumerReply(ent, c)
		return resp
	}
	if req.Action == jsapi.ActionUpdate {
		resp.Error = jsapi.NewError(jsapi.ErrConsumerDoesNotExist)
		return resp
	}
	if (scfg.MaxConsumers > 0 && n >= scfg.MaxConsumers) || m.consumerLimitReached(n) {
		resp.Error = jsapi.NewError(jsapi.ErrMaximumConsumersLimit)
		return resp
	}
	if scfg.Retention == jsapi.WorkQueuePolicy {
		if e := ent.workQueueConflict(cfg, ""); e != nil {
			resp.Error = e
			return resp
		}
	}
	c, err := m.hostConsumerOf(ent, &consumerAssignment{Stream: streamName, Config: cfg, Created: time.Now().UTC(), Peers: m.peers()})
	if err != nil {
		resp.Error = m.failed(jsapi.ErrConsumerCreate, err)
		return resp
	}
	resp.ConsumerInfo = m.consumerReply(ent, c)
	return resp
}

// nameFromSubject applies the name a create subject carries to cfg, with
// nats-server's checks in its order: no path separators in the subject's
// name; the durable API needs the same durable name in the request; the
// named API takes its name from the subject (a differing durable name is
// refused, a differing name replaced); the legacy ephemeral API refuses a
// durable name.
func nameFromSubject(cfg *jsapi.ConsumerConfig, name string, durableAPI bool) *jsapi.ApiError {
	if strings.ContainsAny(name, `\/`) {
		return jsapi.NewError(jsapi.ErrConsumerNameContainsPathSeparators)
	}
	switch {
	case durableAPI && name == "":
		return jsapi.NewError(jsapi.ErrConsumerDurableNameNotInSubject)
	case durableAPI && cfg.Durable == "":
		return jsapi.NewError(jsapi.ErrConsumerDurableNameNotSet)
	case durableAPI && cfg.Durable != name:
		return jsapi.NewError(jsapi.ErrConsumerDurableNameNotMatchSubject)
	case durableAPI:
		cfg.Name = name
	case name != "" && cfg.Durable != "" && cfg.Durable != name:
		return jsapi.NewError(jsapi.ErrConsumerDurableNameNotMatchSubject)
	case name != "":
		cfg.Name = name
	case cfg.Durable != "":
		return jsapi.NewError(jsapi.ErrConsumerEphemeralWithDurableName)
	}
	return nil
}

// consumerName is the name a create request's configuration gives.
func consumerName(cfg jsapi.ConsumerConfig) string {
	if cfg.Durable != "" {
		return cfg.Durable
	}
	return cfg.Name
}

// consumer returns the consumer called name, nil if none.
func (e *entry) consumer(name string) *consumer.Consumer {
	if name == "" {
		return nil
	}
	e.conMu.Lock()
	defer e.conMu.Unlock()
	return e.consumers[name]
}

// workQueueConflict enforces one consumer per subject on a work queue,
// comparing cfg with every consumer but the one named skip.
func (e *entry) workQueueConflict(cfg jsapi.ConsumerConfig, skip string) *jsapi.ApiError {
	filters := func(c jsapi.ConsumerConfig) []string {
		if c.FilterSubject != "" {
			return []string{c.FilterSubject}
		}
		return c.FilterSubjects
	}
	mine := filters(cfg)
	// Not under conMu: Config takes the consumer's lock, which a consumer
	// may hold while its deliveries look consumers up.
	for _, other := range e.sortedConsumers() {
		if other.Name() == skip {
			continue
		}
		theirs := filters(other.Config())
		if len(mine) == 0 || len(theirs) == 0 {
			if len(mine) == 0 && len(theirs) == 0 {
				return jsapi.NewError(jsapi.ErrConsumerWQMultipleUnfiltered)
			}
			return jsapi.NewError(jsapi.ErrConsumerWQConsumerNotUnique)
		}
		if jsapi.SubjectsOverlap(mine, theirs) {
			return jsapi.NewError(jsapi.ErrConsumerWQConsumerNotUnique)
		}
	}
	return nil
}

// startConsumer creates and registers a consumer on ent.
func (m *jsAccount) startConsumer(ent *entry, cfg jsapi.ConsumerConfig, created time.Time, state *consumer.State) *consumer.Consumer {
	return m.startConsumerWith(ent, cfg, created, state, nil)
}

// startConsumerWith is startConsumer with the options tuned by tune (a
// replicated consumer's).
func (m *jsAccount) startConsumerWith(ent *entry, cfg jsapi.ConsumerConfig, created time.Time, state *consumer.State, tune func(*consumer.Options)) *consumer.Consumer {
	name := cfg.Name
	var c *consumer.Consumer
	opts := consumer.Options{
		Source:  ent.s,
		Out:     m.deliver,
		Created: created,
		Logger:  m.log,
		State:   state,
		OnInactive: func() {
			m.removeConsumer(ent, name, c)
		},
		Advise: m.advise,
		Domain: m.cfg.Domain,
	}
	if cfg.Durable != "" && ent.storage != jsapi.MemoryStorage && !cfg.MemoryStorage {
		opts.Persist = func() { m.saveConsumerState(ent, c) }
	}
	if ret := ent.s.Config().Retention; ret == jsapi.WorkQueuePolicy || ret == jsapi.InterestPolicy {
		s := ent.s
		opts.OnAck = func(seq uint64) {
			if ret == jsapi.InterestPolicy && !ent.allDone(seq) {
				return
			}
			_, _ = s.DeleteMsg(seq, false)
		}
	}
	if tune != nil {
		tune(&opts)
	}
	c = consumer.New(name, cfg, opts)
	// Recovered consumers are announced too, as nats-server does.
	m.adviseConsumerLeader(ent.s.Name(), name)
	m.advise(jsapi.AdvisoryPrefix+"CONSUMER.CREATED."+ent.s.Name()+"."+name, &jsapi.ConsumerActionAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeConsumerAction), Stream: ent.s.Name(), Consumer: name, Action: "create", Domain: m.cfg.Domain,
	})
	ent.conMu.Lock()
	if ent.consumers == nil {
		ent.consumers = map[string]*consumer.Consumer{}
	}
	ent.consumers[name] = c
	ent.trackPersistingLocked(name, c)
	n := len(ent.consumers)
	ent.conMu.Unlock()
	ent.s.SetConsumerCount(n)
	return c
}

// allDone reports whether every consumer of an interest stream is done
// with message seq, so it can go.
func (e *entry) allDone(seq uint64) bool {
	m, err := e.s.Store().Load(seq)
	if err != nil {
		return false // already gone
	}
	for _, c := range e.sortedConsumers() {
		if !c.Done(seq, m.Subject) {
			return false
		}
	}
	return true
}

func (e *entry) numConsumers() int {
	e.conMu.Lock()
	defer e.conMu.Unlock()
	return len(e.consumers)
}

// removeConsumer stops and forgets a consumer (c, when set, must still be
// the registered one) and deletes its files.
func (m *jsAccount) removeConsumer(ent *entry, name string, c *consumer.Consumer) bool {
	ent.conMu.Lock()
	cur := ent.consumers[name]
	if cur == nil || (c != nil && cur != c) {
		ent.conMu.Unlock()
		return false
	}
	delete(ent.consumers, name)
	delete(ent.persisting, name)
	n := len(ent.consumers)
	ent.conMu.Unlock()
	ent.s.SetConsumerCount(n)
	cur.Stop()
	m.advise(jsapi.AdvisoryPrefix+"CONSUMER.DELETED."+ent.s.Name()+"."+name, &jsapi.ConsumerActionAdvisory{
		TypedEvent: advisoryEvent(jsapi.TypeConsumerAction), Stream: ent.s.Name(), Consumer: name, Action: "delete", Domain: m.cfg.Domain,
	})
	if err := m.fs.RemoveAll(m.consumerDir(ent, name)); err != nil {
		m.log.Error("consumer files not removed", "consumer", name, "err", err)
	}
	return true
}

func (m *jsAccount) consumerDir(ent *entry, name string) string {
	return filepath.Join(m.streamDir(ent.s.Name()), consumersDir, name)
}

// persistConsumer writes a durable consumer's configuration; other
// consumers live only in memory.
func (m *jsAccount) persistConsumer(ent *entry, cfg jsapi.ConsumerConfig, created time.Time) error {
	if cfg.Durable == "" || ent.storage == jsapi.MemoryStorage || cfg.MemoryStorage {
		return nil
	}
	dir := m.consumerDir(ent, cfg.Name)
	if err := vfs.MkdirAllSynced(m.fs, dir, 0o700); err != nil {
		return err
	}
	body, err := json.Marshal(consumerMeta{Config: cfg, Created: created})
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(m.fs, filepath.Join(dir, metaFile), sealBody(body))
}

func (m *jsAccount) consumerLookup(r *request) (*entry, *consumer.Consumer, *jsapi.ApiError) {
	ent := m.lookup(token(r.subject, 4))
	if ent == nil {
		return nil, nil, jsapi.NewError(jsapi.ErrStreamNotFound)
	}
	ent.conMu.Lock()
	c := ent.consumers[token(r.subject, 5)]
	ent.conMu.Unlock()
	if c == nil {
		if ent.rep != nil && ent.rep.hasReplica(token(r.subject, 5)) {
			// A leader that has just taken over starts its consumers a
			// moment after it starts answering: the consumer exists, it
			// is not running here yet.
			return ent, nil, jsapi.NewError(jsapi.ErrClusterNotAvail)
		}
		return ent, nil, jsapi.NewError(jsapi.ErrConsumerNotFound)
	}
	return ent, c, nil
}

func (m *jsAccount) consumerInfo(r *request) any {
	resp := &jsapi.ConsumerCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerInfoResponse}}
	ent, c, e := m.consumerLookup(r)
	if e != nil {
		resp.Error = e
		return resp
	}
	resp.ConsumerInfo = m.consumerReply(ent, c)
	return resp
}

func (m *jsAccount) consumerDelete(r *request) any {
	resp := &jsapi.ConsumerDeleteResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerDeleteResponse}}
	ent, c, e := m.consumerLookup(r)
	if e != nil {
		resp.Error = e
		return resp
	}
	m.adminMu.Lock()
	defer m.adminMu.Unlock()
	if ent.rep != nil {
		err := m.proposeConsumerAssign(ent, c.Name(), consumerAssign{Config: c.Config(), Remove: true})
		resp.Success = err == nil
		if err != nil {
			resp.Error = jsapi.NewError(jsapi.ErrClusterNotAvail)
		}
		return resp
	}
	resp.Success = m.removeConsumer(ent, c.Name(), c)
	if !resp.Success {
		resp.Error = jsapi.NewError(jsapi.ErrConsumerNotFound)
	}
	return resp
}

func (e *entry) sortedConsumers() []*consumer.Consumer {
	e.conMu.Lock()
	out := make([]*consumer.Consumer, 0, len(e.consumers))
	for _, c := range e.consumers {
		out = append(out, c)
	}
	e.conMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func (m *jsAccount) consumerNames(r *request) any {
	resp := &jsapi.ConsumerNamesResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerNamesResponse}}
	var req jsapi.ApiPagedRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	all := ent.sortedConsumers()
	pg := paginate(len(all), req.Offset, namesPageSize)
	resp.ApiPaged = pg.paged
	resp.Consumers = []string{}
	for _, c := range all[pg.from:pg.to] {
		resp.Consumers = append(resp.Consumers, c.Name())
	}
	return resp
}

func (m *jsAccount) consumerList(r *request) any {
	resp := &jsapi.ConsumerListResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeConsumerListResponse}}
	var req jsapi.ApiPagedRequest
	if e := decode(r.data, &req); e != nil {
		resp.Error = e
		return resp
	}
	ent := m.lookup(streamName(r.subject))
	if ent == nil {
		resp.Error = jsapi.NewError(jsapi.ErrStreamNotFound)
		return resp
	}
	all := ent.sortedConsumers()
	pg := paginate(len(all), req.Offset, listPageSize)
	resp.ApiPaged = pg.paged
	resp.Consumers = []*jsapi.ConsumerInfo{}
	for _, c := range all[pg.from:pg.to] {
		resp.Consumers = append(resp.Consumers, m.consumerReply(ent, c))
	}
	return resp
}

var errConsumerMeta = errors.New("consumer metadata damaged")

// replyInfo is a consumer's info as replies show it: with the server's
// version and API level in its metadata.
func replyInfo(c *consumer.Consumer) *jsapi.ConsumerInfo {
	info := c.Info()
	info.Config.Metadata = jsapi.ReplyMetadata(info.Config.Metadata, core.ProtocolVersion, apiLevel)
	return info
}

// hostConsumerOf hosts a consumer the API decided: on this server alone,
// or, for a replicated stream, through the stream's group.
func (m *jsAccount) hostConsumerOf(ent *entry, ca *consumerAssignment) (*consumer.Consumer, error) {
	if ent.rep != nil {
		return m.hostReplicatedConsumer(ent, ca.Config, ca.Created)
	}
	return m.hostConsumer(ent, ca)
}

// consumerReply is a consumer's info as its leader answers: in a cluster
// with the cluster block of its stream, whose leader leads it too. A
// consumer of one replica on a replicated stream is described as
// nats-server describes it, by its cluster and leader alone: its state
// travels in the stream's group here, but it has no replicas of its own
// that a client could count or step down.
func (m *jsAccount) consumerReply(ent *entry, c *consumer.Consumer) *jsapi.ConsumerInfo {
	info := replyInfo(c)
	if m.clustered() {
		ci := m.clusterInfo(ent)
		if ent.rep != nil && info.Config.Replicas == 1 {
			ci = &jsapi.ClusterInfo{Name: ci.Name, Leader: ci.Leader}
		}
		info.Cluster = ci
	}
	return info
}
