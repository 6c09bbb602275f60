package jetstream

import (
	"sync/atomic"
	"time"
)

// A mixed cluster: Starling servers and nats-server servers routed
// together. Starling does not join nats-server's JetStream clustering (its
// meta group and Raft over $NRG), so once a route leads to a nats-server,
// a Starling JetStream that has not joined a meta group of Starling
// servers falls back (cluster.go, fallBack), in one of two ways:
//
//   - No nats-server of the cluster runs JetStream: this server's
//     JetStream stays its own (standalone), its streams local.
//   - A nats-server of the cluster runs JetStream: that is the cluster's
//     JetStream. Answering the API here as well would give each request two
//     answers (nats-server's clients' requests reach this server's API
//     subscriptions over the routes) and store a stream twice. So this
//     server yields, as a nats-server with JetStream disabled does in a
//     JetStream cluster: it answers no API request, its clients reach the
//     cluster's JetStream through the system account (core/jsproxy.go),
//     and its own streams stay on disk, never opened, until it runs where
//     no nats-server runs JetStream.
//
// Either way is for the life of the process: a route that comes or goes
// later does not turn it back, so the answers do not flap.

// yield leaves the JetStream API to the cluster's nats-server servers.
func (c *cluster) yield() {
	c.m.log.Warn("JetStream is not served by this server: the cluster's nats-server servers run JetStream, which Starling does not join, so this server's clients use theirs, and this server's own streams stay on disk unopened until it runs in a cluster without nats-server JetStream")
	c.m.srv.AnnounceJetStream(false)
	c.yielded.Store(true)
	c.standalone.Store(true)
	c.m.srv.ProxyJetStream()
}

// yieldedAPI reports whether this server leaves the API to the cluster's
// nats-server JetStream: its API subscriptions then answer nothing.
func (m *Manager) yieldedAPI() bool { return m.cl != nil && m.cl.yielded.Load() }

// lateCheck spaces the checks for a nats-server JetStream that came after
// this server went standalone.
const lateCheck = 5 * time.Second

// lateJetStream warns, once, when a nats-server running JetStream joined
// the cluster after this server's JetStream went standalone: both now
// answer the API requests they hear. Only a restart settles it (yielding
// then), since the standalone streams are open and in use.
func (c *cluster) lateJetStream() {
	now := time.Now().UnixNano()
	last := c.lateAt.Load()
	if c.yielded.Load() || c.lateWarned.Load() || now-last < int64(lateCheck) || !c.lateAt.CompareAndSwap(last, now) {
		return
	}
	if c.m.srv.ForeignJetStream() && c.lateWarned.CompareAndSwap(false, true) {
		c.m.log.Error("a nats-server running JetStream joined the cluster after this server's JetStream went standalone: both answer JetStream requests; restart this server to leave JetStream to the cluster's nats-server servers")
	}
}

// mixedState is what the fallback decided, for the cluster struct.
type mixedState struct {
	yielded    atomic.Bool  // the API is left to the cluster's nats-server JetStream
	lateAt     atomic.Int64 // when lateJetStream last looked (unix nanoseconds)
	lateWarned atomic.Bool
}
