package consumer

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/store"
)

// fakeTask is a scheduler stand-in that records its turns; its behaviour
// per turn is a function the test sets.
type fakeTask struct {
	sl   slot
	mu   sync.Mutex
	runs int
	fn   func(n int) turnResult // n: this turn's number, from 1
}

func newFakeTask(fn func(int) turnResult) *fakeTask {
	t := &fakeTask{fn: fn}
	t.sl.hidx = -1
	return t
}

func (f *fakeTask) slot() *slot { return &f.sl }

func (f *fakeTask) turn() turnResult {
	f.mu.Lock()
	f.runs++
	n := f.runs
	f.mu.Unlock()
	if f.fn == nil {
		return turnResult{}
	}
	return f.fn(n)
}

func (f *fakeTask) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs
}

// eventually polls cond until it holds (bounded).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *scheduler) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workers == 0 && s.head == len(s.runq)
}

// TestSchedulerFairness: a task with an endless backlog (it queues itself
// again after every turn, as a consumer does after deliverBurst messages)
// does not keep a woken task waiting for more than one of its turns.
func TestSchedulerFairness(t *testing.T) {
	s := newScheduler(1, time.Hour)
	var busy *fakeTask
	stop := make(chan struct{})
	busy = newFakeTask(func(int) turnResult {
		select {
		case <-stop:
		default:
			s.wake(busy) // more backlog: to the back of the queue
		}
		return turnResult{}
	})
	var quietAt []int
	var mu sync.Mutex
	quiet := newFakeTask(func(int) turnResult {
		mu.Lock()
		quietAt = append(quietAt, busy.count())
		mu.Unlock()
		return turnResult{}
	})
	s.wake(busy)
	for i := range 20 {
		// Count from the moment quiet is queued (the lock may be contended
		// for a while before that).
		s.mu.Lock()
		before := busy.count()
		s.wakeLocked(quiet)
		s.mu.Unlock()
		eventually(t, "the quiet task's turn", func() bool { return quiet.count() == i+1 })
		mu.Lock()
		waited := quietAt[i] - before
		mu.Unlock()
		if waited > 2 {
			t.Fatalf("woken task waited %d turns of the busy one", waited)
		}
	}
	close(stop)
	eventually(t, "the pool to drain", s.idle)
}

// TestSchedulerBoundedWorkers: many tasks woken at once never run on more
// workers than the pool has, and the workers end when the queue is empty.
func TestSchedulerBoundedWorkers(t *testing.T) {
	const workers = 3
	s := newScheduler(workers, time.Hour)
	var mu sync.Mutex
	active, peak := 0, 0
	tasks := make([]*fakeTask, 200)
	for i := range tasks {
		tasks[i] = newFakeTask(func(int) turnResult {
			mu.Lock()
			active++
			peak = max(peak, active)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			active--
			mu.Unlock()
			return turnResult{}
		})
	}
	for _, tk := range tasks {
		s.wake(tk)
	}
	eventually(t, "every task to run", func() bool {
		for _, tk := range tasks {
			if tk.count() == 0 {
				return false
			}
		}
		return true
	})
	eventually(t, "the pool to drain", s.idle)
	if peak > workers || peak == 0 {
		t.Fatalf("peak concurrency %d with %d workers", peak, workers)
	}
}

// TestSchedulerTimers: a turn's deadline brings the task back once; a turn
// without one leaves the heap empty (no timer for an idle task).
func TestSchedulerTimers(t *testing.T) {
	s := newScheduler(2, time.Hour)
	tk := newFakeTask(func(n int) turnResult {
		if n < 3 {
			return turnResult{next: time.Now().Add(5 * time.Millisecond).UnixNano()}
		}
		return turnResult{}
	})
	s.wake(tk)
	eventually(t, "three turns", func() bool { return tk.count() == 3 })
	eventually(t, "the pool to drain", s.idle)
	s.mu.Lock()
	n := len(s.timers)
	s.mu.Unlock()
	if n != 0 || tk.count() != 3 {
		t.Fatalf("%d timers left, %d turns", n, tk.count())
	}
}

// TestSchedulerInterestPoll: a watching task is woken by the interest
// poll, with recheck set, and stops being woken once it no longer
// watches.
func TestSchedulerInterestPoll(t *testing.T) {
	s := newScheduler(2, 5*time.Millisecond)
	var rechecks int
	var mu sync.Mutex
	var tk *fakeTask
	tk = newFakeTask(func(n int) turnResult {
		if tk.sl.recheck.Swap(false) {
			mu.Lock()
			rechecks++
			mu.Unlock()
		}
		return turnResult{watch: n < 3}
	})
	s.wake(tk)
	eventually(t, "three turns", func() bool { return tk.count() == 3 })
	eventually(t, "the poll to stop", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.polling && s.watchers == 0
	})
	mu.Lock()
	defer mu.Unlock()
	if rechecks != 2 {
		t.Fatalf("%d turns woken by the poll, want 2", rechecks)
	}
}

// TestSchedulerRemoveWaits: remove returns only after a running turn
// ended, and the task never runs again.
func TestSchedulerRemoveWaits(t *testing.T) {
	s := newScheduler(1, time.Hour)
	started, release := make(chan struct{}), make(chan struct{})
	tk := newFakeTask(func(n int) turnResult {
		if n == 1 {
			close(started)
			<-release
		}
		return turnResult{next: time.Now().UnixNano()}
	})
	s.wake(tk)
	<-started
	removed := make(chan struct{})
	go func() {
		s.remove(tk)
		close(removed)
	}()
	select {
	case <-removed:
		t.Fatal("remove returned during the turn")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-removed
	s.wake(tk)
	eventually(t, "the pool to drain", s.idle)
	if tk.count() != 1 {
		t.Fatalf("%d turns after remove", tk.count())
	}
}

// TestIdleConsumersCostNoGoroutine: a thousand idle consumers (push with a
// subscriber, pull with and without a waiting request) leave no goroutine
// running once their first turns are done, and still deliver.
func TestIdleConsumersCostNoGoroutine(t *testing.T) {
	src := &fakeSource{st: store.NewMemory()}
	out := &stableOut{fakeOut{interest: true}}
	eventually(t, "the shared pool to drain", shared.idle)
	before := runtime.NumGoroutine()
	var cons []*Consumer
	for i := range 1000 {
		cfg := jsapi.ConsumerConfig{Durable: fmt.Sprint("c", i), AckPolicy: jsapi.AckExplicit}
		if i%2 == 0 {
			cfg.DeliverSubject = fmt.Sprint("d.", i)
		}
		cfg, e := Normalize(cfg, jsapi.StreamConfig{Name: "S"}, false)
		if e != nil {
			t.Fatal(e)
		}
		c := New(cfg.Name, cfg, Options{Source: src, Out: out})
		t.Cleanup(c.Stop)
		if i%4 == 1 {
			c.Pull(fmt.Sprint("r.", i), jsapi.NextRequest{Batch: 1, Expires: time.Minute})
		}
		cons = append(cons, c)
	}
	eventually(t, "the shared pool to drain", shared.idle)
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Fatalf("%d goroutines with 1000 idle consumers, %d before", n, before)
	}
	src.add("a", "x")
	// Every push consumer (500) and every pull consumer with a request
	// (250) gets the message.
	got := waitFor(t, &out.fakeOut, 750)
	if len(got) != 750 {
		t.Fatalf("%d deliveries, want 750", len(got))
	}
}

// stableOut is a fakeOut whose subscriptions never change.
type stableOut struct{ fakeOut }

func (*stableOut) InterestGen() uint64 { return 1 }

// TestNoBusyWaitWithoutSubscriber: a push consumer with idle heartbeats
// whose subscriber is gone cannot send them, and asks for no deadline
// already past (which would bring it back every millisecond): it waits
// for interest instead.
func TestNoBusyWaitWithoutSubscriber(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_000_000, 0)}
	src := &fakeSource{st: store.NewMemory()}
	out := &fakeOut{interest: false}
	cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "h", DeliverSubject: "d", AckPolicy: jsapi.AckExplicit,
		Heartbeat: 100 * time.Millisecond}, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	c := New("h", cfg, Options{Source: src, Out: out, Now: clk.now})
	t.Cleanup(c.Stop)
	for _, advance := range []time.Duration{0, time.Second, time.Hour} {
		clk.advance(advance)
		c.mu.Lock()
		next, _ := c.deliverLocked()
		c.takeOutboxLocked()
		c.mu.Unlock()
		if now := clk.now().UnixNano(); next != 0 && next <= now {
			t.Fatalf("after +%v: next deadline %d is not after now %d", advance, next, now)
		}
	}
}

// genOut is a fakeOut with a subscription generation. Armed, the second
// InterestGen call from then on (the scheduler's, as it starts watching
// the consumer after a turn that read the generation first and then saw
// interest) stands for the pull request's subscriber leaving in between:
// interest goes, and the generation moves on before it is read.
type genOut struct {
	fakeOut
	gmu   sync.Mutex
	gen   uint64
	gone  bool
	calls int // InterestGen calls since armed; -1 when not armed
}

func (o *genOut) InterestGen() uint64 {
	o.gmu.Lock()
	defer o.gmu.Unlock()
	if o.calls >= 0 {
		if o.calls++; o.calls == 2 {
			o.gone, o.calls = true, -1
			o.gen++
		}
	}
	return o.gen
}

func (o *genOut) HasInterest(string) bool {
	o.gmu.Lock()
	defer o.gmu.Unlock()
	return !o.gone
}

// TestWatchAfterInterestGone: a subscriber that leaves between a turn's
// look at the generation and the scheduler's watch of the consumer is
// still noticed (its request dropped), not missed until the request
// expires: the watch group's mark moves back to what the turn saw.
func TestWatchAfterInterestGone(t *testing.T) {
	src := &fakeSource{st: store.NewMemory()}
	out := &genOut{gen: 5, calls: -1}
	cfg, e := Normalize(jsapi.ConsumerConfig{Durable: "W", AckPolicy: jsapi.AckExplicit}, jsapi.StreamConfig{Name: "S"}, false)
	if e != nil {
		t.Fatal(e)
	}
	c := New(cfg.Name, cfg, Options{Source: src, Out: out})
	t.Cleanup(c.Stop)
	out.gmu.Lock()
	out.calls = 0 // the next turn's read, then the leave as it is watched
	out.gmu.Unlock()
	c.Pull("inbox", jsapi.NextRequest{Batch: 1, Expires: time.Hour})
	eventually(t, "the abandoned request dropped", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.waiting) == 0
	})
}
