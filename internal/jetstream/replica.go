package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/stream"
	"github.com/starling-mq/starling/internal/vfs"
)

// A replicated stream on one of its servers: the stream (a replica,
// stream.Options.Replicated) in its Raft group (jscluster.StreamGroup).
// Every member applies the group's entries; only the leader subscribes to
// the stream's subjects (each publish is proposed, and answered once
// committed and applied), answers the stream's API requests and runs
// its consumers. A consumer's existence (an assignment entry) and its
// delivery state (event batches) are entries of the stream's group;
// every member keeps a consumer.Replica of each, and a new leader starts
// the live consumers from them.

// replicatedStoreSync is how often a replicated stream's store syncs:
// what it holds is in a quorum's Raft logs, synced before any ack, and
// the log is kept whole, so a store that lost its tail is refilled from
// the log when the server restarts.
const replicatedStoreSync = 30 * time.Second

// groupWait bounds waiting for a replicated change to be committed.
const groupWait = 5 * time.Second

// replication is a replicated stream's share on this server.
type replication struct {
	grp    atomic.Pointer[jscluster.StreamGroup] // set once the group is joined
	expiry jscluster.Expiry
	asg    atomic.Pointer[jsmeta.Stream] // as last hosted (peers, group name)

	leading atomic.Bool  // this member leads, its subscriptions are up
	since   atomic.Int64 // when it last began leading (unix ns), for leader_since
	want    atomic.Bool  // what the Raft loop last said
	leaving atomic.Bool  // no longer assigned here: waiting to be removed

	regrowAsked atomic.Int64 // when the leader last asked to grow back (unix ns)
	repairing   atomic.Bool  // checkGroupRuns started a repair (replica_repair.go)
	wake        chan struct{}
	done        chan struct{}
	wg          sync.WaitGroup

	replyMu sync.Mutex
	reply   string // an answer owed by the leader: create or update
	update  bool

	liveMu sync.Mutex // serializes starting and stopping live consumers

	repMu    sync.Mutex
	replicas map[string]*consumerReplica
	// epochs names the leader's live consumers, by consumer: a batch
	// carries its proposer's epoch, and only the live consumer that
	// proposed it hears it come back committed (a batch of another
	// leader's with the same number must not confirm its AckSyncs).
	epochs map[string]uint64

	// A fetch after a snapshot (replica_catchup.go): the latest target,
	// and whether its goroutine runs.
	fetchMu      sync.Mutex
	fetchWant    jscluster.FetchTarget
	fetchRunning bool
	serving      atomic.Int32                      // catch-up pieces being read for peers (at most one)
	catchupSub   atomic.Pointer[core.Subscription] // peers' catch-up requests
}

// consumerReplica is a consumer of a replicated stream as the log has it.
type consumerReplica struct {
	cfg     jsapi.ConsumerConfig
	created time.Time
	r       *consumer.Replica
	seeded  bool // r started from a state, not from nothing
	rebuild bool // the live consumer must restart from this replica
}

// hasReplica reports whether the log holds consumer name.
func (r *replication) hasReplica(name string) bool {
	r.repMu.Lock()
	defer r.repMu.Unlock()
	return r.replicas[name] != nil
}

// group is the stream's Raft group, nil until joined.
func (r *replication) group() *jscluster.StreamGroup { return r.grp.Load() }

// assigned is the stream's assignment as last hosted.
func (r *replication) assigned() *jsmeta.Stream { return r.asg.Load() }

// leads reports whether this server answers for the stream: it leads its
// group, or the stream is not replicated.
func (e *entry) leads() bool { return e.rep == nil || e.rep.leading.Load() }

// leased reports whether this server may answer a read of the stream now:
// it is not replicated, or this member holds its group's leader lease (a
// leader cut off from the others loses it before another is elected).
func (e *entry) leased() bool {
	if e.rep == nil {
		return true
	}
	g := e.rep.group()
	return g != nil && g.LeaseValid()
}

func (r *replication) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// consumerAssign is a consumer assignment entry's body.
type consumerAssign struct {
	Config  jsapi.ConsumerConfig `json:"config"`
	Created time.Time            `json:"created"`
	Remove  bool                 `json:"remove,omitempty"`
	// State seeds a new replica: a consumer of a stream that had no
	// group until now (replica_convert.go).
	State *consumer.State `json:"state,omitempty"`
}

// The payload of a consumer entry starts with what it carries.
const (
	payloadAssign = 'A'
	payloadBatch  = 'B'
)

// hostAssigned makes this server hold sa as the meta group assigned it,
// and returns the answer it owes the requester, for the caller to send
// once it released adminMu (held during the call): no publish is made
// under the lock.
func (m *jsAccount) hostAssigned(sa *jsmeta.Stream) (answer func()) {
	answer = func() {}
	if ent := m.lookup(sa.Config.Name); ent != nil {
		old := ent.s.Config()
		if err := m.saveStreamMeta(&streamMeta{Config: sa.Config, Created: ent.s.Created()}); err != nil {
			m.log.Error("assigned stream metadata not saved", "stream", sa.Config.Name, "err", err)
		}
		if err := ent.s.Update(sa.Config); err != nil {
			m.log.Error("assigned stream not updated", "stream", sa.Config.Name, "err", err)
		}
		if ent.leads() && (!slices.Equal(old.Subjects, sa.Config.Subjects) || old.AllowDirect != sa.Config.AllowDirect) {
			if err := m.subscribeStream(ent, sa.Config); err != nil {
				m.log.Error("assigned stream not subscribed", "stream", sa.Config.Name, "err", err)
			}
		}
		if ent.rep != nil && ent.rep.leading.Load() && !reflect.DeepEqual(old.Sources, sa.Config.Sources) {
			ent.stopSources()
			m.startSources(ent, sa.Config)
		}
		if ent.rep == nil && sa.Group.Replicated() {
			// Grown from one replica: the stream's leader answers once
			// converted.
			if err := m.convert(ent, sa); err != nil {
				m.log.Error("stream not converted to a replicated one", "stream", sa.Config.Name, "err", err)
				return func() { m.answerUpdate(ent, sa.Reply) }
			}
			if cur := m.lookup(sa.Config.Name); cur != nil && cur.rep != nil {
				cur.rep.owe(sa.Reply, true)
			}
			return answer
		}
		if ent.rep == nil {
			return func() { m.answerUpdate(ent, sa.Reply) }
		}
		ent.rep.asg.Store(sa)
		ent.rep.owe(sa.Reply, true)
		ent.rep.poke() // the leader reconciles the group's members
		return answer
	}
	if m.cl.quarantined(sa.Account, sa.Config.Name) {
		return answer // its log here was refused: replaced first
	}
	if !sa.Group.Replicated() {
		ent, err := m.openAssigned(sa, nil, false)
		if err != nil {
			m.log.Error("assigned stream not hosted", "stream", sa.Config.Name, "err", err)
			return func() { m.answerCreateError(sa.Reply, err) }
		}
		return func() { m.answerCreate(ent, sa.Reply) }
	}
	rep := newReplication(sa)
	ent, err := m.openAssigned(sa, rep, true)
	if err != nil {
		m.log.Error("assigned stream not hosted", "stream", sa.Config.Name, "err", err)
		return answer
	}
	self := m.cl.cfg.ServerName
	joining := sa.Group.JoinsEmpty(self)
	var ids []uint64 // none: join the running group with an empty log
	if !joining {
		rep.owe(sa.Reply, false)
		for _, p := range sa.Group.FoundedBy() {
			ids = append(ids, jscluster.NodeID(p))
		}
	}
	g, err := m.joinGroup(ent, sa, ids)
	if refusedLog(err) {
		m.repairMember(ent, err)
		return answer
	}
	if err != nil {
		m.log.Error("stream group not joined", "stream", sa.Config.Name, "err", err)
		return answer
	}
	rep.wg.Add(1)
	go m.followLeadership(ent)
	// The first founder campaigns at once, so a new stream has a leader
	// without waiting out an election timeout.
	if !joining && sa.Group.FoundedBy()[0] == self {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), groupWait)
			defer cancel()
			_ = m.cl.node.Host.Campaign(ctx, g.ID())
		}()
	}
	return answer
}

func newReplication(sa *jsmeta.Stream) *replication {
	rep := &replication{wake: make(chan struct{}, 1), done: make(chan struct{}),
		replicas: map[string]*consumerReplica{}, epochs: map[string]uint64{}}
	rep.asg.Store(sa)
	return rep
}

// joinGroup runs the hosted stream ent as a member of its group: founding
// it with ids, or joining it empty (no ids).
func (m *jsAccount) joinGroup(ent *entry, sa *jsmeta.Stream, ids []uint64) (*jscluster.StreamGroup, error) {
	rep := ent.rep
	ctx, cancel := context.WithTimeout(context.Background(), groupWait)
	defer cancel()
	g, err := m.cl.node.JoinStream(ctx, jscluster.GroupID(sa.Group.Name), ids, ent.s, jscluster.StreamHooks{
		OnLeader: func(lead bool) {
			m.cl.leaderChanges.Add(1)
			rep.want.Store(lead)
			rep.poke()
		},
		Consumers:    replicaConsumers{m: m, ent: ent},
		Snapshots:    replicaSnapshots{m: m, ent: ent},
		CompactEvery: m.compactEvery(ent),
		Inline:       ent.storage == jsapi.MemoryStorage,
	})
	if err != nil {
		return nil, err
	}
	rep.grp.Store(g)
	rep.expiry.Bind(g)
	m.serveCatchUp(ent, sa)
	return g, nil
}

// owe records the answer the leader owes a creator or updater.
func (r *replication) owe(reply string, update bool) {
	if reply == "" {
		return
	}
	r.replyMu.Lock()
	r.reply, r.update = reply, update
	r.replyMu.Unlock()
	r.poke()
}

// openAssigned opens an assigned stream's store (creating it, or finding
// the messages a restart left) and registers it. Unlike a single
// server's create, a failure removes nothing: the directory may hold a
// replica's messages. inLog says the group's log holds every message the
// store does, so a store damaged by corruption may start over from it;
// a stream being converted (its log not seeded yet) must keep its store.
func (m *jsAccount) openAssigned(sa *jsmeta.Stream, rep *replication, inLog bool) (*entry, error) {
	cfg := sa.Config
	if err := m.dropStale(cfg.Name, sa.Created); err != nil {
		return nil, err
	}
	if err := m.saveStreamMeta(&streamMeta{Config: cfg, Created: sa.Created}); err != nil {
		return nil, err
	}
	if rep == nil {
		return m.openStream(cfg, sa.Created)
	}
	st, err := m.openStoreAs(cfg, m.streamDir(cfg.Name), replicatedStoreSync, true)
	if err != nil {
		return nil, err
	}
	if lost := st.State().Lost.Msgs; inLog && len(lost) > 0 {
		// Damaged records are never served, and this replica must not
		// lead without them: the group's log holds every message
		// (it is kept whole), so the store starts over empty and the
		// log's replay at the group's start refills all of it.
		m.log.Warn("replica store lost messages to corruption; rebuilding it from the group's log", "stream", cfg.Name, "lost", len(lost), "first", lost[0])
		if err := st.Close(); err != nil {
			m.log.Debug("damaged replica store not closed cleanly", "stream", cfg.Name, "err", err)
		}
		if err := m.fs.RemoveAll(filepath.Join(m.streamDir(cfg.Name), msgsDir)); err != nil {
			return nil, err
		}
		if st, err = m.openStoreAs(cfg, m.streamDir(cfg.Name), replicatedStoreSync, true); err != nil {
			return nil, err
		}
	}
	out := m.newClient("jetstream-stream")
	s, err := stream.New(cfg, stream.Options{
		Store: st, Out: out, Republish: m.rpub, Logger: m.log, Domain: m.cfg.Domain,
		Created: sa.Created, ResourcesExceeded: m.resourcesExceeded,
		Replicated: true, Expired: rep.expiry.Report,
	})
	if err != nil {
		out.Close()
		st.Close()
		return nil, err
	}
	e := &entry{s: s, out: out, storage: cfg.Storage, rep: rep}
	m.mu.Lock()
	m.streams[cfg.Name] = e
	m.mu.Unlock()
	m.adviseStream(jsapi.AdvisoryCreate, cfg.Name)
	return e, nil
}

// dropStale removes a stream directory left by another stream of the same
// name (created at another time): one deleted while this server was
// down, or a restore that never got its assignment. Opening it would give
// the assigned stream messages that are not its own.
func (m *jsAccount) dropStale(name string, created time.Time) error {
	dir := m.streamDir(name)
	b, err := vfs.ReadFile(m.fs, filepath.Join(dir, metaFile))
	if err != nil {
		return nil // none, or nothing readable to judge by: opened as before
	}
	old, err := decodeMeta(b)
	if err != nil || old.Created.IsZero() || created.IsZero() || old.Created.Equal(created) {
		return nil
	}
	m.log.Warn("stream directory of another stream of the same name removed", "stream", name, "created", old.Created, "assigned", created)
	return m.fs.RemoveAll(dir)
}

// followLeadership carries out, off the Raft loop, what becoming or
// ceasing to be the stream's leader means here.
func (m *jsAccount) followLeadership(ent *entry) {
	rep := ent.rep
	defer rep.wg.Done()
	t := time.NewTicker(memberCheck)
	defer t.Stop()
	for {
		select {
		case <-rep.wake:
		case <-t.C:
			if rep.leading.Load() {
				m.reconcileMembers(ent)
			}
			m.checkGroupRuns(ent)
			continue
		case <-rep.done:
			return
		}
		switch lead := rep.want.Load(); {
		case lead && !rep.leading.Load():
			m.lead(ent)
		case !lead && rep.leading.Load():
			m.follow(ent)
		}
		if rep.leading.Load() {
			m.reconcileConsumers(ent)
			m.reconcileMembers(ent)
			m.payDebt(ent)
		}
	}
}

// lead: subscribe, start the consumers, answer.
func (m *jsAccount) lead(ent *entry) {
	cfg := ent.s.Config()
	if err := m.subscribeStream(ent, cfg); err != nil {
		m.log.Error("stream leader not subscribed", "stream", cfg.Name, "err", err)
		return
	}
	ent.rep.since.Store(time.Now().UnixNano())
	ent.rep.leading.Store(true)
	m.startSources(ent, cfg) // a mirror's or sources' copies are the leader's
	m.adviseStreamLeader(cfg.Name)
	m.log.Debug("stream leader", "stream", cfg.Name)
}

// follow: stop taking publishes and stop the live consumers; the
// replicas go on applying the log.
func (m *jsAccount) follow(ent *entry) {
	ent.rep.leading.Store(false)
	ent.stopSources()
	ent.subMu.Lock()
	for _, sub := range append(ent.subs, ent.direct...) {
		sub.Unsubscribe()
	}
	ent.subs, ent.direct = nil, nil
	ent.subMu.Unlock()
	ent.rep.liveMu.Lock()
	defer ent.rep.liveMu.Unlock()
	ent.conMu.Lock()
	live := ent.consumers
	ent.consumers = nil
	ent.conMu.Unlock()
	ent.rep.repMu.Lock()
	clear(ent.rep.epochs)
	ent.rep.repMu.Unlock()
	for _, c := range live {
		c.Stop()
	}
	ent.s.SetConsumerCount(0)
}

// payDebt answers a pending create or update, once leading.
func (m *jsAccount) payDebt(ent *entry) {
	rep := ent.rep
	rep.replyMu.Lock()
	reply, update := rep.reply, rep.update
	rep.reply = ""
	rep.replyMu.Unlock()
	if reply == "" {
		return
	}
	if update {
		m.answerUpdate(ent, reply)
		return
	}
	m.answerCreate(ent, reply)
}

func (m *jsAccount) answerCreate(ent *entry, reply string) {
	if reply == "" {
		return
	}
	resp := &jsapi.StreamCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamCreateResponse},
		StreamInfo: m.leaderInfo(ent), DidCreate: true}
	m.answer(reply, resp)
}

func (m *jsAccount) answerCreateError(reply string, err error) {
	if reply == "" {
		return
	}
	resp := &jsapi.StreamCreateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamCreateResponse,
		Error: jsapi.NewError(jsapi.ErrStreamCreate, jsapi.PathFree(err))}}
	m.answer(reply, resp)
}

func (m *jsAccount) answerUpdate(ent *entry, reply string) {
	if reply == "" {
		return
	}
	m.answer(reply, &jsapi.StreamUpdateResponse{ApiResponse: jsapi.ApiResponse{Type: jsapi.TypeStreamUpdateResponse},
		StreamInfo: m.leaderInfo(ent)})
}

// answer sends a JSON answer to a requester this server did not hear
// (the meta leader did) or heard earlier.
func (m *jsAccount) answer(reply string, resp any) {
	b, err := json.Marshal(resp)
	if err != nil {
		return
	}
	if _, err := m.api.Publish(reply, "", nil, b); err != nil {
		m.log.Debug("API answer not sent", "err", err)
	}
}

// leaderInfo is a stream's info as its leader reports it.
func (m *jsAccount) leaderInfo(ent *entry) *jsapi.StreamInfo {
	info := ent.info(false, "")
	info.Domain = m.cfg.Domain
	info.Cluster = m.clusterInfo(ent)
	return info
}

// clusterInfo is the cluster block of a stream's info on its leader.
func (m *jsAccount) clusterInfo(ent *entry) *jsapi.ClusterInfo {
	ci := &jsapi.ClusterInfo{Leader: m.srv.Name()}
	if !m.clustered() {
		return ci
	}
	if !ent.leads() {
		ci.Leader = ""
	}
	ci.Name = m.srv.ClusterName()
	rep := ent.rep
	if rep == nil || rep.group() == nil {
		return ci
	}
	ci.RaftGroup = rep.assigned().Group.Name
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := rep.group().Status(ctx)
	if err != nil {
		return ci
	}
	if !ent.leads() {
		ci.Leader = m.cl.nameOf(st.Leader)
		return ci
	}
	if since := rep.since.Load(); since != 0 {
		t := time.Unix(0, since).UTC()
		ci.LeaderSince = &t
	}
	connected := map[string]bool{}
	for _, p := range m.srv.ClusterPeers() {
		connected[p.Name] = true
	}
	for _, name := range rep.assigned().Group.Peers {
		if name == m.cl.cfg.ServerName {
			continue
		}
		pi := peerInfo(name, st, jscluster.NodeID(name))
		pi.Offline = !connected[name]
		ci.Replicas = append(ci.Replicas, pi)
	}
	sort.Slice(ci.Replicas, func(i, j int) bool { return ci.Replicas[i].Name < ci.Replicas[j].Name })
	return ci
}

// peerHash is a server's peer id as nats-server reports it: eight
// base-62 characters derived from the SHA-256 of its name.
func peerHash(name string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(name))
	b := make([]byte, 8)
	for i := range b {
		b[i] = digits[int(sum[i]%62)]
	}
	return string(b)
}

// stopReplication stops following the group's leadership and leaves the
// group (drop its log when the stream is removed).
func (m *jsAccount) stopReplication(ent *entry, leave bool) {
	rep := ent.rep
	select {
	case <-rep.done:
		return
	default:
		close(rep.done)
	}
	rep.wg.Wait()
	if sub := rep.catchupSub.Swap(nil); sub != nil {
		sub.Unsubscribe()
	}
	if rep.leading.Load() {
		m.follow(ent)
	}
	if !leave {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupWait)
	defer cancel()
	var err error
	if g := rep.group(); g != nil {
		err = g.Leave(ctx)
	} else if sa := rep.assigned(); sa != nil {
		// Never joined (its log was refused as damaged): its log goes
		// too, so the server can be added back with an empty one.
		err = m.cl.node.Host.RemoveGroup(ctx, jscluster.GroupID(sa.Group.Name))
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		m.log.Debug("stream group not left", "stream", ent.s.Name(), "err", err)
	}
}

// replicatedIngest is the leader's subscription handler: each publish is
// proposed, and answered once committed and applied.
func replicatedIngest(cl *cluster, ent *entry) func(msg *core.Msg) {
	s := ent.s
	return func(msg *core.Msg) {
		g := ent.rep.group()
		if g == nil {
			return
		}
		reply := string(msg.Reply)
		began := time.Now()
		g.PublishAsync(string(msg.Subject), msg.Header, msg.Data, func(ans *stream.Answer, err error) {
			if err != nil {
				ans = &stream.Answer{Err: jsapi.NewError(jsapi.ErrClusterNotAvail)}
			} else if ans != nil && ans.Err == nil {
				cl.acks.Add(1)
				cl.ackNanos.Add(int64(time.Since(began)))
			}
			s.Respond(reply, ans)
		})
	}
}

// peerInfo describes member id of a group as its leader sees it (st is
// the leader's status): how far behind it is and whether it answered
// lately. Offline reads as not heard from; callers that know the routes
// say better.
func peerInfo(name string, st raftnode.Status, id uint64) *jsapi.PeerInfo {
	pi := &jsapi.PeerInfo{Name: name, Peer: peerHash(name)}
	if pr, ok := st.Progress[id]; ok {
		if pr.Match < st.Commit {
			pi.Lag = st.Commit - pr.Match
		}
		pi.Current = pi.Lag == 0 && pr.RecentActive
		pi.Offline = !pr.RecentActive
		pi.Active = seenWithin(pr.RecentActive)
	}
	return pi
}

// recentlySeen is what a replica's "active" reads when the leader heard
// from it within the last election timeout: Raft keeps that much, not
// the time of the last contact, and the leader hears from a live member
// at every heartbeat.
const recentlySeen = 100 * time.Millisecond

func seenWithin(recent bool) time.Duration {
	if recent {
		return recentlySeen
	}
	return 0
}
