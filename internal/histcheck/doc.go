// Package histcheck judges the histories that fault tests record: what
// publishers were told (acks), what a stream holds after recovery, what
// consumers delivered, and whether a key-value history is linearizable
// (with porcupine). It only reads histories; recording them and injecting
// the faults is the tests' and internal/chaos's job.
package histcheck
