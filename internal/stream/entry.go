package stream

import "github.com/starling-mq/starling/internal/store"

// A publish is handled in two steps (see docs/architecture.md, "Deciding
// and applying"):
//
//   - propose (propose.go) runs every check against the stream as it is
//     and decides: an error for the publisher, or an Entry. It is the only
//     step that reads the clock or anything else local to this server
//     (the consumer count, the server's resource limits, tracing).
//   - apply (apply.go) carries an Entry out. It reads nothing but the
//     entry, the configuration and the stream's state, so every replica
//     that applies the same entries in the same order ends up with the
//     same messages, sequences and de-duplication window.
//
// On a single server Ingest runs both at once under the stream's lock. A
// replicated stream proposes on its leader (Propose), replicates the
// encoded entry (entrycodec.go), and applies it on every replica
// (ApplyEntry): see replicate.go.

// EntryKind says what an entry does.
type EntryKind uint8

const (
	// EntryMsg stores a message.
	EntryMsg EntryKind = iota
	// EntrySkip uses the sequence without keeping a message: an
	// interest-retention stream without consumers, where nobody could
	// ever read it. The publisher still gets the sequence in its ack.
	EntrySkip

	// The kinds below change stored messages without using a sequence
	// (ops.go). Their Seq is the last sequence the leader had decided when
	// it decided them: they never touch a message above it, which makes
	// them safe to apply again when a restarted replica replays its log.

	// EntryDelete removes message Target (erasing its bytes with Erase).
	EntryDelete
	// EntryPurge removes messages as Purge says.
	EntryPurge
	// EntryExpire removes what the leader's expiry timer found due: every
	// message at or below Target (max_age) and the messages in Seqs (their
	// own TTL).
	EntryExpire
	// EntryConfig installs the configuration encoded as JSON in Config.
	EntryConfig
)

// Rollup is what a stored message rolls up (Nats-Rollup).
type Rollup uint8

const (
	RollupNone Rollup = iota
	// RollupSubject keeps only this message of its subject.
	RollupSubject
	// RollupAll keeps only this message of the stream.
	RollupAll
)

// Entry is one decided change to a stream: everything apply needs,
// nothing it would have to look up or read from a clock. Header and Data
// may alias the publisher's buffer: an Entry is applied before the buffer
// is reused, and a replicated one is encoded (copied) first.
type Entry struct {
	Kind    EntryKind
	Seq     uint64 // the sequence the message is stored under (a removal: see EntryDelete)
	Time    int64  // unix nanoseconds, never below the previous entry's
	Subject string // after the stream's subject transform
	Header  []byte // as stored (a Nats-TTL raised to the marker TTL included)
	Data    []byte
	MsgID   string // Nats-Msg-Id, "" for none
	TTL     int64  // per-message time to live in nanoseconds, 0 for none
	Rollup  Rollup

	// Fields of the removals and configuration updates (ops.go).
	Target uint64             // EntryDelete: the message; EntryExpire: the age bound
	Erase  bool               // EntryDelete: overwrite the message's bytes
	Purge  store.PurgeRequest // EntryPurge
	Seqs   []uint64           // EntryExpire: messages past their TTL, ascending
	// Markers (EntryExpire) is how many sequences after Seq the leader
	// reserved for subject delete markers; those not used are skipped.
	Markers uint64
	Config  []byte // EntryConfig: jsapi.StreamConfig as JSON

	// Guarded (EntryMsg, EntrySkip): the entry is applied only if the
	// stream's last sequence is then After; otherwise every replica
	// leaves it out (ErrGuard). A copier that keeps many copies in flight
	// (a replicated mirror) chains each to the one before, so a copy that
	// never reached the log stops the ones after it instead of leaving a
	// hole the copier would never fill.
	Guarded bool
	After   uint64
}
