package monitor

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// rss returns the process's resident set size in bytes, 0 if unknown.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// cpuSampler turns process CPU time into a percentage over at least a
// second, like nats-server's background sampler, but only when asked.
type cpuSampler struct {
	mu      sync.Mutex
	lastAt  time.Time
	lastCPU time.Duration
	pct     float64
}

func (c *cpuSampler) percent() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	used := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastAt.IsZero() {
		c.lastAt, c.lastCPU = now, used
		return 0
	}
	if wall := now.Sub(c.lastAt); wall >= time.Second {
		p := float64(used-c.lastCPU) / float64(wall) * 100
		c.pct = float64(int64(p*10+0.5)) / 10 // one decimal, as nats-server shows it
		c.lastAt, c.lastCPU = now, used
	}
	return c.pct
}
