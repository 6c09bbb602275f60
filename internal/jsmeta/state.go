// Package jsmeta is the JetStream meta group's state machine: the
// assignments of every stream and consumer of the cluster (which servers
// hold them, with what configuration), changed only by the operations the
// meta group commits, in order. It is pure and deterministic: every server
// applies the same operations and reaches the same state, and a snapshot
// restores it exactly. What a server hosts follows from the changes Apply
// reports (internal/jetstream does the hosting).
package jsmeta

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Stream is a stream's assignment.
type Stream struct {
	Account string             `json:"account"`
	Config  jsapi.StreamConfig `json:"config"`
	Group   Group              `json:"group"`
	Created time.Time          `json:"created"`
	// Reply is where the creator or updater of the stream waits for its
	// answer, sent by the member that leads the stream once it is hosted
	// (as nats-server's stream leader answers a create).
	Reply string `json:"reply,omitempty"`
}

// Consumer is a consumer's assignment.
type Consumer struct {
	Account string               `json:"account"`
	Stream  string               `json:"stream"`
	Name    string               `json:"name"`
	Config  jsapi.ConsumerConfig `json:"config"`
	Group   Group                `json:"group"`
	Created time.Time            `json:"created"`
}

// Kind is what an operation does.
type Kind uint8

const (
	AddStream Kind = iota + 1
	UpdateStream
	RemoveStream
	AddConsumer // adds or updates
	RemoveConsumer
	RemovePeer // takes a server out of every group it is in (server removed)
)

// Op is one committed operation. Exactly the field its Kind needs is set
// (RemovePeer: Peer, and the replacement chosen for each group it left).
type Op struct {
	Kind     Kind      `json:"op"`
	Stream   *Stream   `json:"stream,omitempty"`
	Consumer *Consumer `json:"consumer,omitempty"`
	Peer     string    `json:"peer,omitempty"`
	// Replace names, by group, the server taking the removed peer's place
	// ("" or absent: the group shrinks).
	Replace map[string]string `json:"replace,omitempty"`
	// Repair (RemovePeer): the server lost its Raft log and rejoins
	// (PlanRejoin), rather than leaving for good: only the groups that
	// ran Raft lose it, those left short grow back later, and the server
	// may be added back.
	Repair bool `json:"repair,omitempty"`
}

// Change is what an operation did, for the servers to act on.
type Change struct {
	Kind     Kind
	Stream   *Stream   // the stream after the change (before it, for a removal)
	Consumer *Consumer // likewise
	// Consumers removed with their stream.
	Removed []*Consumer
	// Groups whose peers changed (RemovePeer, UpdateStream with new peers).
	Regrouped []string
	// Peer is the server RemovePeer took out.
	Peer string
	// Repair: Peer is rejoining (Op.Repair), not gone for good.
	Repair bool
}

var (
	ErrStreamExists     = errors.New("stream name already in use with a different configuration")
	ErrStreamNotFound   = errors.New("stream not found")
	ErrConsumerNotFound = errors.New("consumer not found")
	ErrBadOp            = errors.New("malformed meta operation")
)

type key struct{ account, name string }

// State is the cluster's assignments.
type State struct {
	streams   map[key]*Stream
	consumers map[key]map[string]*Consumer // by stream, then consumer name
}

// New returns an empty state.
func New() *State {
	return &State{streams: map[key]*Stream{}, consumers: map[key]map[string]*Consumer{}}
}

// Apply applies op. An error leaves the state unchanged; every server gets
// the same error for the same operation on the same state, so an error is
// an answer, not a fault.
func (s *State) Apply(op Op) (Change, error) {
	switch op.Kind {
	case AddStream, UpdateStream:
		if op.Stream == nil || op.Stream.Config.Name == "" {
			return Change{}, ErrBadOp
		}
		k := key{op.Stream.Account, op.Stream.Config.Name}
		old := s.streams[k]
		if op.Kind == AddStream && old != nil {
			return Change{}, ErrStreamExists
		}
		if op.Kind == UpdateStream && old == nil {
			return Change{}, ErrStreamNotFound
		}
		sa := cloneStream(op.Stream)
		s.streams[k] = sa
		ch := Change{Kind: op.Kind, Stream: cloneStream(sa)}
		if old != nil && !slices.Equal(old.Group.Peers, sa.Group.Peers) {
			ch.Regrouped = []string{sa.Group.Name}
		}
		return ch, nil
	case RemoveStream:
		if op.Stream == nil {
			return Change{}, ErrBadOp
		}
		k := key{op.Stream.Account, op.Stream.Config.Name}
		old := s.streams[k]
		if old == nil {
			return Change{}, ErrStreamNotFound
		}
		delete(s.streams, k)
		gone := cloneStream(old)
		gone.Reply = op.Stream.Reply // who waits for the removal
		ch := Change{Kind: RemoveStream, Stream: gone}
		for _, name := range sortedKeys(s.consumers[k]) {
			ch.Removed = append(ch.Removed, s.consumers[k][name])
		}
		delete(s.consumers, k)
		return ch, nil
	case AddConsumer:
		c := op.Consumer
		if c == nil || c.Name == "" {
			return Change{}, ErrBadOp
		}
		k := key{c.Account, c.Stream}
		if s.streams[k] == nil {
			return Change{}, ErrStreamNotFound
		}
		if s.consumers[k] == nil {
			s.consumers[k] = map[string]*Consumer{}
		}
		ca := cloneConsumer(c)
		s.consumers[k][c.Name] = ca
		return Change{Kind: AddConsumer, Consumer: cloneConsumer(ca)}, nil
	case RemoveConsumer:
		c := op.Consumer
		if c == nil {
			return Change{}, ErrBadOp
		}
		k := key{c.Account, c.Stream}
		old := s.consumers[k][c.Name]
		if old == nil {
			return Change{}, ErrConsumerNotFound
		}
		delete(s.consumers[k], c.Name)
		return Change{Kind: RemoveConsumer, Consumer: old}, nil
	case RemovePeer:
		if op.Peer == "" {
			return Change{}, ErrBadOp
		}
		return s.removePeer(op.Peer, op.Replace, op.Repair), nil
	}
	return Change{}, fmt.Errorf("%w: kind %d", ErrBadOp, op.Kind)
}

// removePeer takes peer out of every group, putting its replacement (if
// any) in its place so the group keeps its order. For a repair, a stream
// stored by peer alone keeps it: one without Raft (its store is all there
// is) as it is, a group of one (scaled down) as a stream of one replica
// without Raft again, since its log is what peer lost; a group left short
// grows back (Group.Regrow).
func (s *State) removePeer(peer string, replace map[string]string, repair bool) Change {
	ch := Change{Kind: RemovePeer, Peer: peer, Repair: repair}
	regroup := func(g *Group) {
		i := slices.Index(g.Peers, peer)
		if i < 0 {
			return
		}
		if repair && (!g.Replicated() || len(g.Peers) == 1) {
			if g.Replicated() {
				*g = Group{Name: g.Name, Peers: []string{peer}, Storage: g.Storage}
				ch.Regrouped = append(ch.Regrouped, g.Name)
			}
			return
		}
		peers := slices.Clone(g.Peers)
		r := replace[g.Name]
		if r != "" && !slices.Contains(g.Peers, r) {
			peers[i] = r
		} else {
			peers = slices.Delete(peers, i, i+1)
		}
		*g = g.regroup(peers)
		if repair && r == "" {
			g.Regrow = true
		}
		ch.Regrouped = append(ch.Regrouped, g.Name)
	}
	for _, k := range s.streamKeys() {
		regroup(&s.streams[k].Group)
		for _, name := range sortedKeys(s.consumers[k]) {
			regroup(&s.consumers[k][name].Group)
		}
	}
	return ch
}

// Stream returns a copy of a stream's assignment, nil when it has none.
func (s *State) Stream(account, name string) *Stream {
	if sa := s.streams[key{account, name}]; sa != nil {
		return cloneStream(sa)
	}
	return nil
}

// Consumer returns a copy of a consumer's assignment, nil when it has none.
func (s *State) Consumer(account, stream, name string) *Consumer {
	if ca := s.consumers[key{account, stream}][name]; ca != nil {
		return cloneConsumer(ca)
	}
	return nil
}

// Streams lists an account's streams ("" for every account), ordered by
// account and name.
func (s *State) Streams(account string) []*Stream {
	var out []*Stream
	for _, k := range s.streamKeys() {
		if account == "" || k.account == account {
			out = append(out, cloneStream(s.streams[k]))
		}
	}
	return out
}

// Consumers lists a stream's consumers, ordered by name.
func (s *State) Consumers(account, stream string) []*Consumer {
	m := s.consumers[key{account, stream}]
	out := make([]*Consumer, 0, len(m))
	for _, name := range sortedKeys(m) {
		out = append(out, cloneConsumer(m[name]))
	}
	return out
}

// Hosted lists what server holds: the streams and consumers whose group
// names it, ordered as Streams and Consumers are.
func (s *State) Hosted(server string) ([]*Stream, []*Consumer) {
	var streams []*Stream
	var consumers []*Consumer
	for _, k := range s.streamKeys() {
		if sa := s.streams[k]; slices.Contains(sa.Group.Peers, server) {
			streams = append(streams, cloneStream(sa))
		}
		for _, name := range sortedKeys(s.consumers[k]) {
			if ca := s.consumers[k][name]; slices.Contains(ca.Group.Peers, server) {
				consumers = append(consumers, cloneConsumer(ca))
			}
		}
	}
	return streams, consumers
}

func (s *State) streamKeys() []key {
	keys := make([]key, 0, len(s.streams))
	for k := range s.streams {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return keys[i].name < keys[j].name
	})
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The clones copy the groups' peer lists, which removePeer edits in
// place; configurations are replaced whole by operations, never edited,
// so callers may share them but must not modify them.
func cloneStream(sa *Stream) *Stream {
	c := *sa
	c.Group = sa.Group.clone()
	return &c
}

func cloneConsumer(ca *Consumer) *Consumer {
	c := *ca
	c.Group = ca.Group.clone()
	return &c
}
