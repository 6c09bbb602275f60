package jetstream

import (
	"fmt"
	"runtime"

	"github.com/starling-mq/starling/internal/filestore"
)

// Bounds of the default max_open_files.
const (
	minDefaultOpenFiles = 64
	maxDefaultOpenFiles = 4096
)

// DefaultMaxOpenFiles is the bound on idle open store files when
// max_open_files is not set, for a process whose descriptor limit
// (RLIMIT_NOFILE, soft) is limit (0: unknown): a quarter of it, so three
// quarters stay for client connections, the listeners and short-lived
// files, within [64, 4096]. Below 64 stores would reopen files on most
// operations; above 4096 the handles kept open buy little (a reopen costs
// microseconds) and the kernel memory grows.
func DefaultMaxOpenFiles(limit uint64) int {
	if limit == 0 {
		return filestore.DefaultMaxOpenFiles
	}
	return int(min(max(limit/4, minDefaultOpenFiles), maxDefaultOpenFiles))
}

// storeWorkers is how many goroutines at most run the file streams' group
// commits, timed syncs and maintenance, for all streams together (idle
// streams cost none). Commits wait on fsync, not on the CPU, so several per
// core keep a busy disk's queue full.
func storeWorkers() int { return min(64, max(16, 4*runtime.GOMAXPROCS(0))) }

// maxOpenFiles returns the bound to use: configured (0: the default for
// the process's limit), refused when it leaves no descriptors for
// anything else.
func maxOpenFiles(configured int, limit uint64) (int, error) {
	if configured == 0 {
		return DefaultMaxOpenFiles(limit), nil
	}
	if configured < filestore.MinMaxOpenFiles {
		return 0, fmt.Errorf("jetstream: max_open_files %d is below the minimum %d", configured, filestore.MinMaxOpenFiles)
	}
	if limit > 0 && uint64(configured) > limit/2 {
		return 0, fmt.Errorf("jetstream: max_open_files %d is more than half the process's descriptor limit %d: clients and listeners would run out; raise the limit (ulimit -n) or lower max_open_files", configured, limit)
	}
	return configured, nil
}
