package logfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// stampLayout is nats-server's backup suffix: fixed-width fields, so that
// sorting names sorts them by age.
const stampLayout = "2006.01.02.15.04.05.000000000"

// maxNameTries bounds the search for an unused backup name.
const maxNameTries = 100

// backupName returns an unused name for the file being rotated out. Stamps
// only increase within a process, even when the local wall clock steps back
// (NTP, the end of daylight saving time), because purge deletes by name order
// and must never take the newest backup for the oldest; so the comparison is
// on the formatted stamp, and a stamp not above the last one becomes the last
// one plus a nanosecond. A name left by another process is skipped rather than
// overwritten.
func (f *File) backupName() (string, error) {
	stamp := f.now().Format(stampLayout)
	for range maxNameTries {
		if stamp <= f.lastStamp {
			last, err := time.Parse(stampLayout, f.lastStamp)
			if err != nil {
				return "", err
			}
			stamp = last.Add(time.Nanosecond).Format(stampLayout)
		}
		name := f.path + "." + stamp
		_, err := f.fs.Stat(name)
		f.lastStamp = stamp
		if errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free backup name after %d tries", maxNameTries)
}

// purge removes the oldest backups so that, with the current file, at most
// maxFiles remain. Only names of the form <path>.<stamp> count, so files
// that logrotate or an operator put beside the log (app.log.1, app.log.gz)
// are never deleted. Every removal is attempted; the errors are joined.
func (f *File) purge() error {
	dir, base := filepath.Split(f.path)
	if dir == "" {
		dir = "."
	}
	entries, err := f.fs.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("logfile: purge old logs: %w", err)
	}
	var backups []string
	for _, e := range entries {
		if !e.IsDir() && isBackup(base, e.Name()) {
			backups = append(backups, e.Name())
		}
	}
	slices.Sort(backups)
	excess := len(backups) - (f.maxFiles - 1)
	var errs []error
	for _, name := range backups[:max(excess, 0)] {
		if err := f.fs.Remove(filepath.Join(dir, name)); err != nil {
			errs = append(errs, fmt.Errorf("logfile: purge old log: %w", err))
		}
	}
	return errors.Join(errs...)
}

// isBackup reports whether name is base followed by a backup stamp.
func isBackup(base, name string) bool {
	stamp, ok := strings.CutPrefix(name, base+".")
	if !ok || len(stamp) != len(stampLayout) {
		return false
	}
	_, err := time.Parse(stampLayout, stamp)
	return err == nil
}
