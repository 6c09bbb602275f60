package chaos

import "sync"

// logTail keeps the last bytes a server logged, for failure reports; its
// size is bounded whatever the server writes.
type logTail struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func newLogTail(max int) *logTail { return &logTail{max: max} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if len(l.b) > l.max {
		// Keep the newer half, so that trimming is rare.
		l.b = append(l.b[:0:0], l.b[len(l.b)-l.max/2:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
