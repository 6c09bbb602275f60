package jetstream

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
)

// TestClusterRejoinForged: a healthy server must never be taken out of
// the meta group and of every stream's group by a forged rejoin request.
// The subject is in the system account ($SYS even when none is
// configured), out of a client's reach; and a request naming a server the
// leader hears from as a member is refused anyway (a rejoining server
// does not run the group).
func TestClusterRejoinForged(t *testing.T) {
	_, nodes, _, nc, js := startCompacting(t)
	streamWithConsumer(t, js, "FG")
	var leader *powerNode
	within(t, 20*time.Second, "a meta leader", func() error {
		for _, n := range nodes {
			if n.m.cl.isMetaLeader() {
				leader = n
				return nil
			}
		}
		return errors.New("none")
	})
	victim := nodes[0]
	if victim == leader {
		victim = nodes[1]
	}
	id := jscluster.NodeID(victim.name)
	within(t, 20*time.Second, "the victim acknowledging the meta leader", func() error {
		st, err := leader.m.cl.status(jscluster.MetaGroup)
		if err != nil {
			return err
		}
		if pr := st.Progress[id]; !pr.RecentActive || pr.Match == 0 {
			return errors.New("not heard from yet")
		}
		return nil
	})
	body, _ := json.Marshal(rejoinRequest{Server: victim.name})
	if msg, err := nc.Request(subjRejoin, body, 2*time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("a global account client's rejoin request reached a server: %v %v", msg, err)
	}
	if out, err := leader.m.cl.takeOut(body); out != 0 || err == nil {
		t.Fatalf("a request naming %s, which runs the meta group, answered out %d (err %v), want refused", victim.name, out, err)
	}
	st, err := leader.m.cl.status(jscluster.MetaGroup)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Members.Voters, id) {
		t.Fatalf("%s taken out of the meta group: %+v", victim.name, st.Members)
	}
	leader.m.cl.read(func(s *jsmeta.State) {
		if sa := s.Stream("$G", "FG"); sa == nil || !slices.Contains(sa.Group.Peers, victim.name) {
			t.Fatalf("%s taken out of the stream's group: %+v", victim.name, sa)
		}
	})
}

// TestActiveMember: the meta leader takes out only a server it does not
// hear from as a member.
func TestActiveMember(t *testing.T) {
	const id = 7
	cases := []struct {
		name string
		st   raftnode.Status
		want bool
	}{
		{"not a member", raftnode.Status{Members: raftnode.Members{Voters: []uint64{1, 2}}}, false},
		{"voter heard from", raftnode.Status{Members: raftnode.Members{Voters: []uint64{1, id}},
			Progress: map[uint64]raftnode.PeerProgress{id: {Match: 10, RecentActive: true}}}, true},
		{"learner heard from", raftnode.Status{Members: raftnode.Members{Voters: []uint64{1}, Learners: []uint64{id}},
			Progress: map[uint64]raftnode.PeerProgress{id: {Match: 10, RecentActive: true}}}, true},
		{"voter silent", raftnode.Status{Members: raftnode.Members{Voters: []uint64{1, id}},
			Progress: map[uint64]raftnode.PeerProgress{id: {Match: 10}}}, false},
		{"voter just added, never answered", raftnode.Status{Members: raftnode.Members{Voters: []uint64{1, id}},
			Progress: map[uint64]raftnode.PeerProgress{id: {RecentActive: true}}}, false},
		{"no progress known", raftnode.Status{Members: raftnode.Members{Voters: []uint64{1, id}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := activeMember(tc.st, id); got != tc.want {
				t.Fatalf("activeMember = %v, want %v", got, tc.want)
			}
		})
	}
}
