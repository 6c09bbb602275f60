//go:build !unix

package storedir

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// tryLock refuses: without a lock two servers could share a store, and
// running unprotected silently is what the lock exists to prevent.
func tryLock(*os.File) error {
	return errors.New("locking the store directory is not supported on this platform")
}
