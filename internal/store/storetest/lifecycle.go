package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
)

// Durability callbacks, concurrent use, and the end of a store's life.

// durable calls Durable on another goroutine and returns the error its
// callback got. It fails the test if Durable blocks or the callback does
// not come, within waitLimit; the callback calls back into the store,
// which must not deadlock.
func durable(t *testing.T, st store.Store, seq uint64) error {
	t.Helper()
	returned, called := make(chan struct{}), make(chan error, 2)
	go func() {
		st.Durable(seq, func(err error) {
			st.State()
			called <- err
		})
		close(returned)
	}()
	timeout := time.After(waitLimit)
	var err error
	select {
	case err = <-called:
	case <-timeout:
		t.Fatalf("Durable(%d): no callback within %v", seq, waitLimit)
	}
	select {
	case <-returned:
	case <-timeout:
		t.Fatalf("Durable(%d) did not return within %v", seq, waitLimit)
	}
	select {
	case err2 := <-called:
		t.Fatalf("Durable(%d): callback called twice (%v, %v)", seq, err, err2)
	default:
	}
	return err
}

func (s suite) testDurable(t *testing.T) {
	st, _ := s.fixture(t, "a", "b", "c", "d")
	for _, seq := range []uint64{1, 4, 2, 3, 0} { // out of order, and 0: nothing to wait for
		if err := durable(t, st, seq); err != nil {
			t.Fatalf("Durable(%d): %v", seq, err)
		}
	}
	if err := st.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := durable(t, st, 4); err != nil { // already durable
		t.Fatalf("Durable(4) after Sync: %v", err)
	}

	// Many waiters at once, registered before their messages are synced:
	// each callback exactly once, all with nil.
	const n = 64
	type result struct {
		seq uint64
		err error
	}
	results := make(chan result, 2*n)
	for range n {
		seq, err := st.Append("w", nil, []byte("x"), ts(5), 0)
		if err != nil {
			t.Fatal(err)
		}
		st.Durable(seq, func(err error) { results <- result{seq, err} })
	}
	seen := map[uint64]bool{}
	timeout := time.After(waitLimit)
	for range n {
		select {
		case r := <-results:
			if r.err != nil || seen[r.seq] {
				t.Fatalf("Durable(%d) callback: %v, repeated %v", r.seq, r.err, seen[r.seq])
			}
			seen[r.seq] = true
		case <-timeout:
			t.Fatalf("%d of %d Durable callbacks within %v", len(seen), n, waitLimit)
		}
	}
}

// testConcurrent: writers append (each deleting every third message of
// its own) and wait for durability while readers query; under -race this
// checks the locking, and the end state checks nothing was lost or
// reordered.
func (s suite) testConcurrent(t *testing.T) {
	st := s.open(t)
	const writers, each, readers = 4, 150, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			subj := fmt.Sprint("w.", w)
			for i := range each {
				seq, err := st.Append(subj, nil, fmt.Appendf(nil, "%d", i), ts(uint64(i)), 0)
				if err != nil {
					t.Error(err)
					return
				}
				done := make(chan error, 1)
				st.Durable(seq, func(err error) { done <- err })
				select {
				case err = <-done:
				case <-time.After(waitLimit):
					err = fmt.Errorf("Durable(%d): no callback within %v", seq, waitLimit)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%3 == 2 {
					if ok, err := st.Delete(seq, false); !ok || err != nil {
						t.Errorf("Delete(%d) = %v, %v", seq, ok, err)
						return
					}
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for i := range each {
				subj := fmt.Sprint("w.", (r+i)%writers)
				st.LoadLast(subj)
				st.LoadNext("w.*", uint64(i))
				st.LoadPrev(subj, uint64(i*writers))
				st.Load(uint64(i))
				st.NumPending(uint64(i), subj, i%2 == 0)
				st.SubjectsState("w.>")
				st.State()
				st.Deleted(4)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	kept := each - each/3
	if got := st.State(); got.Msgs != writers*uint64(kept) || got.LastSeq != writers*each || got.NumSubjects != writers {
		t.Fatalf("State = %s, want %d msgs, last %d", fmtState(got), writers*kept, writers*each)
	}
	for w := range writers { // each writer's messages in its order
		subj, next, i := fmt.Sprint("w.", w), uint64(0), 0
		for ; i < each; i++ {
			if i%3 == 2 {
				continue
			}
			msg, err := st.LoadNext(subj, next)
			if err != nil || string(msg.Data) != fmt.Sprint(i) {
				t.Fatalf("%s message %d: %v %v", subj, i, seqOf(msg, err), err)
			}
			next = msg.Seq + 1
		}
		if _, err := st.LoadNext(subj, next); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: more messages than appended", subj)
		}
	}
}

func (s suite) testClosed(t *testing.T) {
	st, _ := s.fixture(t, "a", "b")
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for name, call := range map[string]func() error{
		"Append":   func() error { _, err := st.Append("a", nil, nil, 1, 0); return err },
		"Skip":     func() error { _, err := st.Skip(); return err },
		"Sync":     st.Sync,
		"Load":     func() error { _, err := st.Load(1); return err },
		"LoadNext": func() error { _, err := st.LoadNext(">", 0); return err },
		"LoadLast": func() error { _, err := st.LoadLast("a"); return err },
		"LoadPrev": func() error { _, err := st.LoadPrev(">", 2); return err },
		"Delete":   func() error { _, err := st.Delete(1, false); return err },
		"Purge":    func() error { _, err := st.Purge(store.PurgeRequest{}); return err },
		"Compact":  func() error { _, err := st.Compact(2); return err },
		"Close":    st.Close,
	} {
		if err := call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	durable(t, st, 2) // still answered (nil if it was durable before, or an error), never left hanging
	if err := st.Destroy(); err != nil {
		t.Fatalf("Destroy after Close: %v", err)
	}
}

func (s suite) testDestroy(t *testing.T) {
	st, _ := s.fixture(t, "a", "b")
	if err := st.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := st.Load(1); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Load after Destroy = %v, want ErrClosed", err)
	}
	if _, err := st.Append("a", nil, nil, 1, 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Append after Destroy = %v, want ErrClosed", err)
	}
}
