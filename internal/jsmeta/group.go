package jsmeta

import "slices"

// Group is a Raft group: its name and the servers (by ID) it runs on.
//
// A replicated stream's group is founded with its configuration at the
// head of its log (raftnode.WholeLog), so how a member starts its log
// matters: the founders all start theirs with the same configuration
// entries, naming Founders in order, while a member added later (a
// Joiner) starts empty and replays the leader's log, or takes a snapshot
// once the log was compacted. A founder that was removed and is added
// back is a joiner too: its log was dropped when it left.
type Group struct {
	Name    string   `json:"name"`
	Peers   []string `json:"peers"`
	Storage string   `json:"storage"` // "file" or "memory", the group's log
	// Founders are the members the group was founded with, in the order
	// every founder's log names them; empty for a group assigned before
	// the field existed, founded by its Peers.
	Founders []string `json:"founders,omitempty"`
	// Joiners are the members added after the group was founded.
	Joiners []string `json:"joiners,omitempty"`
	// Regrow: the group shrank below the stream's replicas to take out a
	// member whose log was refused; its leader asks for it to grow back
	// once that member is out of the Raft configuration.
	Regrow bool `json:"regrow,omitempty"`
}

// FoundedBy is the member list the group's logs begin with.
func (g Group) FoundedBy() []string {
	if len(g.Founders) > 0 {
		return g.Founders
	}
	return g.Peers
}

// JoinsEmpty reports whether member starts its log empty, to be caught up
// by the leader, instead of founding it.
func (g Group) JoinsEmpty(member string) bool {
	return slices.Contains(g.Joiners, member) || !slices.Contains(g.FoundedBy(), member)
}

// Replicated reports whether the group runs Raft: it was founded with
// more than one member, or has had members added. A stream created with
// one replica is stored by its one server alone until it grows (its
// server then founds a group of one and adds the others); one scaled
// down to one replica keeps its group, of one.
func (g Group) Replicated() bool { return len(g.FoundedBy()) > 1 || len(g.Joiners) > 0 }

// regroup returns g with peers as its members: those not in g before
// join empty.
func (g Group) regroup(peers []string) Group {
	next := g.clone()
	if len(next.Founders) == 0 {
		next.Founders = slices.Clone(g.Peers)
	}
	for _, p := range peers {
		if !slices.Contains(g.Peers, p) && !slices.Contains(next.Joiners, p) {
			next.Joiners = append(next.Joiners, p)
		}
	}
	next.Peers = slices.Clone(peers)
	return next
}

func (g Group) clone() Group {
	c := g
	c.Peers = slices.Clone(g.Peers)
	c.Founders = slices.Clone(g.Founders)
	c.Joiners = slices.Clone(g.Joiners)
	return c
}
