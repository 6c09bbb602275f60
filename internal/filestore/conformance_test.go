package filestore

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/starling-mq/starling/internal/store"
	"github.com/starling-mq/starling/internal/store/storetest"
	"github.com/starling-mq/starling/internal/vfs"
)

// The shared conformance suite, on the real filesystem and on the memory
// one; and once more with tiny segments, a tiny cache and compression so
// the suite's operations cross segment boundaries and rewrites.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   func(t *testing.T) (vfs.FS, string)
		cfg  Config
	}{
		{"os", func(t *testing.T) (vfs.FS, string) { return vfs.Default, filepath.Join(t.TempDir(), "s") }, Config{}},
		{"mem", func(*testing.T) (vfs.FS, string) { return vfs.NewMem(), testDir }, Config{}},
		{"mem-small", func(*testing.T) (vfs.FS, string) { return vfs.NewMem(), testDir },
			Config{SegmentSize: minSegmentSize, CacheBytes: blockSize, IndexBytes: 1, Compression: "s2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				fsys, dir := tc.fs(t)
				cfg := tc.cfg
				cfg.Logger = testLogger(t)
				s, err := Open(fsys, dir, cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}, store.FileMsgSize)
		})
	}
}

// TestConformanceRestart runs the suite's restart checks on the file
// store, with default and tiny segments.
func TestConformanceRestart(t *testing.T) {
	for _, cfg := range []Config{{}, {SegmentSize: minSegmentSize, IndexBytes: 1, Compression: "s2"}} {
		t.Run(fmt.Sprint(cfg.SegmentSize), func(t *testing.T) {
			storetest.RunRestart(t, func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
				fsys := vfs.NewMem()
				open := func(t *testing.T) store.Store {
					c := cfg
					c.Logger = testLogger(t)
					s, err := Open(fsys, testDir, c)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
					return s
				}
				return open(t), open
			}, store.FileMsgSize)
		})
	}
}
