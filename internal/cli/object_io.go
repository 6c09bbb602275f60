package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Transfers for `object put` and `object get`. An object can be far larger
// than one request, so a whole transfer is not bounded by --timeout;
// instead it must make progress: a gap of more than --timeout between two
// reads cancels it.

// idleCancel is a context cancelled when touch has not been called for
// timeout.
type idleCancel struct {
	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer
	timeout time.Duration
	fired   atomic.Bool
}

func newIdleCancel(parent context.Context, timeout time.Duration) *idleCancel {
	ctx, cancel := context.WithCancel(parent)
	ic := &idleCancel{ctx: ctx, cancel: cancel, timeout: timeout}
	ic.timer = time.AfterFunc(timeout, func() {
		ic.fired.Store(true)
		cancel()
	})
	return ic
}

func (ic *idleCancel) touch() { ic.timer.Reset(ic.timeout) }

func (ic *idleCancel) stop() {
	ic.timer.Stop()
	ic.cancel()
}

// explain replaces the cancellation an idle transfer ends with by a line
// saying why.
func (ic *idleCancel) explain(err error) error {
	if err != nil && ic.fired.Load() {
		return fmt.Errorf("transfer stalled: no progress within %v (--timeout)", ic.timeout)
	}
	return err
}

// reader calls touch on every read that moves data.
func (ic *idleCancel) reader(r io.Reader) io.Reader { return &touchReader{r: r, ic: ic} }

type touchReader struct {
	r  io.Reader
	ic *idleCancel
}

func (t *touchReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.ic.touch()
	}
	return n, err
}

// writeFileAtomic copies r into path through a temporary file in the same
// directory, synced and renamed into place only when r ends without error
// (for an object, after the client has checked its digest), so a failed
// download never leaves a partial file under the real name.
func writeFileAtomic(path string, r io.Reader) (written int64, err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".part*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // already failing: the first error is the one to report
			_ = os.Remove(tmp.Name())
		}
	}()
	if written, err = io.Copy(tmp, r); err != nil {
		return written, err
	}
	if err = tmp.Sync(); err != nil {
		return written, err
	}
	if err = tmp.Close(); err != nil {
		return written, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return written, err
	}
	return written, syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return d.Close()
}
