package jetstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/placement"
	"github.com/starling-mq/starling/internal/raftnode"
)

// STREAM.RESTORE in a cluster: the meta leader takes the archive, as a
// single server does (api_restore.go), and installs the stream through
// the meta group in two steps that already exist for streams created
// and scaled by hand. The restored files become a stream of one replica
// on the meta leader itself (where they are), its durable consumers
// with it; a stream of more replicas is then grown by an update, which
// converts it (replica_convert.go: its messages and consumers' state are
// proposed to a new group and the other members replay them). The
// client is answered once the stream runs as configured, or with what
// failed. A memory stream is refused: a stream of one replica held in
// memory cannot be grown, and its store would not outlive the handover.

// restoreSettle bounds waiting for the restored stream to be hosted, and
// then grown, before answering.
const restoreSettle = 30 * time.Second

func (m *jsAccount) clusterStreamRestore(r *request) any { return m.beginRestore(r, true) }

// restorable checks, on the meta leader, that cfg can be restored here:
// the name is free in the cluster, and the stream could be placed as
// configured.
func (m *jsAccount) restorable(cfg jsapi.StreamConfig) *jsapi.ApiError {
	if cfg.Storage == jsapi.MemoryStorage {
		return jsapi.NewError(jsapi.ErrStreamRestore, errors.New("a memory stream cannot be restored in a cluster"))
	}
	var e *jsapi.ApiError
	m.cl.read(func(st *jsmeta.State) {
		if st.Stream(m.name, cfg.Name) != nil {
			e = jsapi.NewError(jsapi.ErrStreamNameExistRestoreFailed)
			return
		}
		if lim := m.lim(); lim.MaxStreams > 0 && len(st.Streams(m.name)) >= lim.MaxStreams {
			e = jsapi.NewError(jsapi.ErrMaximumStreamsLimit)
			return
		}
		m.cl.decide(func(rng *rand.Rand) {
			_, _, e = jsmeta.PlanAddStream(st, m.cl.placementCluster(), m.name, cfg, time.Now(), rng)
			if e == nil {
				_, _, e = jsmeta.PlanAddStream(st, m.cl.self(), m.name, oneReplica(cfg), time.Now(), rng)
			}
		})
	})
	return e
}

// self is the placement cluster of this server alone.
func (c *cluster) self() jsmeta.Cluster {
	pc := c.placementCluster()
	for _, s := range pc.Servers {
		if s.Name == c.cfg.ServerName {
			pc.Servers = []placement.Server{s}
			return pc
		}
	}
	pc.Servers = nil
	return pc
}

func oneReplica(cfg jsapi.StreamConfig) jsapi.StreamConfig {
	cfg.Replicas = 1
	return cfg
}

// installAssigned makes the staged stream a stream of the cluster (see
// above). A failure before the stream is assigned removes its files; one
// after leaves the stream as it got.
func (j *restoreJob) installAssigned(cfg jsapi.StreamConfig, created time.Time, stage string, cons []restoredConsumer) error {
	m := j.m
	final := m.streamDir(cfg.Name)
	m.adminMu.Lock()
	var op jsmeta.Op
	var e *jsapi.ApiError
	m.cl.read(func(st *jsmeta.State) {
		if st.Stream(m.name, cfg.Name) != nil {
			e = jsapi.NewError(jsapi.ErrStreamNameExistRestoreFailed)
			return
		}
		m.cl.decide(func(rng *rand.Rand) {
			op, _, e = jsmeta.PlanAddStream(st, m.cl.self(), m.name, oneReplica(cfg), created, rng)
		})
	})
	if e == nil && m.overlaps(&cfg, "") {
		e = jsapi.NewError(jsapi.ErrStreamSubjectOverlap)
	}
	if e != nil {
		m.adminMu.Unlock()
		return e
	}
	err := m.clearStreamDir(final)
	if err == nil {
		err = m.fs.Rename(stage, final)
	}
	if err == nil {
		err = m.fs.SyncDir(filepath.Dir(final))
	}
	unknown := false
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
		_, err = m.cl.propose(ctx, op)
		cancel()
		var nl *raftnode.NotLeaderError
		unknown = errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nl) || errors.Is(err, raftnode.ErrUnknown)
	}
	// Hosting opens the stream once it holds adminMu.
	m.adminMu.Unlock()
	if err != nil && !(unknown && j.assignedAfterAll(cfg.Name, created)) {
		// Not committed, as far as a bounded look tells: the files go.
		// (Committed later after all, the stream would find them gone
		// and start empty; a directory left by a crash here is told
		// apart by its creation time, dropStale.)
		m.fs.RemoveAll(final)
		return err
	}
	ent, err := j.settled(func(ent *entry) bool { return ent != nil })
	if err != nil {
		return err
	}
	m.adminMu.Lock()
	for i := range cons {
		if c := &cons[i]; !c.persisted(cfg.Storage) && ent.consumer(c.cfg.Name) == nil {
			m.startConsumer(ent, c.cfg, c.created, c.state)
		}
	}
	m.adminMu.Unlock()
	if cfg.Replicas <= 1 {
		return nil
	}
	return j.grow(cfg)
}

// assignedAfterAll looks, for as long as a proposal may take, whether a
// proposal whose outcome was unknown (a timeout, a lost leadership)
// committed the restored stream's assignment after all.
func (j *restoreJob) assignedAfterAll(name string, created time.Time) bool {
	deadline := time.Now().Add(metaProposeTimeout)
	for {
		found := false
		j.m.cl.read(func(st *jsmeta.State) {
			sa := st.Stream(j.m.name, name)
			found = sa != nil && sa.Created.Equal(created.UTC())
		})
		if found || time.Now().After(deadline) {
			return found
		}
		select {
		case <-j.m.quit:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// grow updates the restored stream to its replicas and waits until its
// group leads here.
func (j *restoreJob) grow(cfg jsapi.StreamConfig) error {
	m := j.m
	m.adminMu.Lock()
	var op jsmeta.Op
	var e *jsapi.ApiError
	m.cl.read(func(st *jsmeta.State) {
		next := cfg
		jsapi.Seal(&next)
		m.cl.decide(func(rng *rand.Rand) {
			op, e = jsmeta.PlanUpdateStream(st, m.cl.placementCluster(), m.name, next, rng)
		})
	})
	var err error
	if e == nil {
		ctx, cancel := context.WithTimeout(context.Background(), metaProposeTimeout)
		_, err = m.cl.propose(ctx, op)
		cancel()
	}
	m.adminMu.Unlock()
	if e != nil {
		return e
	}
	if err != nil {
		return fmt.Errorf("stream restored with one replica, not grown to %d: %w", cfg.Replicas, err)
	}
	_, err = j.settled(func(ent *entry) bool { return ent != nil && ent.rep != nil && ent.leads() })
	return err
}

// settled waits, bounded, for the restored stream's entry here to satisfy
// ok, and returns it.
func (j *restoreJob) settled(ok func(*entry) bool) (*entry, error) {
	deadline := time.Now().Add(restoreSettle)
	for {
		ent := j.m.lookup(j.cfg.Name)
		if ok(ent) {
			return ent, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the restored stream was not hosted within %v", restoreSettle)
		}
		select {
		case <-j.m.quit:
			return nil, errShuttingDown
		case <-time.After(20 * time.Millisecond):
		}
	}
}
