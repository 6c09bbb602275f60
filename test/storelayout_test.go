package test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/starling-mq/starling/server"
)

// testdata/store-flat is a store written by the release before the
// per-account layout (a file stream ORDERS with ten messages and a durable
// consumer that acknowledged four, a KV bucket, a memory stream), with its
// streams directly under the store directory.

// TestStoreLayoutMigration: such a store, under an explicit store_dir or
// the earlier default directory (which ended in "jetstream"), is moved
// into <store_dir>/jetstream/$G/streams at start and serves as before.
func TestStoreLayoutMigration(t *testing.T) {
	for _, tc := range []struct {
		name  string
		under string // where the old streams directory sits, in store_dir
	}{
		{"explicit store_dir", "."},
		{"earlier default", "jetstream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, filepath.Join("testdata", "store-flat"), filepath.Join(dir, tc.under))
			s := startJS(t, dir)
			_, js := jsConnect(t, s)
			c := ctx(t)
			st, err := js.Stream(c, "ORDERS")
			if err != nil {
				t.Fatal(err)
			}
			if n := st.CachedInfo().State.Msgs; n != 10 {
				t.Fatalf("ORDERS holds %d messages, want 10", n)
			}
			cons, err := st.Consumer(c, "ship")
			if err != nil {
				t.Fatal(err)
			}
			if f := cons.CachedInfo().AckFloor.Stream; f != 4 {
				t.Fatalf("consumer ack floor %d, want 4", f)
			}
			kv, err := js.KeyValue(c, "cfg")
			if err != nil {
				t.Fatal(err)
			}
			if e, err := kv.Get(c, "colour"); err != nil || string(e.Value()) != "blue" {
				t.Fatalf("kv get: %v", err)
			}
			if _, err := js.Stream(c, "MEM"); err != nil {
				t.Fatalf("memory stream: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "jetstream", "$G", "streams", "ORDERS", "meta")); err != nil {
				t.Fatalf("not in the account layout: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.under, "streams")); !os.IsNotExist(err) {
				t.Fatalf("old streams directory left behind: %v", err)
			}
			if _, err := js.Publish(c, "orders.1", []byte("after")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestStoreLayoutBothPlaces: a stream in the old and the new layout at
// once is a start error naming the stream, never a merge.
func TestStoreLayoutBothPlaces(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join("testdata", "store-flat"), dir)
	copyTree(t, filepath.Join("testdata", "store-flat", "streams"), filepath.Join(dir, "jetstream", "$G", "streams"))
	s, err := server.New(&server.Options{Host: "127.0.0.1", Port: server.RandomPort, JetStream: true, StoreDir: dir})
	if err == nil {
		err = s.Start()
		defer s.Shutdown(ctx(t))
	}
	if err == nil {
		t.Fatal("started with a stream in both layouts")
	}
	if !strings.Contains(err.Error(), `" is both in `+dir) {
		t.Fatalf("start error %q does not name the stream", err)
	}
}

// copyTree copies the directory src into dst (created).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
