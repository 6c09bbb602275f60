package jetstream

import (
	"strconv"
	"testing"
)

func TestInQueue(t *testing.T) {
	q := newInQueue(200)
	if cap := len(q.buf); cap != 0 {
		t.Fatalf("an idle queue holds a ring of %d", cap)
	}
	// Interleave pushes and pops so the ring wraps while it grows.
	next, want := 0, 0
	for round := range 3 {
		for range 120 + round*10 {
			if ok, _ := q.tryPush(inboundMsg{subject: strconv.Itoa(next)}); !ok {
				t.Fatalf("push %d refused below the bound", next)
			}
			next++
		}
		for range 100 {
			it, ok := q.pop()
			if !ok || it.subject != strconv.Itoa(want) {
				t.Fatalf("pop = %q, %v; want %d", it.subject, ok, want)
			}
			want++
		}
	}
	if got := q.queued(); got != next-want {
		t.Fatalf("queued = %d, want %d", got, next-want)
	}

	// At the bound a push is refused with a channel closed by the next pop.
	for q.queued() < q.max {
		q.tryPush(inboundMsg{subject: strconv.Itoa(next)})
		next++
	}
	ok, space := q.tryPush(inboundMsg{subject: "over"})
	if ok || space == nil {
		t.Fatal("push past the bound accepted")
	}
	select {
	case <-space:
		t.Fatal("room signalled before anything left")
	default:
	}
	if _, ok := q.pop(); !ok {
		t.Fatal("full queue empty")
	}
	want++
	select {
	case <-space:
	default:
		t.Fatal("a pop from a full queue did not signal room")
	}

	// Drained, the queue gives the burst's memory back, in order to the end.
	for {
		it, ok := q.pop()
		if !ok {
			break
		}
		if it.subject != strconv.Itoa(want) {
			t.Fatalf("pop = %q, want %d", it.subject, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d of %d", want, next)
	}
	if len(q.buf) > inQueueMin {
		t.Fatalf("drained queue keeps a ring of %d", len(q.buf))
	}
	select {
	case <-q.wake:
	default:
		t.Fatal("pushes did not wake the worker")
	}
}
