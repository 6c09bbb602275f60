package jetstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/jsmeta"
	"github.com/starling-mq/starling/internal/placement"
	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/raftnode"
)

// Clustered JetStream (docs/replication.md): with a cluster block, the
// JetStream servers of the cluster form a meta group that orders every
// stream's assignment (which servers hold it, with what configuration).
// Every server hears every API request (routes carry them) and each
// decides whether it is the one to answer: the meta leader for what
// changes or lists assignments, the stream's leader for what reads or
// changes a stream and its consumers. A stream of one replica is a plain
// stream on the server it was placed on; one of three or five is a
// jscluster.StreamGroup on each of its servers, its consumers replicated
// through the same group (replica.go).

// ClusterConfig turns clustered JetStream on (Config.Cluster).
type ClusterConfig struct {
	// ServerName is this server's name, unique in the cluster: groups
	// name their members by it and Raft node ids derive from it.
	ServerName string
	// Expected is how many JetStream servers found the meta group (the
	// cluster's configured routes; jscluster.Expected).
	Expected int
	// Raft tunes the groups; zero fields take raftnode's defaults.
	Raft raftnode.Options
	// CompactEntries is how many entries of a file-stored stream's group
	// pass between compactions of its log (0: DefaultCompactEntries).
	CompactEntries uint64
}

// metaDir holds the server's Raft log, where nats-server keeps its meta
// group: under the system account, which never runs JetStream itself.
func metaDir(storeDir string) string { return filepath.Join(Dir(storeDir), "$SYS", "_js_") }

// metaStartTimeout bounds joining the meta group on the Raft loop.
const metaStartTimeout = 10 * time.Second

// metaSnapshotEntries is how many entries the meta group applies between
// snapshots of its state (which compact its log); stream groups compact
// after their stores sync instead (CompactEntries).
const metaSnapshotEntries = 4096

// foundRetry is how often founding looks again without a route change.
const foundRetry = 250 * time.Millisecond

// cluster is JetStream's clustered mode on this server.
type cluster struct {
	m       *Manager
	cfg     ClusterConfig
	wal     *raftlog.Log
	node    *jscluster.Node
	peers   *jscluster.Peers
	hosting *Hosting
	meta    atomic.Pointer[jscluster.Meta]

	// standalone: the cluster's other servers are not Starling JetStream
	// servers (a mixed cluster), so this server's JetStream stays its own.
	standalone atomic.Bool
	alone      sync.Once
	mixedState             // standalone, or yielded to nats-server's JetStream (mixed.go)
	member     bool        // the log held a meta group at start
	invite     atomic.Bool // the meta leader added this server: join empty
	removed    sync.Map    // server names taken out by SERVER.REMOVE: not added back
	quarantine sync.Map    // streams whose log here was refused, until unassigned (replica_repair.go)

	// rejoin is set while this server rejoins the meta group after its
	// log was refused (rejoin.go).
	rejoin   atomic.Pointer[rejoinMark]
	rejoinIC *core.InternalClient
	watching sync.Once // watchMembers runs once, across rejoins

	sys *core.InternalClient // the meta step-down's, in the system account

	leaderChanges atomic.Uint64 // streams' leaderships gained or lost here
	acks          atomic.Uint64 // replicated publishes acknowledged as leader
	ackNanos      atomic.Int64  // their time from proposal to acknowledgement

	nudge chan struct{} // a route came or went: founding looks again
	done  chan struct{}
	wg    sync.WaitGroup

	rngMu sync.Mutex
	rng   *rand.Rand // the meta leader's decisions (placement, group names)
}

// startCluster opens the Raft log, starts the node over the cluster port,
// and founds or rejoins the meta group in the background: the routes it
// waits for come up only once the server accepts them.
func (m *Manager) startCluster() error {
	c := &cluster{m: m, cfg: *m.cfg.Cluster, nudge: make(chan struct{}, 1), done: make(chan struct{}),
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5ee0))}
	wal, mark, err := m.openRaftLog()
	if err != nil {
		return fmt.Errorf("jetstream cluster: raft log: %w", err)
	}
	c.wal = wal
	c.rejoin.Store(mark)
	tuning := c.cfg.Raft
	if tuning.SnapshotEntries == 0 {
		tuning.SnapshotEntries = metaSnapshotEntries
	}
	node, err := jscluster.Start(jscluster.Config{Server: m.srv, ServerName: c.cfg.ServerName,
		Storage: &jscluster.LogStorage{Log: wal}, Raft: tuning, Logger: m.log,
		UnknownGroup: c.invited})
	if err != nil {
		wal.Close()
		return fmt.Errorf("jetstream cluster: %w", err)
	}
	c.node = node
	c.hosting = m.Hosting(c.cfg.ServerName)
	c.hosting.held.Store(mark != nil)
	c.peers = jscluster.FollowPeers(node, m.srv, c.poke)
	m.srv.AnnounceJetStream(true)
	m.cl = c
	if err := errors.Join(c.answerMetaStepDown(), c.startRejoinClient()); err != nil {
		if c.sys != nil {
			c.sys.Close()
		}
		if c.rejoinIC != nil {
			c.rejoinIC.Close() // both are tried: one may have started
		}
		c.peers.Stop()
		node.Close()
		wal.Close()
		m.cl = nil
		return fmt.Errorf("jetstream cluster: %w", err)
	}
	c.wg.Add(1)
	c.member = slices.Contains(wal.Groups(), jscluster.MetaGroup) && !c.dropUnused(wal)
	go c.found(c.member)
	return nil
}

// dropUnused removes a meta group this server founded that never got an
// entry past its founding: it stopped before any other founder joined
// (one founds as soon as it sees the others; they may not get to). Kept,
// it would restart as a group whose other voters never ran it, announced
// as this server's alone, which the others wait to be invited into by a
// leader it can never elect: the cluster would have no meta leader, ever.
// Nothing was decided in it, so this server founds again with the others.
// It reports whether it removed the group.
func (c *cluster) dropUnused(wal *raftlog.Log) bool {
	st := wal.Storage(jscluster.MetaGroup)
	snap, err := st.Snapshot()
	if err != nil || snap.GetMetadata().GetIndex() != 1 {
		return false // not a founding of this server's (a joiner's log starts empty)
	}
	if last, err := st.LastIndex(); err != nil || last > 1 {
		return false
	}
	if err := wal.RemoveGroup(jscluster.MetaGroup); err != nil {
		c.m.log.Warn("JetStream cluster: unused meta group not removed", "err", err)
		return false
	}
	c.m.log.Info("JetStream cluster: the meta group this server founded was never joined; founding again")
	return true
}

func (c *cluster) poke() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

// found joins the meta group: from the log when this server was a member
// before, else by founding it once the expected servers are up.
func (c *cluster) found(member bool) {
	defer c.wg.Done()
	var last string
	f := &jscluster.Founding{Expected: c.cfg.Expected, Quiet: jscluster.FoundQuiet}
	for {
		var meta *jscluster.Meta
		var err error
		mark := c.rejoin.Load()
		rejoining := mark != nil
		if rejoining && mark.Out == 0 {
			if !c.takenOut(mark) {
				if !c.pause(rejoinRetry) {
					return
				}
				continue
			}
			mark = c.rejoin.Load()
		}
		peers := c.m.srv.ClusterPeers()
		founders := jscluster.Founders(c.cfg.ServerName, peers)
		join := member || c.invite.Load()
		existing := announcedGroup(peers)
		switch {
		case join:
		case rejoining:
			// Never founds: the leader adds it back (watchMembers).
		case existing != nil && slices.Equal(existing, founders):
			// A peer founded the group this server would: found it too.
		case existing != nil:
			// The group exists without this server, or with members this
			// server does not see: its leader adds it (watchMembers), and
			// its first message says so (invited).
			if last != "founded" {
				c.m.log.Info("JetStream cluster: the meta group exists; waiting to be added to it", "members", existing)
				last = "founded"
			}
		}
		if join || (!rejoining && existing != nil && slices.Equal(existing, founders)) || (!rejoining && existing == nil && f.Observe(founders, time.Now())) {
			ctx, cancel := context.WithTimeout(context.Background(), metaStartTimeout)
			if join {
				meta, err = c.node.StartMeta(ctx, nil, c.hosting)
			} else {
				meta, err = c.node.Found(ctx, founders, c.hosting)
			}
			cancel()
			if err == nil {
				if join {
					c.m.srv.AnnounceMeta([]string{c.cfg.ServerName})
				} else {
					c.m.srv.AnnounceMeta(founders)
				}
				c.meta.Store(meta)
				c.m.log.Info("JetStream cluster: meta group joined", "server_name", c.cfg.ServerName, "founders", founders, "rejoined", join)
				if rejoining {
					c.wg.Add(1)
					go c.releaseHosting(meta, mark.Out)
				}
				c.watching.Do(func() {
					c.wg.Add(1)
					go c.watchMembers()
				})
				return
			}
		}
		if c.checkStandalone() {
			return
		}
		if err != nil && err.Error() != last {
			c.m.log.Warn("JetStream cluster: meta group not joined yet", "err", err)
			last = err.Error()
		}
		if !c.pause(foundRetry) {
			return
		}
	}
}

// pause waits for a route change or d; false when the cluster stops.
func (c *cluster) pause(d time.Duration) bool {
	select {
	case <-c.nudge:
	case <-time.After(d):
	case <-c.done:
		return false
	}
	return true
}

// takenOut asks the meta leader to take this server out and records its
// answer in the marker; false when it is not out yet.
func (c *cluster) takenOut(mark *rejoinMark) bool {
	out := c.askOut()
	if out == 0 {
		return false
	}
	next := *mark
	next.Out = out
	if err := writeRejoinMark(c.m.fs, c.m.cfg.StoreDir, &next); err != nil {
		c.m.log.Error("JetStream cluster: rejoin marker not written", "err", err)
		return false
	}
	c.rejoin.Store(&next)
	c.m.log.Info("JetStream cluster: taken out of the meta group; waiting to be added back", "index", out)
	return true
}

// stop stops founding, hosting and the Raft groups; the streams close
// after (Manager.Shutdown), with no group applying to them any more.
func (c *cluster) stop() {
	close(c.done)
	if c.sys != nil {
		c.sys.Close()
	}
	if c.rejoinIC != nil {
		c.rejoinIC.Close()
	}
	c.wg.Wait()
	c.peers.Stop()
	if meta := c.meta.Load(); meta != nil {
		meta.Close()
	}
	if err := c.node.Close(); err != nil {
		c.m.log.Debug("JetStream cluster: raft node closed", "err", err)
	}
}

// closeLog closes the Raft log once nothing uses it.
func (c *cluster) closeLog() {
	if err := c.wal.Close(); err != nil {
		c.m.log.Error("JetStream cluster: raft log not closed", "err", err)
	}
}

// isMetaLeader reports whether this server leads the meta group.
func (c *cluster) isMetaLeader() bool {
	meta := c.meta.Load()
	return meta != nil && meta.IsLeader()
}

// metaLeaderless reports whether no meta leader is known here: a request
// from this server's own client is then answered "temporarily
// unavailable" rather than left to time out.
func (c *cluster) metaLeaderless() bool {
	meta := c.meta.Load()
	if meta == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	id, err := meta.Leader(ctx)
	return err != nil || id == 0
}

// read runs fn on the meta state (empty before the group is joined).
func (c *cluster) read(fn func(st *jsmeta.State)) {
	if meta := c.meta.Load(); meta != nil {
		meta.Read(fn)
		return
	}
	fn(jsmeta.New())
}

// propose commits op on the meta group (on its leader).
func (c *cluster) propose(ctx context.Context, op jsmeta.Op) (jsmeta.Change, error) {
	meta := c.meta.Load()
	if meta == nil {
		return jsmeta.Change{}, errors.New("jetstream cluster: meta group not joined")
	}
	return meta.Propose(ctx, op)
}

// placementCluster is what the meta leader knows of the JetStream servers
// when it places a stream: itself and every Starling JetStream server
// with a route up, named by server name (as groups name their members).
func (c *cluster) placementCluster() jsmeta.Cluster {
	name := c.m.srv.ClusterName()
	servers := []placement.Server{{ID: c.cfg.ServerName, Name: c.cfg.ServerName, Cluster: name}}
	for _, p := range c.m.srv.ClusterPeers() {
		if p.JetStream && p.Name != "" && p.Name != c.cfg.ServerName {
			servers = append(servers, placement.Server{ID: p.Name, Name: p.Name, Cluster: name})
		}
	}
	return jsmeta.Cluster{Name: name, Servers: servers}
}

// rand returns the leader's random source, for one decision.
func (c *cluster) decide(fn func(rng *rand.Rand)) {
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	fn(c.rng)
}

// nameOf is the server name of Raft node id, "" when unknown.
func (c *cluster) nameOf(id uint64) string {
	if id == 0 {
		return ""
	}
	if id == c.node.ID {
		return c.cfg.ServerName
	}
	for _, p := range c.m.srv.ClusterPeers() {
		if p.Name != "" && jscluster.NodeID(p.Name) == id {
			return p.Name
		}
	}
	name := ""
	c.read(func(st *jsmeta.State) {
		for _, sa := range st.Streams("") {
			for _, p := range sa.Group.Peers {
				if jscluster.NodeID(p) == id {
					name = p
				}
			}
		}
	})
	return name
}

// MetaClusterInfo is /jsz's meta_cluster, as nats-server's.
type MetaClusterInfo struct {
	Name     string            `json:"name,omitempty"`
	Leader   string            `json:"leader,omitempty"`
	Peer     string            `json:"peer,omitempty"`
	Replicas []*jsapi.PeerInfo `json:"replicas,omitempty"`
	Size     int               `json:"cluster_size"`
	Pending  int               `json:"pending"`
}

// metaInfo describes the meta group as this server sees it; the leader
// lists the other members.
func (c *cluster) metaInfo() *MetaClusterInfo {
	mi := &MetaClusterInfo{Name: c.m.srv.ClusterName(), Size: c.cfg.Expected}
	meta := c.meta.Load()
	if meta == nil {
		return mi
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := c.node.Host.Status(ctx, jscluster.MetaGroup)
	if err != nil {
		return mi
	}
	if n := len(st.Members.Voters); n > 0 {
		mi.Size = n
	}
	if mi.Leader = c.nameOf(st.Leader); mi.Leader != "" {
		mi.Peer = peerHash(mi.Leader)
	}
	if st.Leader != c.node.ID {
		return mi
	}
	for _, id := range st.Members.Voters {
		if id == c.node.ID {
			continue
		}
		mi.Replicas = append(mi.Replicas, peerInfo(c.nameOf(id), st, id))
	}
	return mi
}

// clustered reports whether JetStream runs clustered here (not on a
// server of its own, and not fallen back to standalone in a mixed
// cluster).
func (m *Manager) clustered() bool { return m.cl != nil && !m.cl.standalone.Load() }

// goStandalone falls back to a JetStream of this server's own: its
// cluster has nats-server peers, whose JetStream clustering Starling does
// not speak. The API stays local and the streams on disk are recovered;
// unless a nats-server peer runs JetStream, which then serves the API
// instead (mixed.go).
func (c *cluster) goStandalone() { c.alone.Do(c.fallBack) }

// checkStandalone falls back to standalone when no meta group was ever
// joined and a route leads to a server that is not Starling; it reports
// whether JetStream is standalone.
func (c *cluster) checkStandalone() bool {
	if c.standalone.Load() {
		return true
	}
	if c.member || c.meta.Load() != nil || c.m.srv.ForeignRoutes() == 0 {
		return false
	}
	c.goStandalone()
	return true
}

func (c *cluster) fallBack() {
	if c.m.srv.ForeignJetStream() {
		c.yield()
		return
	}
	c.m.log.Warn("JetStream is not shared with the cluster: its other servers are not Starling JetStream servers, so this server's streams stay local, not replicated")
	c.m.srv.AnnounceJetStream(false)
	c.standalone.Store(true)
	for _, a := range c.m.accountList() {
		a.adminMu.Lock()
		if err := a.recover(streamsRoot(c.m.cfg.StoreDir, a.name)); err != nil {
			a.log.Error("streams not recovered", "err", err)
		}
		a.adminMu.Unlock()
	}
}

// invited hears, on the Raft loop, of a leader's message for a group this
// server does not run: for the meta group, before this server joined or
// founded one, it means the meta leader added it (watchMembers), and it
// joins with an empty log, to be caught up by the leader's snapshot.
func (c *cluster) invited(group, _ uint64) {
	if mark := c.rejoin.Load(); mark != nil && mark.Out == 0 {
		return // still counted by the group: it may not join empty yet
	}
	if group == jscluster.MetaGroup && c.meta.Load() == nil && !c.invite.Load() {
		c.invite.Store(true)
		c.poke()
	}
}

// memberWatch is how often the meta leader looks for JetStream servers
// that are not members yet.
const memberWatch = time.Second

// watchMembers runs on every member; while it leads the meta group, it
// adds the Starling JetStream servers with a route up that are not
// members yet (a server started after the group was founded), one change
// at a time.
func (c *cluster) watchMembers() {
	defer c.wg.Done()
	t := time.NewTicker(memberWatch)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-c.done:
			return
		}
		c.metaStopped()
		if !c.isMetaLeader() {
			continue
		}
		st, err := c.status(jscluster.MetaGroup)
		if err != nil || len(st.Members.Outgoing) > 0 {
			continue
		}
		known := map[uint64]bool{}
		for _, ids := range [][]uint64{st.Members.Voters, st.Members.Learners} {
			for _, id := range ids {
				known[id] = true
			}
		}
		for _, p := range c.m.srv.ClusterPeers() {
			id := jscluster.NodeID(p.Name)
			if _, gone := c.removed.Load(p.Name); !p.JetStream || p.Name == "" || known[id] || gone {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), metaStartTimeout)
			prop, err := c.node.Host.AddMember(ctx, jscluster.MetaGroup, id)
			if err == nil {
				_, err = prop.Wait(ctx)
			}
			cancel()
			if err != nil {
				c.m.log.Warn("JetStream cluster: server not added to the meta group", "server_name", p.Name, "err", err)
			} else {
				c.m.log.Info("JetStream cluster: server added to the meta group", "server_name", p.Name)
			}
			break // one membership change at a time
		}
	}
}

// announcedGroup is the meta group a peer says it is in (its route
// INFO), nil when none does: a server that finds one must not found
// another, unless it is the very group it would found.
func announcedGroup(peers []core.ClusterPeer) []string {
	for _, p := range peers {
		if p.JetStream && len(p.Meta) > 0 {
			return p.Meta
		}
	}
	return nil
}
