//go:build linux

package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes the file's data and the metadata needed to read it back
// (its size) but not timestamps: fdatasync is cheaper than fsync on every
// append and is all a log needs.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fdatasync(int(fd))
			if serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

// preallocate reserves size bytes of disk for the file without changing
// its size (FALLOC_FL_KEEP_SIZE): appends then fill blocks that are
// already allocated, so each fdatasync has less metadata to journal. On
// this machine's ext4 that halved the CPU and the latency of an
// append-and-fdatasync. Readers see nothing: the size stays what was
// written. A filesystem without fallocate, or a full disk, is not an
// error: the file grows as it did.
func preallocate(f *os.File, size int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		for unix.Fallocate(int(fd), unix.FALLOC_FL_KEEP_SIZE, 0, size) == unix.EINTR {
		}
	})
}
