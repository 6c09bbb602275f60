// Package chaos is a fault-injection harness for cluster tests: a TCP
// proxy in front of every route link, and a launcher of Starling clusters
// (real processes, or servers embedded in the test binary) wired through
// those proxies.
//
// # Topology
//
// Server i listens for routes on its own port. For every pair i < j there
// is one proxy, P_ij, that forwards to server j's route port, and server
// i's configured routes are exactly its P_ij (j > i). Server j configures
// no route to i: each pair has one route, dialled by the lower index
// through its proxy, so cutting P_ij cuts the pair and nothing else.
//
// Starling with JetStream is wired two ways instead: each pair has two
// proxies, P_ij (dialled by i, to j) and P_ji (dialled by j, to i), and
// every server configures routes to every other through its own
// proxies. Two reasons. Starling dials its Raft connections itself, on
// the cluster port, at the address of the configured route that led to
// the peer (falling back to the address the peer advertises, which here
// refuses): with routes one way only, the higher index of a pair would
// have no proxy to dial through. And a Starling server counts the
// JetStream servers it expects as its configured routes to others plus
// itself, so every server must name every other for them to agree on
// the founding size. (Advertising a proxy instead would not do: a server
// advertises one address to all its peers, and a fault must hit one
// pair.) Both routes of a pair come up and the servers keep
// one (the same one on both sides), so the mesh still has one route per
// pair; Raft uses each server's own proxy. A fault hits every proxy of a
// pair (Links, LinksOf, Isolate, HealAll), and a one-way fault the
// direction that leaves the server on each (MuteOut). nats-server keeps
// the one-way topology: it carries Raft on the routes, and a second
// route per pair would be a second connection its route checks count.
//
// Gossip could undo this. A server that learns of a peer from another
// server's route INFO dials the peer's advertised route address — the
// peer's cluster advertise, else its listen address — directly, as an
// implicit route, which would bypass the proxies (for instance, during a
// partition, the isolated server's peers would learn its real address
// from each other and reconnect around the cut). So every server
// advertises an address that refuses connections at once (a socket bound
// to a loopback port that never listens: the dial fails, and no other
// listener can take the port), and sets connect_retries to 0, so that a
// gossiped route is tried once, fails, and is forgotten. The refusal must
// be a failed dial rather than a listener that accepts and closes: a
// connection that opens and then closes is a route that dropped, which a
// server may keep redialling, where a refused dial is a failed attempt
// that connect_retries bounds.
//
// # Faults
//
// A Proxy can Cut its link (close every connection, and every new one on
// accept, until Heal), Blackhole one Direction (bytes read and thrown
// away, the connection stays open), Delay a Direction (every chunk held
// for a fixed time, in order), and Drop (every chunk, either way, ends its
// connection with a fixed probability after a random prefix of it is
// passed on: a flapping link). Heal removes every fault. The decision on
// each chunk is a pure function, Faults.Judge. Memory is bounded (chunks
// of ProxyOptions.ChunkSize, at most QueueLen of them per direction),
// every read and write has a deadline, and Close ends every goroutine.
//
// # Seeds
//
// Every random draw of the harness comes from a math/rand/v2 generator
// seeded from the scenario's seed: each proxy's from the seed and the
// link, each connection's from the proxy's seed and the connection's
// index, each direction its own. A scenario's own choices (which server
// to cut, how many messages) come from Cluster.Rand. The seed is random
// unless STARLING_CHAOS_SEED is set; a failing test logs it with the
// command that replays it. A replay draws the same numbers; what the
// operating system schedules (how TCP splits the stream into chunks,
// when a route redials) can still differ between runs.
//
// # Disk faults
//
// FlipBits and Truncate damage the files of a stopped server's store
// directory (bits flipped, a file cut short) from a seeded source, and
// report each change so a test can say what the server must have
// detected. DiskDamages aims them at a Starling member's Raft log or its
// stream's log segments, and DamageMember applies one to a member killed
// for it, then starts it again.
//
// # Waiting
//
// Every wait polls a condition with a bound (Timeout), never sleeps a
// fixed time: routes are read from each server's /routez monitoring
// endpoint (num_routes, routes[].remote_id, and with subs=1 the interest
// each route carries).
//
// # The JetStream fault matrix
//
// TestJSFaults runs every fault of JSFaults against a three-server
// cluster of each target (the reference nats-server, and Starling built
// from this tree), with three workloads at once on an R3 stream,
// its R3 durable pull consumer and an R3 key-value bucket:
//
//   - Publishers, one per server, number their messages and send each
//     with a Nats-Msg-Id, retrying the same ID after an error or a
//     timeout, and record for each message whether it was acked and at
//     which sequence (Publisher).
//   - A puller fetches and acks with AckSync, recording every delivery
//     and every ack the server confirmed (Puller).
//   - Key-value clients, one per server, put, compare-and-set and read a
//     few keys, recording each operation's interval and outcome, unknown
//     when it timed out (KVClient). Reads go to the stream leader, never
//     to a direct get, which a lagging replica may answer.
//
// Each fault runs in rounds for the plan's duration, aimed at the
// stream's leader as the cluster reports it; after each round the test
// waits for the mesh and a leader before the next. The consumer and the
// bucket are Raft groups of their own whose leaders may sit elsewhere:
// they are hit when their leader shares the stream's server, or by the
// member faults. What each row proves,
// once the faults stop and the cluster has recovered:
//
//   - none: the control; the workloads and the checker agree on a
//     healthy cluster, so any verdict below is the fault's.
//   - kill-leader: SIGKILL of the leader, restarted later. A write acked
//     by a leader that dies is kept by the new one (the ack waited for a
//     quorum), and the retries under the same ID are not stored twice
//     (deduplication survives the failover).
//   - kill-member: SIGKILL of any server; a restarted member catches up
//     (every replica ends identical) without disturbing the others.
//   - pause-leader: SIGSTOP then SIGCONT of the leader. A leader that
//     wakes up after being replaced must step down without acking
//     anything on its own, or letting its stale state win.
//   - partition-leader-minority: the leader cut off from the majority by
//     the route proxies. The majority elects a new leader; the old one
//     can commit nothing alone, so nothing it acks is lost.
//   - partition-leader-majority: a follower cut off; the leader keeps a
//     quorum and must keep acking; the follower rejoins and catches up.
//   - one-way-leader-out: everything the leader sends is blackholed
//     while it still hears its peers: an asymmetric fault where a leader
//     can believe itself healthy.
//
// The verdicts (package histcheck): the stream read back from the leader
// holds every acked message once, at its acked sequence, and nothing
// never published; every server's copy, read with direct gets through a
// client on that server, is the same; the consumer delivered every acked
// message at least once and no confirmed ack came back; the key-value
// history is linearizable (porcupine, with unknown outcomes). A target's
// known bugs are named as caveats and logged rather than failed on;
// STARLING_FAULT_STRICT=1 fails on them too (to check a fix).
//
// STARLING_FAULT_PROFILE=long runs more seeds, longer; every scenario
// logs its seed and the command that replays it. Power loss and a full
// disk need in-process servers and a fault-injecting file system, and
// are tested in package jetstream.
//
// TestJSCorrupt runs the same workloads and verdicts, against Starling
// only, around one disk damage: a member that does not lead the stream
// is killed, damaged and restarted; then the leader is killed, so that
// the damaged member must take part in any quorum, and restarted later.
// The damaged member may stay out of the group (a Raft log that fails
// its checksums is refused), so its copy is judged as a subset: whatever
// its direct gets answer, while the leader is down and at the end, must
// be what was acknowledged at that sequence; at the end every replica
// must be current again (a member that refused a group's log is repaired
// from its peers), unless the damaged member refused its meta group's
// log. The short profile runs a bit flip and a cut in the Raft log and a
// bit flip in the stream's store; the long one every damage of
// DiskDamages.
//
// Raft traffic: nats-server carries it on the routes, and Starling dials
// it through each server's own proxy (see Topology), so the proxies cut
// it for both targets.
package chaos
