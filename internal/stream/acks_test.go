package stream

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// waitFor polls cond with a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Acks queued from the syncer go out in order, and the goroutine that
// sends them exits once the queue is empty.
func TestAckQueueOrderAndIdle(t *testing.T) {
	s, rec, _ := newTestStream(t, baseConfig("Q"))
	q := s.acks
	const n = 500
	for i := range n {
		q.push("r", []byte(fmt.Sprint(i)))
	}
	waitFor(t, "acks sent", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.msgs["r"]) == n
	})
	rec.mu.Lock()
	for i, b := range rec.msgs["r"] {
		if b != fmt.Sprint(i) {
			rec.mu.Unlock()
			t.Fatalf("ack %d is %q: out of order", i, b)
		}
	}
	rec.mu.Unlock()
	waitFor(t, "drain goroutine gone", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return !q.running
	})

	// After stop, acks are sent by their producer, not lost.
	q.stop()
	q.push("late", []byte("x"))
	if rec.last("late") != "x" {
		t.Fatal("an ack pushed after stop was lost")
	}
}

// An idle stream runs no goroutine of its own.
func TestIdleStreamsCostNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := range 300 {
		newTestStream(t, baseConfig(fmt.Sprintf("S%d", i)))
	}
	if grew := runtime.NumGoroutine() - before; grew > 30 {
		t.Fatalf("300 idle streams added %d goroutines", grew)
	}
}
