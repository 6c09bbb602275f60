// Package store keeps the messages of one stream: an append-only log with a
// sequence index and a per-subject index, behind a small interface with a
// memory and a file implementation. It knows nothing of JetStream's API or
// limits policy: the stream layer decides what to delete and calls Delete
// or Purge; the store makes those cheap and durable.
//
// Durability contract: Append writes a message and returns its sequence at
// once; Durable registers a callback that runs when every message up to a
// sequence is on stable storage. A publish is acknowledged from that
// callback, so concurrent publishers share one fsync (group commit) and an
// acknowledged message survives power loss.
package store

import (
	"errors"
	"time"
)

// Errors a store returns. Callers compare with errors.Is.
var (
	// ErrNotFound: no message at that sequence (never stored, deleted,
	// purged, or past the end).
	ErrNotFound = errors.New("store: message not found")
	// ErrCorrupt: the record failed its checksum. It is never served; the
	// sequence counts as lost.
	ErrCorrupt = errors.New("store: message corrupt")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrFull: a storage limit of the store itself (not the stream's
	// limits) was reached, e.g. the disk is full.
	ErrFull = errors.New("store: storage full")
	// ErrSeqNotAfterLast: AppendAt was given a sequence at or below the
	// last one handed out, which would reuse or reorder sequences.
	ErrSeqNotAfterLast = errors.New("store: sequence not after the last one")
)

// Msg is one stored message. Header and Data may share one allocation;
// callers must not modify them.
type Msg struct {
	Seq     uint64
	Time    int64 // unix nanoseconds, as given to Append
	Subject string
	Header  []byte // nil when the message has no headers
	Data    []byte
	// TTL is a per-message time to live in nanoseconds (0 = none); the
	// stream layer expires such messages.
	TTL int64
}

// Byte accounting. A message counts toward byte limits and stream state
// with its subject, header and payload plus a per-record overhead, which
// differs by storage type exactly as in nats-server, so that "bytes" in
// stream info and max_bytes behave the same for the same messages.

// FileMsgSize is a message's size in a file store: length, sequence, time
// and subject length fields and a checksum, plus a header length field when
// there are headers.
func FileMsgSize(subject string, hdr, data []byte) uint64 {
	if len(hdr) == 0 {
		return uint64(30 + len(subject) + len(data))
	}
	return uint64(34 + len(subject) + len(hdr) + len(data))
}

// MemMsgSize is a message's size in a memory store: sequence and time.
func MemMsgSize(subject string, hdr, data []byte) uint64 {
	return uint64(16 + len(subject) + len(hdr) + len(data))
}

// State is a point-in-time summary of a store.
type State struct {
	Msgs        uint64
	Bytes       uint64
	FirstSeq    uint64 // 0 when empty and nothing was ever stored
	FirstTime   time.Time
	LastSeq     uint64
	LastTime    time.Time
	NumSubjects int
	NumDeleted  int // interior deletes: sequences between FirstSeq and LastSeq not present
	// Lost names messages found corrupt at recovery or on read, or found
	// missing at recovery (their log data gone).
	Lost LostData
}

// LostData names messages the store could not return intact.
type LostData struct {
	// Msgs lists lost sequences, ascending; a store may cap the list (the
	// file store lists at most 10,000 and logs every range). It may be
	// shared with the store: callers must not modify it.
	Msgs []uint64
	// Bytes is the stored size of the lost messages where it is known
	// (corrupt records); missing data counts no bytes.
	Bytes uint64
}

// SubjectState is one subject's messages.
type SubjectState struct {
	Msgs  uint64
	First uint64
	Last  uint64
}

// PurgeRequest selects what Purge removes. The zero value removes
// everything.
type PurgeRequest struct {
	// Subject limits the purge to subjects matching it (wildcards allowed);
	// empty means all subjects.
	Subject string
	// Seq, when set, removes only messages with sequence < Seq.
	Seq uint64
	// Keep, when set, keeps the newest Keep messages (of Subject, if set).
	Keep uint64
}

// Store is one stream's message storage. Implementations are safe for
// concurrent use.
type Store interface {
	// Append stores a message under the next sequence. ts is its time in
	// unix nanoseconds. The message is not necessarily durable yet: see
	// Durable.
	Append(subject string, hdr, data []byte, ts int64, ttl int64) (seq uint64, err error)
	// AppendAt stores a message under exactly seq, which must be above
	// LastSeq (ErrSeqNotAfterLast otherwise, and nothing changes). The
	// sequences between LastSeq and seq become skipped ones, as if Skip
	// had been called for each: a replica applying a log of decided
	// entries stores each at the sequence the log gives it. Durability is
	// Append's.
	AppendAt(seq uint64, subject string, hdr, data []byte, ts int64, ttl int64) error
	// Skip advances the sequence without storing a message, as if one had
	// been stored and deleted (mirrors and first_seq need this). It returns
	// the skipped sequence.
	Skip() (seq uint64, err error)
	// Durable calls fn once every message up to and including seq is on
	// stable storage, or with an error if that cannot happen. fn may run
	// before Durable returns, and runs on a goroutine of the store's: it
	// must not block.
	Durable(seq uint64, fn func(error))
	// Sync flushes and syncs everything appended so far.
	Sync() error

	// Load returns the message at seq.
	Load(seq uint64) (*Msg, error)
	// LoadNext returns the first message with sequence >= start whose
	// subject matches filter (wildcards allowed; "" or ">" match all).
	LoadNext(filter string, start uint64) (*Msg, error)
	// LoadLast returns the last message whose subject matches filter.
	LoadLast(filter string) (*Msg, error)
	// LoadPrev returns the last message with sequence <= start matching
	// filter.
	LoadPrev(filter string, start uint64) (*Msg, error)

	// Delete removes the message at seq; with erase its bytes are also
	// overwritten on disk. It reports whether a message was there.
	Delete(seq uint64, erase bool) (bool, error)
	// Purge removes messages as the request says and returns how many.
	Purge(req PurgeRequest) (uint64, error)
	// Compact removes every message below seq and makes seq the first
	// sequence, even past the last one (the next Append then gets
	// max(seq, last+1)).
	Compact(seq uint64) (uint64, error)

	// State returns the current summary. LastSeq never decreases, not
	// across deletes, purges and compactions, and for a store that keeps
	// its data not across a restart either, even one that finds log data
	// lost: a sequence once handed out is never handed out again.
	State() State
	// SubjectsState returns per-subject counts for subjects matching filter.
	SubjectsState(filter string) map[string]SubjectState
	// NumPending counts messages with sequence >= start matching filter;
	// with lastPerSubject only the last message of each subject counts.
	NumPending(start uint64, filter string, lastPerSubject bool) uint64
	// Deleted returns the interior deleted sequences, ascending, at most
	// max of them (0 = no limit).
	Deleted(max int) []uint64

	// Close flushes, syncs and releases the store; later calls fail with
	// ErrClosed.
	Close() error
	// Destroy closes the store and removes its data.
	Destroy() error
}
