package jetstream

import (
	"encoding/json"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
)

// replicaSnapshots is a replicated stream's part in its group's snapshots
// (jscluster.Snapshots): the consumers' replicas, and the fetch of the
// messages a snapshot names (replica_catchup.go).
type replicaSnapshots struct {
	m   *jsAccount
	ent *entry
}

// consumerSnap is one consumer's replica in a snapshot.
type consumerSnap struct {
	Name    string               `json:"name"`
	Config  jsapi.ConsumerConfig `json:"config"`
	Created time.Time            `json:"created"`
	State   consumer.State       `json:"state"`
	Applied uint64               `json:"applied"` // the last batch in State
}

// ConsumerState implements jscluster.Snapshots.
func (rs replicaSnapshots) ConsumerState() ([]byte, error) {
	rep := rs.ent.rep
	rep.repMu.Lock()
	out := make([]consumerSnap, 0, len(rep.replicas))
	for name, cr := range rep.replicas {
		out = append(out, consumerSnap{Name: name, Config: cr.cfg, Created: cr.created,
			State: cr.r.State(), Applied: cr.r.Applied()})
	}
	rep.repMu.Unlock()
	return json.Marshal(out)
}

// RestoreConsumers implements jscluster.Snapshots: the replicas become
// the snapshot's; a leader's live consumers follow them.
func (rs replicaSnapshots) RestoreConsumers(data []byte) error {
	var in []consumerSnap
	if len(data) > 0 {
		if err := json.Unmarshal(data, &in); err != nil {
			return err
		}
	}
	replicas := make(map[string]*consumerReplica, len(in))
	for _, c := range in {
		replicas[c.Name] = &consumerReplica{cfg: c.Config, created: c.Created,
			r: consumer.NewReplica(c.Config.AckPolicy, &c.State, c.Applied), seeded: true, rebuild: true}
	}
	rep := rs.ent.rep
	rep.repMu.Lock()
	rep.replicas = replicas
	rep.repMu.Unlock()
	rep.poke()
	return nil
}

// Fetch implements jscluster.Snapshots: the fetch runs off the Raft loop;
// a newer target replaces the one a running fetch works on.
func (rs replicaSnapshots) Fetch(t jscluster.FetchTarget) {
	rep := rs.ent.rep
	rep.fetchMu.Lock()
	rep.fetchWant = t
	running := rep.fetchRunning
	rep.fetchRunning = true
	rep.fetchMu.Unlock()
	if running {
		return
	}
	rs.m.cl.wg.Add(1)
	go func() {
		defer rs.m.cl.wg.Done()
		rs.m.runFetch(rs.ent)
	}()
}
