package vfs

import (
	"sync/atomic"
	"syscall"
)

// DiskFull is a switch that makes an ErrorFS's disk full: while it is on,
// every operation that may need a free block fails with ENOSPC, as a file
// system out of space answers; reads, removals and truncations (which
// free space) still work. Off again, the space has come back.
//
// It models the whole disk at once: a real file system may still accept a
// write that fits in a block already allocated, and may report the lack
// of space only at the sync of a write it had buffered, which is why a
// sync fails too.
type DiskFull struct{ on atomic.Bool }

// Set fills the disk (true) or frees it (false).
func (d *DiskFull) Set(full bool) { d.on.Store(full) }

// Full reports whether the disk is full.
func (d *DiskFull) Full() bool { return d.on.Load() }

// Injector is the injector to install on an ErrorFS.
func (d *DiskFull) Injector() Injector {
	return func(op Op, _ string) error {
		if d.on.Load() && needsSpace(op) {
			return syscall.ENOSPC
		}
		return nil
	}
}

// needsSpace reports whether op can need a new block: data written or
// synced, a directory made, a name moved into a directory.
func needsSpace(op Op) bool {
	switch op {
	case OpWrite, OpSync, OpMkdir, OpRename, OpSyncDir:
		return true
	}
	return false
}
