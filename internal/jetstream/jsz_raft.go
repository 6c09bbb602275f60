package jetstream

import "github.com/starling-mq/starling/internal/jsmeta"

// RaftGroupDetail names a consumer's Raft group in /jsz?raft=1, as
// nats-server's consumer_raft_groups.
type RaftGroupDetail struct {
	Name      string `json:"name"`
	RaftGroup string `json:"raft_group,omitempty"`
}

// addRaftGroups names the Raft groups of a stream listed in /jsz and of
// its listed consumers. A stream outside a cluster has no group, and
// nats-server then leaves both fields out.
//
// A Starling consumer has no group of its own: its assignment and state
// are entries of its stream's group, so that group is the one that names
// it, unless the meta state holds an assignment of the consumer.
func (m *jsAccount) addRaftGroups(sd *StreamDetail, e *entry) {
	group := m.streamGroupName(e, sd.Name)
	if group == "" {
		return
	}
	sd.RaftGroup = group
	var assigned []*jsmeta.Consumer
	m.cl.read(func(st *jsmeta.State) { assigned = st.Consumers(m.name, sd.Name) })
	byName := make(map[string]string, len(assigned))
	for _, ca := range assigned {
		byName[ca.Name] = ca.Group.Name
	}
	for _, ci := range sd.Consumers {
		g := byName[ci.Name]
		if g == "" {
			g = group
		}
		sd.ConsumerRaftGroups = append(sd.ConsumerRaftGroups, &RaftGroupDetail{Name: ci.Name, RaftGroup: g})
	}
}

// streamGroupName is the name of the stream's Raft group: as this server
// hosts it, else as the meta state assigns it; "" outside a cluster.
func (m *jsAccount) streamGroupName(e *entry, name string) string {
	if !m.clustered() {
		return ""
	}
	if e.rep != nil {
		if sa := e.rep.assigned(); sa != nil && sa.Group.Name != "" {
			return sa.Group.Name
		}
	}
	var sa *jsmeta.Stream
	m.cl.read(func(st *jsmeta.State) { sa = st.Stream(m.name, name) })
	if sa == nil {
		return ""
	}
	return sa.Group.Name
}
