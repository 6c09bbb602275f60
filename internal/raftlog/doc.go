// Package raftlog is the server's durable Raft log: one write-ahead log
// shared by every Raft group on the server, so that one fsync makes a whole
// loop iteration's worth of appends durable, for every group at once (group
// commit). Each group sees its part through a raft.Storage (Log.Storage).
//
// # Use
//
// The loop that drives the groups collects, per group, what its Ready asks
// to persist (hard state, entries, snapshot) into one []Update and calls
// Save: the records are written in order, synced once (only when something
// in the batch needs it, as raft's MustSync says), and only then do the
// groups' views change. Messages may be sent once Save returns. Compact
// drops entries the state machine holds durably; CreateSnapshot records a
// state-machine snapshot raft can send to a follower; RemoveGroup forgets a
// group. All file I/O goes through internal/vfs.
//
// # Files
//
// A directory of segment files "<16 hex digits>.log", appended in order;
// only the last (active) one is written. A batch that finds the active
// segment at Options.SegmentSize or more starts a new one: the old segment
// is synced first, so a torn record can only be at the end of the last
// segment. Open always starts a new segment after recovery, so nothing is
// ever appended after bytes recovery had to judge.
//
// # Records
//
// Integers little endian. Every record:
//
//	offset  size  field
//	0       4     length of the rest of the record
//	4       1     kind
//	5       8     group id
//	13      4     CRC-32C of bytes 0..13 (the header)
//	17      ...   body, by kind
//	len     4     CRC-32C of everything before it
//
// The header has its own checksum so a damaged body still names its group
// and length: the damage is pinned on that group and the scan goes on. A
// damaged header cannot be framed: the rest of that segment is unreadable
// and any group may have lost records there. If a later segment follows,
// its checkpoint re-establishes every group's state, and only groups
// holding entries in the damaged segment (or before it) are refused, since
// a lost record may have replaced them; in the last segment nothing
// vouches for what was lost, and the whole log is refused.
//
// Bodies (kinds): 1 entries: first index, count, then per entry term,
// size, CRC-32C and raft's protobuf encoding (the per-entry checksum is
// checked at every read, so a bit flipped after recovery is caught too);
// 2 hard state: term, vote, commit; 3 snapshot: mode (1 applied: the log
// restarts after it; 2 created by the state machine: entries stay), index,
// term, conf state (protobuf, length-prefixed), data; 4 compaction mark:
// index, term; 5 group removal: empty; 6 segment header (group 0): segment
// number, group count, flags; 7 group checkpoint: flags, hard state,
// offset (index and term before the first entry), last index, snapshot.
//
// # Checkpoints and segment deletion
//
// Every segment opens with a header and a checkpoint record per group.
// So the only records of an older segment that anyone needs are entries:
// a segment (not the active one) is deleted as soon as none of its entries
// is live in any group, checked only right after a sync so the records that
// killed them are durable. The alternative, keeping the latest hard state
// and snapshot of each group where they were written, would let one idle
// group pin every segment since its last write; rewriting them forward costs
// a small record per group per segment. Snapshot data rides in those
// records, so it is meant to be small (a reference to the state machine's
// own files), bounded by Options.MaxRecordSize.
//
// A checkpoint also carries each group's last index, and replaying it makes
// the group exactly what it was then: entries a since-deleted segment had
// replaced are cut, groups it does not name (removed in a deleted segment)
// are dropped, and an index no replayed record holds is a hole. A hole left
// at the end of recovery marks the group damaged.
//
// # Recovery
//
// Open replays the segments in order. A record cut by the end of the last
// segment is a write the crash interrupted; it was never acknowledged (Save
// returns after the sync), so the tail is truncated. Anything else that
// fails its checks marks its group damaged (Storage.Damaged; every method
// returns ErrDamaged): such a group is not served, but the rest of the log
// is. Damage is carried forward in the checkpoints.
//
// # Memory
//
// Per entry the log keeps its term, segment, offset, size and checksum
// (32 bytes); payloads are read from the files when raft asks, adjacent
// entries in one read. What stays in memory per group is its hard state,
// snapshot and these locations, bounded by compaction. A bounded cache
// (Options.CacheSize) keeps the most recently saved entries, which raft
// reads back soon after saving them. Recovery reads one segment at a time.
//
// # Locks
//
// writeMu serializes writers (Save, Compact, CreateSnapshot, RemoveGroup,
// Close) and is taken before mu, which guards what readers look at. File
// writes and syncs run under writeMu only, so raft's reads go on during a
// sync; reads of entries run under mu, so a segment file is never closed
// under a reader.
package raftlog
