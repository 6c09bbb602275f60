package jetstream

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
)

// replicaConsumers applies a stream group's consumer entries
// (jscluster.Consumers), on the Raft loop: assignments create, change or
// remove a consumer's replica, batches move its state; on the leader the
// live consumer hears its own batches come back committed.
type replicaConsumers struct {
	m   *jsAccount
	ent *entry
}

var errBadConsumerPayload = errors.New("jetstream: malformed consumer entry")

func (rc replicaConsumers) ApplyConsumer(name string, payload []byte) error {
	if len(payload) == 0 {
		return errBadConsumerPayload
	}
	rep := rc.ent.rep
	switch payload[0] {
	case payloadAssign:
		var a consumerAssign
		if err := json.Unmarshal(payload[1:], &a); err != nil {
			return fmt.Errorf("%w: %v", errBadConsumerPayload, err)
		}
		rep.repMu.Lock()
		switch cur := rep.replicas[name]; {
		case a.Remove:
			delete(rep.replicas, name)
		case cur != nil:
			cur.cfg = a.Config
		default:
			rep.replicas[name] = &consumerReplica{cfg: a.Config, created: a.Created,
				r: consumer.NewReplica(a.Config.AckPolicy, a.State, 0), seeded: a.State != nil}
		}
		rep.repMu.Unlock()
		rep.poke() // the leader's live consumers follow
		return nil
	case payloadBatch:
		epoch, batch, ok := splitBatch(payload)
		if !ok {
			return errBadConsumerPayload
		}
		rep.repMu.Lock()
		cr := rep.replicas[name]
		var err error
		if cr != nil {
			err = cr.r.ApplyReplicated(batch)
		}
		mine := rep.epochs[name] == epoch
		// A replayed batch (ErrApplied) is followed, unless it is the
		// live consumer's own: its batches are new, so a replica that
		// already holds that number holds another batch under it (one
		// the consumer's previous run proposed, applied after the live
		// consumer started from the replica), and confirming this one's
		// AckSyncs would confirm acks no replica holds.
		followed := err == nil || (errors.Is(err, consumer.ErrApplied) && !mine)
		if !followed && cr != nil {
			// A batch past a missing one (a proposal that was lost): the
			// replicas skip it, so the live consumer must not take it as
			// committed (its AckSyncs would be confirmed for acks no
			// replica holds); it restarts from the replica instead.
			cr.rebuild = true
		}
		rep.repMu.Unlock()
		if !followed {
			rc.m.log.Warn("consumer batch not applied as proposed (a batch before it is missing, or another holds its number); the consumer restarts from its replicated state", "stream", rc.ent.s.Name(), "consumer", name, "err", err)
			rep.poke()
		}
		c := rc.ent.consumer(name)
		if c == nil && mine && followed && cr != nil {
			// The live consumer proposed this batch while it started,
			// before it was registered: it will never hear of it, and
			// would take the next batch for a gap. It restarts from the
			// replica, which has it.
			rep.repMu.Lock()
			cr.rebuild = true
			rep.repMu.Unlock()
			rep.poke()
		}
		if c != nil && mine && followed {
			if err := c.ApplyReplicated(batch); errors.Is(err, consumer.ErrNotProposed) {
				// Another leader's decision: the live consumer restarts
				// from the replica, which has it.
				rep.repMu.Lock()
				if cr != nil {
					cr.rebuild = true
				}
				rep.repMu.Unlock()
				rep.poke()
			}
		}
		return nil
	}
	return errBadConsumerPayload
}

// liveSpec is what the leader needs to run a consumer from its replica.
type liveSpec struct {
	name    string
	cfg     jsapi.ConsumerConfig
	created time.Time
	state   consumer.State
	applied uint64
	seeded  bool
	rebuild bool
}

// reconcileConsumers makes the leader's live consumers match the
// replicas: new ones started from their replica's state, removed ones
// stopped, changed ones updated, and those another leader's batch
// overtook rebuilt.
func (m *jsAccount) reconcileConsumers(ent *entry) {
	rep := ent.rep
	rep.liveMu.Lock()
	defer rep.liveMu.Unlock()
	if !rep.leading.Load() {
		return
	}
	rep.repMu.Lock()
	specs := make(map[string]liveSpec, len(rep.replicas))
	for name, cr := range rep.replicas {
		specs[name] = liveSpec{name: name, cfg: cr.cfg, created: cr.created, state: cr.r.State(), applied: cr.r.Applied(),
			seeded: cr.seeded, rebuild: cr.rebuild}
		cr.rebuild = false
	}
	rep.repMu.Unlock()
	for _, c := range ent.sortedConsumers() {
		spec, ok := specs[c.Name()]
		if ok && !spec.rebuild {
			if !reflect.DeepEqual(c.Config(), spec.cfg) {
				c.Update(spec.cfg)
			}
			delete(specs, c.Name())
			continue
		}
		m.dropLive(ent, c)
	}
	for _, spec := range specs {
		m.startLive(ent, spec)
	}
}

// dropLive stops a live consumer (its replica stays, or went by entry).
func (m *jsAccount) dropLive(ent *entry, c *consumer.Consumer) {
	ent.rep.repMu.Lock()
	delete(ent.rep.epochs, c.Name())
	ent.rep.repMu.Unlock()
	ent.conMu.Lock()
	if ent.consumers[c.Name()] == c {
		delete(ent.consumers, c.Name())
	}
	n := len(ent.consumers)
	ent.conMu.Unlock()
	ent.s.SetConsumerCount(n)
	c.Stop()
}

// startLive starts the leader's consumer from its replica's state.
func (m *jsAccount) startLive(ent *entry, spec liveSpec) {
	rep, name := ent.rep, spec.name
	var state *consumer.State
	if spec.applied > 0 || spec.seeded {
		state = &spec.state
	}
	epoch := rand.Uint64() | 1 // never 0, the absent entry's value
	rep.repMu.Lock()
	rep.epochs[name] = epoch
	rep.repMu.Unlock()
	m.startConsumerWith(ent, spec.cfg, spec.created, state, func(o *consumer.Options) {
		o.Out = leasedOutlet{Outlet: o.Out, rep: rep}
		o.Persist = nil
		o.Applied = spec.applied
		o.Replicate = func(batch []byte) {
			rep.group().ProposeConsumer(name, joinBatch(epoch, batch), func(err error) {
				if err == nil {
					return
				}
				// A lost batch leaves a gap the replicas cannot cross:
				// the live consumer restarts from its replica.
				rep.repMu.Lock()
				if cr := rep.replicas[name]; cr != nil && rep.epochs[name] == epoch {
					cr.rebuild = true
				}
				rep.repMu.Unlock()
				rep.poke()
			})
		}
		if o.OnAck != nil {
			ret := ent.s.Config().Retention
			o.OnAck = func(seq uint64) {
				if ret == jsapi.InterestPolicy && !ent.allDone(seq) {
					return
				}
				rep.group().DeleteAsync(seq)
			}
		}
		o.OnInactive = func() {
			_ = m.proposeConsumerAssign(ent, name, consumerAssign{Config: spec.cfg, Remove: true})
		}
	})
}

// proposeConsumerAssign commits a consumer assignment in the stream's
// group and brings the live consumers in line.
func (m *jsAccount) proposeConsumerAssign(ent *entry, name string, a consumerAssign) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	ent.rep.group().ProposeConsumer(name, append([]byte{payloadAssign}, b...), func(err error) { done <- err })
	select {
	case err = <-done:
	case <-time.After(groupWait):
		err = context.DeadlineExceeded
	}
	if err != nil {
		return err
	}
	m.reconcileConsumers(ent)
	return nil
}

// hostReplicatedConsumer creates or updates a consumer of a replicated
// stream: committed as an assignment, then run by this leader.
func (m *jsAccount) hostReplicatedConsumer(ent *entry, cfg jsapi.ConsumerConfig, created time.Time) (*consumer.Consumer, error) {
	if err := m.proposeConsumerAssign(ent, cfg.Name, consumerAssign{Config: cfg, Created: created}); err != nil {
		return nil, err
	}
	if c := ent.consumer(cfg.Name); c != nil {
		return c, nil
	}
	return nil, errors.New("consumer not started: this server no longer leads the stream")
}

// joinBatch is a batch entry's payload: the kind, the proposing live
// consumer's epoch, the batch.
func joinBatch(epoch uint64, batch []byte) []byte {
	b := make([]byte, 0, 9+len(batch))
	b = append(b, payloadBatch)
	b = binary.BigEndian.AppendUint64(b, epoch)
	return append(b, batch...)
}

func splitBatch(payload []byte) (epoch uint64, batch []byte, ok bool) {
	if len(payload) < 9 || payload[0] != payloadBatch {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(payload[1:9]), payload[9:], true
}

// leasedOutlet is a replicated consumer's outlet: it sends only while its
// member holds the leader's lease. A leader that was paused, or cut off,
// may not know yet that another was elected; what it would deliver (a
// message the new leader's consumer has seen acknowledged, redelivered
// by a timer that ran out during the pause) or confirm is dropped
// instead, and it stops its consumers once it hears of the new term.
type leasedOutlet struct {
	consumer.Outlet
	rep *replication
}

// InterestGen passes the inner outlet's subscription generation on to the
// consumers' scheduler, which otherwise wakes every waiting consumer at
// each of its interest polls; an inner outlet without one reads as
// changed every time, as it would be treated.
func (o leasedOutlet) InterestGen() uint64 {
	if g, ok := o.Outlet.(interface{ InterestGen() uint64 }); ok {
		return g.InterestGen()
	}
	return uint64(time.Now().UnixNano())
}

func (o leasedOutlet) leased() bool { return o.rep.group() != nil && o.rep.group().LeaseValid() }

func (o leasedOutlet) Publish(subject, reply string, hdr, data []byte) (bool, error) {
	if !o.leased() {
		return true, nil
	}
	return o.Outlet.Publish(subject, reply, hdr, data)
}

func (o leasedOutlet) PublishTo(deliver, subject, reply string, hdr, data []byte) (bool, error) {
	if !o.leased() {
		return true, nil
	}
	return o.Outlet.PublishTo(deliver, subject, reply, hdr, data)
}

func (o leasedOutlet) PublishToDeferred(deliver, subject, reply string, hdr, data []byte) (bool, error) {
	if !o.leased() {
		return true, nil
	}
	return o.Outlet.PublishToDeferred(deliver, subject, reply, hdr, data)
}
