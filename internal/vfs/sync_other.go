//go:build !linux

package vfs

import "os"

// datasync falls back to a full sync where fdatasync is not available
// (on darwin, os.File.Sync issues F_FULLFSYNC).
func datasync(f *os.File) error { return f.Sync() }

// preallocate does nothing where fallocate is not available.
func preallocate(*os.File, int64) {}
