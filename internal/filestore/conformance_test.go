package filestore

import (
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/store/storetest"
	"github.com/starling-mq/starling/internal/vfs"
)

// TestConformance runs the suite shared with the memory store, on the
// real filesystem.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(vfs.Default, t.TempDir(), Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, store.FileMsgSize)
}
