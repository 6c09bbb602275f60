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
// detected.
//
// # Waiting
//
// Every wait polls a condition with a bound (Timeout), never sleeps a
// fixed time: routes are read from each server's /routez monitoring
// endpoint (num_routes, routes[].remote_id, and with subs=1 the interest
// each route carries).
package chaos
