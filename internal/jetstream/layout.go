package jetstream

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/starling-mq/starling/internal/storedir"
	"github.com/starling-mq/starling/internal/vfs"
)

// The store directory is laid out as nats-server lays out its own, one
// level per account, so a cluster's meta data and the accounts issue's
// per-account stores have a place without another migration:
//
//	<store_dir>/jetstream/               Dir: the lock file, .restore/
//	<store_dir>/jetstream/<account>/streams/<stream>/{meta,msgs/,consumers/}
//
// A server without accounts keeps its streams in the global account ($G).

const (
	jsDir = "jetstream"
	// globalAccount is the account of a server without accounts, named as
	// nats-server names it; streams from before accounts move there.
	globalAccount = "$G"
)

// Dir is the directory JetStream owns inside the configured store
// directory (the one /jsz and /varz report, as nats-server does).
func Dir(storeDir string) string { return filepath.Join(storeDir, jsDir) }

// streamsRoot is the directory holding an account's streams.
func streamsRoot(storeDir, account string) string {
	return filepath.Join(Dir(storeDir), account, streamsDir)
}

// migrateLayout moves the streams of a store written before accounts had
// a level of their own into the global account, and reports how many it
// moved. Two earlier layouts exist:
//
//	<store_dir>/streams/<stream>             store_dir set explicitly
//	<store_dir>/jetstream/streams/<stream>   the default directory, which
//	                                         then ended in "jetstream"
//
// A directory is an earlier streams directory only if a stream's metadata
// file sits one level below it, so an account named "streams" is never
// taken for one. Each stream directory is renamed (atomic on one file
// system) and the parents synced, so a crash leaves every stream in
// exactly one of the two places; the next start finishes the move. A
// stream present in both places is refused, never merged.
func migrateLayout(fsys vfs.FS, storeDir string, log *slog.Logger) (int, error) {
	if err := oldDefaultIdle(Dir(storeDir)); err != nil {
		return 0, err
	}
	dst := streamsRoot(storeDir, globalAccount)
	moved := 0
	for _, old := range []string{filepath.Join(storeDir, streamsDir), filepath.Join(Dir(storeDir), streamsDir)} {
		names, err := oldStreams(fsys, old)
		if err != nil {
			return moved, err
		}
		if len(names) == 0 {
			continue
		}
		if err := vfs.MkdirAllSynced(fsys, dst, 0o700); err != nil {
			return moved, fmt.Errorf("jetstream: store layout: %w", err)
		}
		for _, name := range names {
			to := filepath.Join(dst, name)
			if _, err := fsys.Stat(to); err == nil {
				return moved, fmt.Errorf("jetstream: store layout: stream %q is both in %s and in %s; move one away", name, old, dst)
			}
			if err := fsys.Rename(filepath.Join(old, name), to); err != nil {
				return moved, fmt.Errorf("jetstream: store layout: %w", err)
			}
			moved++
		}
		if err := fsys.SyncDir(dst); err != nil {
			return moved, fmt.Errorf("jetstream: store layout: %w", err)
		}
		if err := fsys.SyncDir(old); err != nil {
			return moved, fmt.Errorf("jetstream: store layout: %w", err)
		}
		log.Info("streams moved to the per-account store layout", "streams", len(names), "from", old, "to", dst)
		if filepath.Dir(old) == filepath.Clean(storeDir) {
			// The earlier restore staging directory: emptied at every
			// start, so nothing in it is worth keeping.
			_ = fsys.RemoveAll(filepath.Join(storeDir, stagingDir))
		}
		// The old directory is removed only if nothing else is left in
		// it; a stray file keeps it, harmlessly.
		if ents, err := fsys.ReadDir(old); err == nil && len(ents) == 0 {
			_ = fsys.RemoveAll(old)
			_ = fsys.SyncDir(filepath.Dir(old))
		}
	}
	return moved, nil
}

// oldDefaultIdle refuses to go on while a server of the earlier default
// layout runs on the same data: it locked <store_dir>/jetstream, where this
// one locks <store_dir>. The stale lock file is left in place (see
// storedir.Lock.Release for why lock files are never removed).
func oldDefaultIdle(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, storedir.LockName)); err != nil {
		return nil
	}
	l, err := storedir.Acquire(dir)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return l.Release()
}

// oldStreams lists the stream directories under dir, an earlier layout's
// streams directory, or nothing when dir is not one.
func oldStreams(fsys vfs.FS, dir string) ([]string, error) {
	ents, err := fsys.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: store layout: %w", err)
	}
	var names []string
	for _, de := range ents {
		if !de.IsDir() {
			continue
		}
		if _, err := fsys.Stat(filepath.Join(dir, de.Name(), metaFile)); err == nil {
			names = append(names, de.Name())
		}
	}
	return names, nil
}
