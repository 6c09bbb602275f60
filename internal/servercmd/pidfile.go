package servercmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pidFile is the pid file in use, which a reload may move.
type pidFile struct{ path string }

// set moves the pid file to path ("" for none): the new one is written
// before the old one is removed, so there is always one to signal.
func (p *pidFile) set(path string) error {
	if path == p.path {
		return nil
	}
	if path != "" {
		if err := writePIDFile(path); err != nil {
			return err
		}
	}
	old := p.path
	p.path = path
	if old != "" {
		return removePIDFile(old)
	}
	return nil
}

// writePIDFile writes this process's id to path atomically (a temporary
// file renamed over it), so `--signal reload=<file>` never reads a
// half-written file.
func writePIDFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	_, werr := tmp.WriteString(strconv.Itoa(os.Getpid()))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// removePIDFile removes path if it still names this process. Another
// server started with the same pid file has overwritten it; removing its
// file would leave `--signal` with nothing to read while it still runs.
func removePIDFile(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		return nil
	}
	return os.Remove(path)
}
