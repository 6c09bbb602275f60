// Package consumer is one JetStream consumer: a cursor over a stream with
// delivery state (what was delivered, what awaits an ack, what must be
// redelivered) and the two ways of handing messages out — pushed to a
// deliver subject, or pulled by requests. Deliveries run in turns on a
// small pool of workers shared by every consumer (sched.go); acks, pull
// requests and stored messages only update state and wake the consumer,
// so an idle consumer holds no goroutine.
//
// The persisted state changes only through events (transition.go), which
// is what makes a consumer replicable: the leader's live consumer decides
// the events and hands them, in numbered batches (eventcodec.go), to
// Options.Replicate; every other replica applies the committed batches to
// a Replica (replica.go), ending with the leader's State. The leader runs
// ahead of its log (deliveries are at least once anyway), but answers an
// AckSync only once its ack is committed (replicate.go says why).
//
// Known gap: last-per-subject start entries the leader finds gone from
// the stream leave its set without an event; a replica drops them at the
// next delivery past them, so until then the two LastPer lists may differ
// (nothing is delivered twice or lost by it: the entries are gone).
package consumer
