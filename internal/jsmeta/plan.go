package jsmeta

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/placement"
)

// Deciding: the meta group's leader turns an API request into the
// operation it proposes, or the error the requester gets, from the state
// and what it knows of the servers. Every decision here is pure; the
// random source (placement's tie-breaks, group names) is the leader's,
// and the operation it proposes carries the outcome, so followers never
// decide anything themselves.

// Cluster is what the leader knows when it decides.
type Cluster struct {
	Name        string // the default placement cluster
	Servers     []placement.Server
	UniqueTag   string
	MaxHAAssets int
}

// PlanAddStream decides a stream create. existing is true when the stream
// exists with the same configuration (not an error: the create is
// answered with the stream as it is).
func PlanAddStream(st *State, c Cluster, account string, cfg jsapi.StreamConfig, now time.Time, rng *rand.Rand) (op Op, existing bool, e *jsapi.ApiError) {
	if cur := st.Stream(account, cfg.Name); cur != nil {
		if sameConfig(cur.Config, cfg) {
			return Op{}, true, nil
		}
		return Op{}, false, jsapi.NewError(jsapi.ErrStreamNameExist)
	}
	peers, e := choose(c, placementRequest(c, cfg, nil), rng)
	if e != nil {
		return Op{}, false, e
	}
	return Op{Kind: AddStream, Stream: &Stream{Account: account, Config: cfg, Created: now.UTC(),
		Group: Group{Name: groupName("S", len(peers), storageOf(cfg.Storage), rng), Peers: peers, Storage: storageOf(cfg.Storage),
			Founders: slices.Clone(peers)}}}, false, nil
}

// PlanUpdateStream decides a stream update: the configuration is
// replaced, and a change of replicas grows the group (the existing
// members stay, new ones are chosen) or shrinks it (the first members
// stay). A stream created with one replica gets a group when it grows
// (its server founds it, the others join), except a memory stream.
// Moving a stream to another cluster or tag set is not supported.
func PlanUpdateStream(st *State, c Cluster, account string, cfg jsapi.StreamConfig, rng *rand.Rand) (Op, *jsapi.ApiError) {
	cur := st.Stream(account, cfg.Name)
	if cur == nil {
		return Op{}, jsapi.NewError(jsapi.ErrStreamNotFound)
	}
	if !samePlacement(cur.Config.Placement, cfg.Placement) {
		return Op{}, jsapi.NewError(jsapi.ErrClusterUnSupportFeature)
	}
	next := *cur
	next.Config = cfg
	want := replicas(cfg.Replicas)
	if want > len(cur.Group.Peers) && !cur.Group.Replicated() && cfg.Storage == jsapi.MemoryStorage {
		// Growing a stream held by one server means reopening its
		// store as a replica's, which a memory store does not survive.
		return Op{}, jsapi.NewError(jsapi.ErrStreamReplicasNotUpdatable)
	}
	switch have := len(cur.Group.Peers); {
	case want > have:
		req := placementRequest(c, cfg, cur.Group.Peers)
		peers, e := choose(c, req, rng)
		if e != nil {
			return Op{}, e
		}
		next.Group = cur.Group.regroup(peers)
		next.Group.Regrow = false
	case want < have:
		next.Group = cur.Group.regroup(cur.Group.Peers[:want])
	}
	return Op{Kind: UpdateStream, Stream: &next}, nil
}

// PlanAddConsumer decides a consumer create or update. Its replicas
// default to the stream's and may not exceed them; its group is the
// first of the stream's members, so a consumer lives where its messages
// are.
func PlanAddConsumer(st *State, account, stream string, cfg jsapi.ConsumerConfig, now time.Time, rng *rand.Rand) (Op, *jsapi.ApiError) {
	sa := st.Stream(account, stream)
	if sa == nil {
		return Op{}, jsapi.NewError(jsapi.ErrStreamNotFound)
	}
	name := cfg.Name
	if name == "" {
		name = cfg.Durable
	}
	if name == "" {
		// The API names an ephemeral consumer before deciding.
		return Op{}, jsapi.NewError(jsapi.ErrBadRequest)
	}
	n := cfg.Replicas
	if n < 0 {
		return Op{}, jsapi.NewError(jsapi.ErrReplicasCountCannotBeNegative)
	}
	if n == 0 {
		n = len(sa.Group.Peers)
	}
	if n > len(sa.Group.Peers) {
		return Op{}, jsapi.NewError(jsapi.ErrConsumerReplicasExceedsStream)
	}
	storage := sa.Group.Storage
	if cfg.MemoryStorage {
		storage = "memory"
	}
	ca := &Consumer{Account: account, Stream: stream, Name: name, Config: cfg, Created: now.UTC(),
		Group: Group{Name: groupName("C", n, storage, rng), Peers: slices.Clone(sa.Group.Peers[:n]), Storage: storage}}
	if cur := st.Consumer(account, stream, name); cur != nil {
		// An update keeps where it lives and when it was made.
		ca.Group, ca.Created = cur.Group, cur.Created
	}
	return Op{Kind: AddConsumer, Consumer: ca}, nil
}

// PlanRemoveStreamPeer decides taking server out of one stream's group,
// as STREAM.PEER.REMOVE asks: a replacement is chosen when one can be
// placed (replaced is then true); otherwise the group shrinks, unless it
// has one member, which is not removed (op is then empty), or the stream
// has no group (created with one replica: its only copy is not moved).
// repair: the member asks for itself, its log refused; a group that
// shrinks is marked to grow back (Group.Regrow).
func PlanRemoveStreamPeer(st *State, c Cluster, account, stream, server string, repair bool, rng *rand.Rand) (op Op, replaced bool, e *jsapi.ApiError) {
	sa := st.Stream(account, stream)
	if sa == nil {
		return Op{}, false, jsapi.NewError(jsapi.ErrStreamNotFound)
	}
	i := slices.Index(sa.Group.Peers, server)
	if i < 0 {
		return Op{}, false, jsapi.NewError(jsapi.ErrClusterPeerNotMember)
	}
	if !sa.Group.Replicated() {
		return Op{}, false, nil // its only copy: moving it is not supported
	}
	keep := slices.Delete(slices.Clone(sa.Group.Peers), i, i+1)
	req := placementRequest(c, sa.Config, keep)
	req.Replicas = len(sa.Group.Peers)
	req.Ignore = []string{server}
	peers, err := placement.Choose(c.Servers, req, rng)
	switch {
	case err == nil:
		replaced = true
	case len(keep) == 0:
		return Op{}, false, nil
	default:
		peers = keep
	}
	next := *sa
	next.Group = sa.Group.regroup(peers)
	next.Group.Regrow = !replaced && repair
	return Op{Kind: UpdateStream, Stream: &next}, replaced, nil
}

// PlanRemovePeer decides taking server out of every group: each stream
// group gets a replacement when one can be placed (the same filters as
// at create), and consumers follow their stream's replacement.
func PlanRemovePeer(st *State, c Cluster, server string, rng *rand.Rand) Op {
	replace := map[string]string{}
	for _, sa := range st.Streams("") {
		i := slices.Index(sa.Group.Peers, server)
		if i < 0 {
			continue
		}
		keep := slices.Delete(slices.Clone(sa.Group.Peers), i, i+1)
		req := placementRequest(c, sa.Config, keep)
		req.Replicas = len(sa.Group.Peers)
		req.Ignore = []string{server}
		if peers, err := placement.Choose(c.Servers, req, rng); err == nil {
			r := peers[len(peers)-1]
			replace[sa.Group.Name] = r
			for _, ca := range st.Consumers(sa.Account, sa.Config.Name) {
				if slices.Contains(ca.Group.Peers, server) {
					replace[ca.Group.Name] = r
				}
			}
		}
	}
	return Op{Kind: RemovePeer, Peer: server, Replace: replace}
}

// PlanRejoin decides taking server, which lost its Raft log, out of every
// group that runs Raft, so that it never takes part in one again with an
// empty log while the group still counts it: each gets a replacement when
// one can be placed, else shrinks and is marked to grow back. Streams it
// stores alone keep it (State.removePeer).
func PlanRejoin(st *State, c Cluster, server string, rng *rand.Rand) Op {
	op := PlanRemovePeer(st, c, server, rng)
	op.Repair = true
	return op
}

func placementRequest(c Cluster, cfg jsapi.StreamConfig, existing []string) placement.Request {
	req := placement.Request{Replicas: replicas(cfg.Replicas), Cluster: c.Name, Memory: cfg.Storage == jsapi.MemoryStorage,
		MaxBytes: cfg.MaxBytes, Existing: existing, UniqueTag: c.UniqueTag, MaxHAAssets: c.MaxHAAssets}
	if p := cfg.Placement; p != nil {
		if p.Cluster != "" {
			req.Cluster = p.Cluster
		}
		req.Tags = p.Tags
	}
	return req
}

func choose(c Cluster, req placement.Request, rng *rand.Rand) ([]string, *jsapi.ApiError) {
	peers, err := placement.Choose(c.Servers, req, rng)
	if err != nil {
		return nil, jsapi.NewError(jsapi.ErrClusterNoPeers, err)
	}
	return peers, nil
}

func replicas(n int) int { return max(n, 1) }

func storageOf(t jsapi.StorageType) string {
	if t == jsapi.MemoryStorage {
		return "memory"
	}
	return "file"
}

// groupName names a Raft group as nats-server names its groups:
// "S-R3F-<8 characters>" for a three-replica file stream.
func groupName(prefix string, n int, storage string, rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for range 8 {
		b.WriteByte(alphabet[rng.IntN(len(alphabet))])
	}
	return fmt.Sprintf("%s-R%d%s-%s", prefix, n, strings.ToUpper(storage[:1]), b.String())
}

func sameConfig(a, b jsapi.StreamConfig) bool {
	ab, err1 := Encode(Op{Kind: AddStream, Stream: &Stream{Config: a}})
	bb, err2 := Encode(Op{Kind: AddStream, Stream: &Stream{Config: b}})
	return err1 == nil && err2 == nil && string(ab) == string(bb)
}

func samePlacement(a, b *jsapi.Placement) bool {
	norm := func(p *jsapi.Placement) (string, []string) {
		if p == nil {
			return "", nil
		}
		return p.Cluster, p.Tags
	}
	ac, at := norm(a)
	bc, bt := norm(b)
	return ac == bc && slices.Equal(at, bt)
}
