package filestore

import (
	"sync"
	"sync/atomic"
	"time"
)

// A store's background work (group commits, timed syncs, write-outs that
// end a hold, segment maintenance) runs on a Workers pool shared by the
// stores of a server, not on goroutines of its own: a store with nothing
// to do costs no goroutine, and the pool's goroutines exist only while
// some store has work. A store has two lanes, syncing and maintenance, so
// a segment rewrite never delays a group commit; each lane is queued at
// most once and run by one worker at a time, so its work stays serial as
// it was on a goroutine of its own, and the queue is bounded by twice the
// number of stores.

// Work a store asks the pool for (lane.work bits).
const (
	workSync  uint32 = 1 << iota // a Durable waits: commit (sync unless an interval is set)
	workFlush                    // write the buffer out, no sync
	workTick                     // the sync interval elapsed: commit with sync
	workMaint                    // segments wait for maintenance
	workIndex                    // the index timer fired (checkpoint.go)
)

// DefaultWorkers is the size of a store's own pool when Config.Workers is
// nil.
const DefaultWorkers = 2

// Workers runs stores' background work on at most max goroutines.
type Workers struct {
	max int

	mu      sync.Mutex
	queue   []*lane
	running int
}

// lane is one kind of a store's background work.
type lane struct {
	s      *Store
	work   atomic.Uint32
	inPool bool // queued or running (guarded by Workers.mu)
	run    func(bits uint32)
}

// NewWorkers returns a pool of at most n (at least 1) goroutines.
func NewWorkers(n int) *Workers { return &Workers{max: max(n, 1)} }

// Running returns how many goroutines the pool has now.
func (w *Workers) Running() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.running
}

// schedule asks for work on s.
func (s *Store) schedule(bits uint32) {
	l := &s.syncLane
	if bits&(workMaint|workIndex) != 0 {
		l = &s.maintLane
	}
	l.work.Or(bits)
	s.cfg.Workers.enqueue(l)
}

// enqueue queues l unless it is queued or running already (the run
// requeues it if work came in meanwhile), or its store is not started or
// stopping.
func (w *Workers) enqueue(l *lane) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if l.inPool || !l.s.started || l.s.stopping {
		return
	}
	w.pushLocked(l)
}

func (w *Workers) pushLocked(l *lane) {
	l.inPool = true
	l.s.jobs.Add(1)
	w.queue = append(w.queue, l)
	if w.running < w.max {
		w.running++
		go w.serve()
	}
}

// serve runs lanes until the queue is empty.
func (w *Workers) serve() {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.running--
			w.mu.Unlock()
			return
		}
		l := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		if len(w.queue) == 0 {
			w.queue = nil // let the backing array go
		}
		w.mu.Unlock()

		if bits := l.work.Swap(0); bits != 0 && !l.s.quitting() {
			l.run(bits)
		}

		w.mu.Lock()
		l.inPool = false
		if l.work.Load() != 0 && !l.s.stopping {
			w.pushLocked(l)
		}
		w.mu.Unlock()
		l.s.jobs.Done()
	}
}

func (s *Store) quitting() bool {
	select {
	case <-s.quit:
		return true // Close commits what is left
	default:
		return false
	}
}

// initLanes prepares s's lanes; work asked for before start waits.
func (s *Store) initLanes() {
	s.syncLane.s, s.syncLane.run = s, s.runSync
	s.maintLane.s, s.maintLane.run = s, s.runMaint
}

// start lets the pool run s's work (the work asked for during recovery
// included).
func (s *Store) start() {
	w := s.cfg.Workers
	w.mu.Lock()
	s.started = true
	w.mu.Unlock()
	if s.cfg.SyncInterval > 0 {
		s.mu.Lock()
		s.tick = time.AfterFunc(s.cfg.SyncInterval, s.onTick)
		s.mu.Unlock()
	}
	for _, l := range []*lane{&s.syncLane, &s.maintLane} {
		if l.work.Load() != 0 {
			w.enqueue(l)
		}
	}
}

// onTick runs on the timer's goroutine for a moment: it asks for a timed
// sync and sets the next tick.
func (s *Store) onTick() {
	s.schedule(workTick)
	s.mu.Lock()
	if !s.closed {
		s.tick.Reset(s.cfg.SyncInterval)
	}
	s.mu.Unlock()
}

// stop ends the pool's work for s: nothing is queued after it, and it
// returns once a run in progress is over. s.quit must be closed, so such
// a run stops early.
func (s *Store) stop() {
	s.mu.Lock()
	if s.tick != nil {
		s.tick.Stop()
	}
	s.mu.Unlock()
	w := s.cfg.Workers
	w.mu.Lock()
	s.stopping = true
	w.mu.Unlock()
	s.jobs.Wait()
}

// runSync commits: with a sync for a Durable (unless an interval is set)
// or a tick, without for a write-out.
func (s *Store) runSync(bits uint32) {
	doSync := bits&workTick != 0 || (bits&workSync != 0 && s.cfg.SyncInterval == 0)
	s.syncMu.Lock()
	ws, _ := s.commit(doSync)
	s.syncMu.Unlock()
	fire(ws)
}

// runMaint works through the maintenance queue and then answers the
// waitMaintenance calls made before it started.
func (s *Store) runMaint(bits uint32) {
	if bits&workIndex != 0 {
		s.indexTick()
	}
	s.mu.Lock()
	done := s.maintDone
	s.maintDone = nil
	s.mu.Unlock()
	s.drainMaint()
	for _, ch := range done {
		close(ch)
	}
}

// storeWork is the scheduling state of a store.
type storeWork struct {
	syncLane, maintLane lane
	jobs                sync.WaitGroup  // lanes queued or running
	started             bool            // Open finished: work may run (guarded by Workers.mu)
	stopping            bool            // Close began: no more work runs (guarded by Workers.mu)
	tick                *time.Timer     // the sync interval's, if set (guarded by mu)
	maintDone           []chan struct{} // waitMaintenance callers (guarded by mu)
}
