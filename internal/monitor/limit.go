package monitor

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Expensive endpoints (/connz, /subsz, /jsz, /metrics) build a response
// whose size grows with the server's connections, subscriptions and
// streams. Each costs memory while it runs, so only a few run at once;
// the others wait for a turn. nats-server runs them all at once (and
// peaks at twice Starling's memory under a burst); waiting keeps its
// answers while bounding the memory.
const (
	// DefaultMaxConcurrent is how many expensive requests run at once.
	DefaultMaxConcurrent = 4
	// DefaultQueueWait is how long a request waits for its turn before
	// it is answered 503 Service Unavailable.
	DefaultQueueWait = 10 * time.Second
)

// limiter is a counting semaphore with a bounded wait.
type limiter struct {
	slots chan struct{}
	wait  time.Duration
	busy  atomic.Int32
	peak  atomic.Int32 // most requests ever running at once, for tests
}

func newLimiter(n int, wait time.Duration) *limiter {
	return &limiter{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// acquire takes a turn, giving up when the wait passes or the client
// goes away. It reports whether the caller may run.
func (l *limiter) acquire(r *http.Request) bool {
	select {
	case l.slots <- struct{}{}:
	default:
		t := time.NewTimer(l.wait)
		defer t.Stop()
		select {
		case l.slots <- struct{}{}:
		case <-t.C:
			return false
		case <-r.Context().Done():
			return false
		}
	}
	n := l.busy.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return true
}

func (l *limiter) release() {
	l.busy.Add(-1)
	<-l.slots
}

// limited runs h when a turn is free, or answers 503.
func (m *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !m.heavy.acquire(r) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("monitoring is busy: too many concurrent requests"))
			return
		}
		defer m.heavy.release()
		h(w, r)
	}
}
