// Package stream is one JetStream stream: it decides whether a published
// message is stored (header checks, de-duplication, limits, discard
// policy), stores it, and answers the publisher once the store says the
// message is durable. It knows nothing of connections: messages come in
// through Ingest and acks go out through a Publisher.
//
// # Deciding and applying
//
// A publish is proposed (every check, the clock read once; propose.go)
// and then applied (deterministic, from the Entry alone; apply.go). On a
// single server Ingest does both under the stream's lock.
//
// # Replicated streams
//
// A replicated stream runs the two halves apart (replicate.go); Raft
// itself is the caller's:
//
//   - the leader calls Propose for each publish. It answers at once (an
//     error, a duplicate's original sequence) or returns the entry encoded
//     for the Raft log (EncodeEntry: versioned, varint-packed, every field;
//     DecodeEntry refuses anything else, FuzzStreamEntry checks it);
//   - every replica, the leader included, calls ApplyEntry with each
//     committed entry in log order. An entry at or below the last applied
//     sequence (the log replayed after a restart) changes nothing and
//     reports ErrApplied; one past the next sequence leaves skipped
//     sequences, as apply does;
//   - the leader answers the publisher with Respond, without waiting for
//     the store's sync: a committed entry is on stable storage in a
//     quorum's logs already.
//
// The leader pipelines: many proposals are in flight before the first
// is applied. A tail of proposals not yet applied (proposals.go, bounded
// by maxProposals) makes each see those before it: the next sequence and
// time, the last message ID, pending Nats-Msg-Ids (duplicates within the
// pipeline), each subject's last pending sequence and a pending roll-up
// (expected-last-subject-sequence), and pending messages and bytes, with
// replacements at a subject's max_msgs_per limit (discard new). So the
// leader answers each publisher as a single server would have; the
// seeded TestPipelineMatchesSingleServer holds it to that. Where the tail
// cannot foresee apply (discard-old limits or roll-ups removing
// messages), the checks err towards what is stored; whatever the leader
// decides, replicas apply alike.
//
// A refusal of an expectation (a Nats-Expected-* header) decided against
// proposals in flight is marked so (Answer.Expect, Answer.InFlight): those
// proposals may still be dropped, and the refusal would then not be
// linearizable. The caller lets them settle (Settle) and proposes the
// message again before it answers (jscluster's stream group).
//
// ResetProposals drops the tail when leadership is lost; the old leader's
// entries may still commit and are applied like any. An applied entry
// that differs from what the tail proposed at its sequence (another
// leader's) voids the tail too.
//
// # Removals and configuration updates
//
// With Options.Replicated, deletes, purges, expiry and configuration
// updates are entries too (ops.go, codec version 2): the leader decides
// them (ProposeDelete, ProposePurge, ProposeUpdate, and ProposeExpired,
// which its expiry timer calls and hands to Options.Expired), every
// replica applies them with ApplyEntry. A replicated stream's own timer
// removes nothing, so no replica removes a message by its own clock.
// These entries take no sequence; each carries the last sequence decided
// when it was decided and never touches a message above it, so applying
// one again (a log replayed over a store that has it) changes nothing.
// An expire entry lists what the leader found due (every message up to a
// sequence for max_age, the sequences past their TTL) instead of a time,
// so replicas need no clock and a configuration applied in between does
// not change what goes. Single servers (the option off) keep Delete,
// Purge, Update and their local expiry as they were.
//
// Subject delete markers are messages, so they need sequences: the
// leader counts the markers its expire entry calls for and reserves that
// many sequences after it (its proposals go on past them); applying the
// entry places the markers in them, as a single server's timer would, and
// skips those a different outcome left unused.
//
// The leader's checks of publishes proposed while a removal or update is
// in flight see the state before it (like discard-old limits, above).
package stream
