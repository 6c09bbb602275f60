// Package raftnode runs one server's Raft groups: every group's etcd raft
// RawNode is driven by one loop, which saves what all of them must persist
// with one sync, then sends their messages, applies their committed
// entries and advances them. The log (Storage), the network (Transport)
// and each group's replicated state (StateMachine) are interfaces; the
// server plugs in internal/raftlog and internal/raftnet, tests MemStorage
// and a simulated network.
//
// # Layout
//
//   - engine.go: the loop's body, single-threaded and free of clocks and
//     goroutines (addGroup, step, tick, propose, process).
//   - group.go: one group: proposals in flight, applying, snapshots.
//   - members.go: membership changes: checks, proposing, settling.
//   - snapsource.go: the snapshot a leader sends, taken as of now.
//   - host.go: Host, the engine on a goroutine behind bounded queues.
//   - memstorage.go: Storage in memory, with crashes that cut a save short.
//   - sim_test.go: whole clusters in one goroutine from a seed.
//
// # One loop, one sync
//
// Each iteration takes the Ready of every group that has one and hands
// them to Storage.Save as one batch, so a server with hundreds of groups
// pays one fsync per iteration, not one per group (group commit). Only
// after Save returns are messages sent (a vote or an append
// acknowledgement must be durable before anyone hears of it), entries
// applied and nodes advanced. Raft's AsyncStorageWrites was not used: it
// would let a leader send appends before its own write completes, but
// the write then needs a goroutine of its own fed by per-group storage
// messages, and the loop would no longer be a plain function of its
// inputs. A leader writing in parallel with its followers saves less than
// one fsync of latency; the batch across groups already amortises the
// fsync, which is the cost that grows with the number of groups. The
// asynchronous proposals one iteration takes go to raft as one message
// per group (async.go), so a burst of publishes becomes one append per
// follower, not one each. If
// measurements show the leader's write on the critical path, the switch
// is contained in engine.process.
//
// # Proposals
//
// A proposal's entry data starts with a proposal id (entry.go). When the
// entry first shows up in a Ready, in the term the leader proposed it in,
// the proposal learns its (index, term). From then on its outcome is
// decided by the log alone:
//
//   - the entry committed at that index has that term: it is ours (one
//     leader per term, one entry per index and term); the waiter gets the
//     index, term and the state machine's result, after Apply;
//   - a different entry is written or committed at that index: a leader
//     of a later term lacks ours, which Raft's leader completeness rules
//     out for a committed entry, so it never commits: ErrDropped;
//   - a snapshot from the leader jumps past the index: the entry may or
//     may not be in it: ErrUnknown;
//   - the group is removed or the host stops: ErrStopped (unknown too).
//
// A follower refuses proposals (DisableProposalForwarding) with a
// NotLeaderError naming the leader, so the caller retries there rather
// than the host forwarding blind. A proposal is never acknowledged for
// another entry and never left without an outcome while its group runs,
// except when no leader ever reaches its index; callers bound the wait
// with a context.
//
// # Elections and determinism
//
// Every group runs PreVote and CheckQuorum: a leader that cannot hear a
// quorum within an election timeout steps down (visible in Status), and a
// member returning from a partition cannot depose a working leader.
// etcd raft draws its randomized election timeout from crypto/rand, which
// no test can seed; so only leaders tick Raft fully, other members tick
// quiesced and the host campaigns on a timer of its own drawn from
// Options.Seed (engine.tick). Campaign is exactly what Raft's timer would
// do, so this moves when elections start, never whether they are safe.
// With that, a seeded simulation replays exactly (TestSimReplay).
//
// # Bootstrap and restart
//
// A new group's log gets a snapshot at index 1 whose configuration is the
// peers (raft's recommended bootstrap); a known group restarts from its
// log: the state machine is restored from the log's snapshot and the
// committed entries after it are applied again. A state machine that
// keeps its own durable state must therefore tolerate being restored and
// replayed; making the log's snapshot follow the state machine's own
// durable point (docs/replication.md: compact only what the stream has
// synced) is the stream integration's job.
//
// # Membership
//
// Host.AddMember, RemoveMember and ChangeMembers propose a ConfChangeV2
// on the leader (NotLeaderError elsewhere). Raft allows one change at a
// time: one proposed while another has not applied, while the group is in
// a joint configuration, or before a new leader has applied an entry of
// its term is refused with ErrChangePending (members.go mirrors Raft's
// own rule, because Raft would silently turn the entry into an empty one
// and the proposal's outcome would be unknown instead of refused). A
// change of one voter is made in one step; changing more (replacing a
// member: one added, one removed) goes through joint consensus, which
// Raft leaves on its own with an entry of its own, and the proposal
// settles only once the group has left it. The result's Value is the new
// Members, which Status also shows.
//
// Joining: the new member's host calls AddGroup(ctx, group, nil, sm): no
// peers and a log that does not know the group start Raft with an empty
// log and an empty configuration. Such a member never campaigns (it is
// not in any configuration) and answers the leader only once the leader
// has added it and sent it a snapshot. Start it before AddMember or soon
// after: the quorum counts the new voter as soon as the change applies,
// so adding a second member to a group of one stops commits until it has
// caught up. The snapshot must name the new member (Raft refuses one that
// does not), which the log's last compaction may predate; so the leader
// sends a snapshot taken from the state machine at its applied index
// (snapsource.go). A joining member that restarts before its snapshot
// arrived starts empty again; one that restarts after restarts from its
// log like any other. Node ids must not be reused: remove the group from a
// removed member's log (RemoveGroup) before adding it again.
//
// Removal: a removed leader steps down once it applies the change
// (Raft's StepDownOnRemoval) and the others elect a leader. A removed
// member keeps running the group with Status.Removed set, so its state
// machine stays readable, until the caller removes it. A removed member
// may never apply its own removal (the leader stops sending to it once
// the change commits), so whoever removes a member removes the group on
// its host rather than waiting for Removed.
//
// Restart: every snapshot the host takes records the configuration as of
// its index, and the changes committed after it are applied again from
// the log at restart, as normal entries are.
//
// # Snapshots
//
// Every Options.SnapshotEntries applied entries the host takes the state
// machine's snapshot and compacts the log through Storage.Compact; a
// follower too far behind then gets a snapshot from the leader, taken
// from its state machine at that moment (see Membership). The
// transport reports no delivery, so the host tells Raft a snapshot
// arrived as soon as it is sent; a lost one is sent again.
//
// A WholeLog state machine is never compacted by count; a DurableState
// one (a stream, whose state lives in its own files) is compacted up to
// the index its files hold durably, as it reports (wholelog.go). Its
// snapshots name state rather than carry it: Restore or Received may
// answer ErrFetching, and the group's committed entries then wait in the
// log, applied once Resume says the state is there (held.go).
//
// # Simulation
//
// sim_test.go runs N engines in one goroutine over a message queue with
// seeded drops, duplicates, delays (reordering), two-way and one-way
// partitions, and crashes that keep only what a save completed (including
// crashes part way through a save). The checks: at most one leader per
// group and term; every member applies the same entries in the same
// order; an acknowledged proposal is applied once, at the index and term
// acknowledged; a proposal reported dropped is applied nowhere; a KV
// history through the leader is linearizable (porcupine). Seeds:
// STARLING_SIM_SEEDS=n runs 1..n, STARLING_SIM_SEED=s one seed.
//
// # Concurrency
//
// Host has no lock of its own over the engine: only the loop goroutine
// touches it, and other goroutines reach it through two bounded channels
// (messages, dropped when full; calls, waited for under a context).
// StateMachine calls happen on the loop, never concurrently.
package raftnode
