package consumer

import (
	"container/heap"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The scheduler runs every consumer's deliveries on a small shared pool
// of workers, so a consumer with nothing to do costs no goroutine and no
// timer of its own: it is a few hundred bytes of state plus, at most, one
// entry in the scheduler's timer heap and one in an interest watch list.
//
// A consumer is queued to run (FIFO) when something may let a message out:
// a stored message, a pull request, an ack, its next deadline (ack wait,
// heartbeat, request expiry, pause end, inactivity), or a change of
// subscriptions it watches. A worker takes the head of the queue and runs
// one turn of it, which delivers at most deliverBurst messages; a consumer
// with more to send queues itself again at the tail, so a large backlog
// shares the workers with everyone else instead of holding one.
//
// Workers are started when work is queued and end when the queue is empty:
// an idle server runs no scheduler goroutine at all. Timers are one heap
// with one runtime timer armed for its earliest entry.
//
// Locking: scheduler.mu is a leaf. It is never held while a turn runs or
// while calling into a consumer; a consumer may call wake with its own
// lock held.

// minWorkers is the smallest pool: one slow turn (a large message loaded
// from disk) must not hold every delivery on a 1- or 2-core machine.
const minWorkers = 4

// interestPoll is how often the scheduler checks whether subscriptions
// changed, for consumers that wait on interest (a push consumer's
// subscriber coming or going, a pull request's client leaving).
const interestPoll = 250 * time.Millisecond

// interestGen is implemented by an Outlet that can say cheaply whether any
// subscription changed since it last answered (a generation number). An
// Outlet without it makes the scheduler wake its watchers every poll.
type interestGen interface {
	InterestGen() uint64
}

// task is what the scheduler runs: a consumer, or a test's stand-in.
type task interface {
	slot() *slot
	// turn runs once and says when the task must run again (a time.Now
	// unix ns, 0 for no deadline) and whether it waits on interest.
	turn() turnResult
}

type turnResult struct {
	next  int64
	watch bool
	// gen is the Outlet's InterestGen read before the turn looked at
	// interest (hasGen: the Outlet has one). A subscription that went in
	// between is missed by the turn and by a watch group whose mark is
	// already past it: the group's mark is moved back to gen, so the next
	// poll wakes it.
	gen    uint64
	hasGen bool
}

// slot is a task's bookkeeping in the scheduler, guarded by scheduler.mu
// (recheck excepted).
type slot struct {
	queued   bool  // in the run queue
	running  bool  // a worker runs its turn now
	again    bool  // woken while running: queue it once the turn ends
	stopped  bool  // removed: never runs again
	hidx     int   // index in the timer heap, -1 when absent
	at       int64 // when due, while in the heap
	watching bool
	group    any // key of its watch group (the Outlet), when watching
	// recheck is set when the task was woken because subscriptions
	// changed, so the turn checks interest it would otherwise check less
	// often.
	recheck atomic.Bool
}

// watchGroup is the tasks watching interest through one Outlet.
type watchGroup struct {
	gen     interestGen // nil: cannot tell, wake every poll
	last    uint64
	members map[task]struct{}
}

// scheduler is the shared pool. Its zero value is not usable: see
// newScheduler.
type scheduler struct {
	mu       sync.Mutex
	ended    *sync.Cond // a turn ended (Stop waits for a running one)
	max      int
	workers  int
	runq     []task
	head     int
	timers   timerHeap
	timer    *time.Timer
	timerAt  int64 // when timer fires, 0 when stopped
	groups   map[any]*watchGroup
	watchers int
	poll     *time.Timer
	polling  bool
	pollGap  time.Duration
	now      func() int64
	maxQueue int // high-water mark of the run queue, for tests
}

func newScheduler(workers int, pollGap time.Duration) *scheduler {
	s := &scheduler{max: max(workers, 1), groups: map[any]*watchGroup{}, pollGap: pollGap,
		now: func() int64 { return time.Now().UnixNano() }}
	s.ended = sync.NewCond(&s.mu)
	return s
}

// shared is the scheduler every consumer uses.
var shared = newScheduler(max(runtime.GOMAXPROCS(0), minWorkers), interestPoll)

// wake queues t to run soon. Safe from any goroutine, with any lock held
// that a turn never waits for.
func (s *scheduler) wake(t task) {
	s.mu.Lock()
	s.wakeLocked(t)
	s.mu.Unlock()
}

func (s *scheduler) wakeLocked(t task) {
	sl := t.slot()
	switch {
	case sl.stopped, sl.queued:
	case sl.running:
		sl.again = true
	default:
		sl.queued = true
		s.runq = append(s.runq, t)
		s.maxQueue = max(s.maxQueue, len(s.runq)-s.head)
		if s.workers < s.max {
			s.workers++
			go s.work()
		}
	}
}

// remove stops t for good, waiting for a turn of it in progress. It must
// not be called from t's own turn.
func (s *scheduler) remove(t task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := t.slot()
	sl.stopped = true
	s.unwatchLocked(t)
	if sl.hidx >= 0 {
		heap.Remove(&s.timers, sl.hidx)
		s.armLocked()
	}
	for sl.running {
		s.ended.Wait()
	}
}

// work runs queued turns until the queue is empty.
func (s *scheduler) work() {
	s.mu.Lock()
	for {
		t := s.popLocked()
		if t == nil {
			s.workers--
			s.mu.Unlock()
			return
		}
		sl := t.slot()
		sl.queued = false
		if sl.stopped {
			continue
		}
		sl.running = true
		s.mu.Unlock()
		r := t.turn()
		s.mu.Lock()
		sl.running = false
		if sl.stopped {
			s.ended.Broadcast()
			continue
		}
		s.setWatchLocked(t, r.watch)
		if r.watch && r.hasGen {
			if g := s.groups[sl.group]; g != nil && g.gen != nil && r.gen < g.last {
				// The group's mark is past what the turn saw (generations
				// only grow): move it back so the next poll wakes the
				// group, this task included. Never forward, which would
				// hide a change from the other members.
				g.last = r.gen
			}
		}
		s.setTimerLocked(t, r.next)
		if sl.again {
			sl.again = false
			s.wakeLocked(t)
		}
	}
}

func (s *scheduler) popLocked() task {
	if s.head == len(s.runq) {
		s.runq, s.head = s.runq[:0], 0
		return nil
	}
	t := s.runq[s.head]
	s.runq[s.head] = nil
	s.head++
	if s.head > 1024 && s.head*2 > len(s.runq) {
		// Reuse the front of the slice instead of growing it forever.
		n := copy(s.runq, s.runq[s.head:])
		clear(s.runq[n:])
		s.runq, s.head = s.runq[:n], 0
	}
	return t
}

// setTimerLocked makes t due at 'at' (0: no deadline).
func (s *scheduler) setTimerLocked(t task, at int64) {
	sl := t.slot()
	switch {
	case at == 0 && sl.hidx < 0:
		return
	case at == 0:
		heap.Remove(&s.timers, sl.hidx)
	case sl.hidx >= 0:
		sl.at = at
		heap.Fix(&s.timers, sl.hidx)
	default:
		sl.at = at
		heap.Push(&s.timers, t)
	}
	s.armLocked()
}

// armLocked points the runtime timer at the earliest deadline.
func (s *scheduler) armLocked() {
	if len(s.timers) == 0 {
		if s.timer != nil && s.timerAt != 0 {
			s.timer.Stop()
			s.timerAt = 0
		}
		return
	}
	at := s.timers[0].slot().at
	if at == s.timerAt {
		return
	}
	s.timerAt = at
	d := time.Duration(at - s.now())
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.fire)
		return
	}
	s.timer.Reset(d)
}

// fire queues every task whose deadline passed.
func (s *scheduler) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.timerAt = 0
	for len(s.timers) > 0 && s.timers[0].slot().at <= now {
		t := heap.Pop(&s.timers).(task)
		s.wakeLocked(t)
	}
	s.armLocked()
}

// setWatchLocked adds t to (or removes it from) its Outlet's watch group.
func (s *scheduler) setWatchLocked(t task, on bool) {
	sl := t.slot()
	if !on {
		s.unwatchLocked(t)
		return
	}
	if sl.watching {
		return
	}
	key := any(nil)
	var gen interestGen
	if c, ok := t.(*Consumer); ok {
		key = c.out
		gen, _ = c.out.(interestGen)
	}
	g := s.groups[key]
	if g == nil {
		g = &watchGroup{gen: gen, members: map[task]struct{}{}}
		if gen != nil {
			g.last = gen.InterestGen()
		}
		s.groups[key] = g
	}
	g.members[t] = struct{}{}
	sl.watching, sl.group = true, key
	s.watchers++
	if !s.polling {
		s.polling = true
		if s.poll == nil {
			s.poll = time.AfterFunc(s.pollGap, s.pollInterest)
		} else {
			s.poll.Reset(s.pollGap)
		}
	}
}

func (s *scheduler) unwatchLocked(t task) {
	sl := t.slot()
	if !sl.watching {
		return
	}
	if g := s.groups[sl.group]; g != nil {
		delete(g.members, t)
		if len(g.members) == 0 {
			delete(s.groups, sl.group)
		}
	}
	sl.watching, sl.group = false, nil
	s.watchers--
}

// pollInterest wakes the watchers of every Outlet whose subscriptions
// changed since the last poll.
func (s *scheduler) pollInterest() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		if g.gen != nil {
			cur := g.gen.InterestGen()
			if cur == g.last {
				continue
			}
			g.last = cur
		}
		for t := range g.members {
			t.slot().recheck.Store(true)
			s.wakeLocked(t)
		}
	}
	s.polling = s.watchers > 0
	if s.polling {
		s.poll.Reset(s.pollGap)
	}
}

// timerHeap orders tasks by deadline.
type timerHeap []task

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].slot().at < h[j].slot().at }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].slot().hidx = i
	h[j].slot().hidx = j
}
func (h *timerHeap) Push(x any) {
	t := x.(task)
	t.slot().hidx = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.slot().hidx = -1
	return t
}
