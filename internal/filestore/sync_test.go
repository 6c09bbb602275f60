package filestore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/vfs"
)

// waitFor receives from ch or fails after a generous deadline (a hang
// guard, not a synchronisation sleep).
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGroupCommit: many concurrent appenders waiting for durability share
// fsyncs. The first sync is held until every appender has registered its
// waiter, so the batching is deterministic; callbacks come in order.
func TestGroupCommit(t *testing.T) {
	const n = 64
	efs := vfs.NewErrorFS(vfs.NewMem())
	s := mustOpen(t, efs, Config{})
	defer s.Close()
	base := efs.Count(vfs.OpSync)

	gate := make(chan struct{})
	var registered sync.WaitGroup
	registered.Add(n)
	efs.SetInjector(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			<-gate
		}
		return nil
	})
	var mu sync.Mutex
	var order []uint64
	var done sync.WaitGroup
	done.Add(n)
	for i := range n {
		go func() {
			seq, err := s.Append("gc", nil, []byte(fmt.Sprint(i)), int64(i), 0)
			if err != nil {
				t.Error(err)
			}
			s.Durable(seq, func(err error) {
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				order = append(order, seq)
				mu.Unlock()
				done.Done()
			})
			registered.Done()
		}()
	}
	registered.Wait()
	close(gate)
	ch := make(chan struct{})
	go func() { done.Wait(); close(ch) }()
	waitFor(t, ch, "durable callbacks")

	syncs := efs.Count(vfs.OpSync) - base
	if syncs > 4 {
		t.Fatalf("%d appenders caused %d syncs", n, syncs)
	}
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			t.Fatalf("callbacks out of order: %v", order)
		}
	}
	t.Logf("%d durable appends, %d syncs", n, syncs)
}

// TestDurableCallbackMayCallBack: callbacks run without store locks.
func TestDurableCallbackMayCallBack(t *testing.T) {
	s := mustOpen(t, vfs.NewMem(), Config{})
	defer s.Close()
	seq := mustAppend(t, s, "a", nil, []byte("x"))
	done := make(chan error, 1)
	s.Durable(seq, func(err error) {
		if err != nil {
			done <- err
			return
		}
		if _, err := s.Load(seq); err != nil {
			done <- err
			return
		}
		_ = s.State()
		next, err := s.Append("a", nil, []byte("y"), 0, 0)
		if err != nil {
			done <- err
			return
		}
		s.Durable(next, func(err error) { done <- err })
	})
	if err := waitFor(t, done, "nested durable"); err != nil {
		t.Fatal(err)
	}
	// Already durable: called at once.
	called := false
	s.Durable(seq, func(error) { called = true })
	if !called {
		t.Fatal("callback for a durable sequence not called at once")
	}
}

// TestSyncFailureIsFatal: a failed fsync fails the waiters, is never
// followed by an acknowledgement, and stops appends.
func TestSyncFailureIsFatal(t *testing.T) {
	fsys := vfs.NewMem()
	efs := vfs.NewErrorFS(fsys)
	s := mustOpen(t, efs, Config{Logger: nopLogger})
	first := mustAppend(t, s, "a", nil, []byte("ok"))
	mustSync(t, s)

	efs.SetInjector(vfs.FailNth(vfs.OpSync, 1, vfs.ErrInjected))
	second := mustAppend(t, s, "a", nil, []byte("doomed"))
	errs := make(chan error, 2)
	s.Durable(second, func(err error) { errs <- err })
	if err := waitFor(t, errs, "failed durable"); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Durable after failed sync = %v", err)
	}
	// The next sync would succeed, but nothing may be acknowledged now.
	s.Durable(second, func(err error) { errs <- err })
	if err := waitFor(t, errs, "durable on failed store"); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("second Durable = %v", err)
	}
	if _, err := s.Append("a", nil, nil, 0, 0); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Append on failed store = %v", err)
	}
	if err := s.Sync(); !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Sync on failed store = %v", err)
	}
	if _, err := s.Delete(first, false); err == nil {
		t.Fatal("Delete on failed store succeeded")
	}
	s.Durable(first, func(err error) { errs <- err })
	if err := waitFor(t, errs, "durable of synced"); err != nil {
		t.Fatalf("Durable of a message synced before the failure = %v", err)
	}
	if m, err := s.Load(first); err != nil || string(m.Data) != "ok" {
		t.Fatalf("reads after failure: %v", err)
	}
	if st := s.Stats(); st.Err == nil {
		t.Fatal("Stats.Err not set")
	}
	s.Close()

	s = mustOpen(t, fsys.CrashClone(), Config{})
	defer s.Close()
	if _, err := s.Load(first); err != nil {
		t.Fatal(err)
	}
}

// TestWriteFailureIsFatal: the same for a failed write.
func TestWriteFailureIsFatal(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	s := mustOpen(t, efs, Config{Logger: nopLogger, BufferSize: 64})
	defer s.Close()
	mustAppend(t, s, "a", nil, []byte("ok"))
	efs.SetInjector(vfs.FailAfter(vfs.OpWrite, 1, vfs.ErrInjected))
	var err error
	for range 10 { // the buffer bound forces a write
		if _, err = s.Append("a", nil, make([]byte, 100), 0, 0); err != nil {
			break
		}
	}
	if !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("Append with failing writes = %v", err)
	}
	errs := make(chan error, 1)
	s.Durable(2, func(err error) { errs <- err })
	if err := waitFor(t, errs, "durable"); err == nil {
		t.Fatal("acknowledged after a failed write")
	}
}

// TestNoSpaceIsErrFull maps ENOSPC to store.ErrFull.
func TestNoSpaceIsErrFull(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	s := mustOpen(t, efs, Config{Logger: nopLogger})
	defer s.Close()
	mustAppend(t, s, "a", nil, nil)
	efs.SetInjector(vfs.FailAfter(vfs.OpWrite, 1, errNoSpace))
	if err := s.Sync(); !errors.Is(err, store.ErrFull) {
		t.Fatalf("Sync on a full disk = %v", err)
	}
}

// TestSyncInterval: with an interval, Durable acknowledges once the data
// is written to the OS, without an fsync; a timer syncs later.
func TestSyncInterval(t *testing.T) {
	fsys := vfs.NewMem()
	efs := vfs.NewErrorFS(fsys)
	s := mustOpen(t, efs, Config{SyncInterval: 20 * time.Millisecond})
	defer s.Close()
	syncs := efs.Count(vfs.OpSync)
	var acks atomic.Int32
	done := make(chan error, 1)
	seq := mustAppend(t, s, "a", nil, []byte("x"))
	s.Durable(seq, func(err error) { acks.Add(1); done <- err })
	if err := waitFor(t, done, "ack"); err != nil {
		t.Fatal(err)
	}
	if got := len(fileBytes(t, fsys, seg1)); got == 0 {
		t.Fatal("acknowledged before the data was written to the OS")
	}
	eventually(t, 5*time.Second, func() bool { return efs.Count(vfs.OpSync) > syncs })
	if acks.Load() != 1 {
		t.Fatal("callback called more than once")
	}
}

// TestConcurrentUse runs appenders, readers, deleters and purges at once
// over small segments (so rewrites race with everything), for the race
// detector and for deadlocks; the end state must be self-consistent.
func TestConcurrentUse(t *testing.T) {
	fsys := vfs.NewMem()
	s := mustOpen(t, fsys, Config{SegmentSize: 2048, CacheBytes: 64 << 10, Logger: nopLogger})
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	run := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				f(i)
			}
		}()
	}
	var appended atomic.Int64
	for w := range 3 {
		run(func(i int) {
			seq, err := s.Append(fmt.Sprintf("c.%d.%d", w, i%5), nil, payloadFor(uint64(i)), int64(i), 0)
			if err != nil {
				t.Error(err)
				return
			}
			if appended.Add(1) >= 3000 {
				select {
				case <-stop:
				default:
					close(stop)
				}
			}
			if i%10 == 0 {
				done := make(chan error, 1)
				s.Durable(seq, func(err error) { done <- err })
				if err := <-done; err != nil {
					t.Error(err)
				}
			}
		})
	}
	rng := func(n uint64) uint64 { return uint64(time.Now().UnixNano()) % max(n, 1) }
	run(func(i int) {
		last := s.State().LastSeq
		s.Delete(rng(last)+1, i%7 == 0)
	})
	run(func(i int) {
		st := s.State()
		if m, err := s.Load(rng(st.LastSeq) + 1); err == nil && m.Subject == "" {
			t.Error("empty subject")
		}
		s.LoadNext("c.1.*", rng(st.LastSeq))
		s.LoadLast("c.2.3")
		s.NumPending(rng(st.LastSeq), "c.>", i%2 == 0)
		if _, err := s.LoadPrev(">", st.LastSeq); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Error(err)
		}
	})
	run(func(i int) {
		switch i % 3 {
		case 0:
			s.Purge(store.PurgeRequest{Subject: fmt.Sprintf("c.0.%d", i%5), Keep: 2})
		case 1:
			s.Compact(s.State().FirstSeq + 5)
		case 2:
			s.SubjectsState("c.*.1")
			s.Deleted(10)
		}
	})
	wg.Wait()
	s.waitMaintenance()
	t.Logf("%+v", s.Stats())
	st := s.State()
	var live uint64
	for q := st.FirstSeq; q <= st.LastSeq; q++ {
		if _, err := s.Load(q); err == nil {
			live++
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Load(%d): %v", q, err)
		}
	}
	if live != st.Msgs || len(st.Lost.Msgs) != 0 {
		t.Fatalf("state %+v, %d loadable", st, live)
	}
	mustClose(t, s)
	s2 := mustOpen(t, fsys.CrashClone(), Config{SegmentSize: 2048, Logger: nopLogger})
	defer s2.Close()
	if got := s2.State(); got.Msgs != st.Msgs || got.LastSeq != st.LastSeq || got.FirstSeq != st.FirstSeq {
		t.Fatalf("after reopen %+v, want %+v", got, st)
	}
}
