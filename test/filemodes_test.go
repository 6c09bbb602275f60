package test

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestStoreFileModes: everything the server creates under its store
// directory (streams, durable consumers, a KV bucket, a restored stream,
// the lock file) is for the server's user only: files 0600, directories
// 0700.
func TestStoreFileModes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "store") // created by the server
	s := startJS(t, dir)
	nc := connect(t, s)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.CreateStream(c, jetstream.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := js.Publish(c, "orders.new", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := st.CreateConsumer(c, jetstream.ConsumerConfig{Durable: "billing", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := cons.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range msgs.Messages() {
		if err := m.DoubleAck(c); err != nil {
			t.Fatal(err)
		}
	}
	kv, err := js.CreateKeyValue(c, jetstream.KeyValueConfig{Bucket: "config"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(c, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	// A snapshot restored as a new stream goes through the staging area.
	snap, err := takeBackup(t, nc, "ORDERS", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(c, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreBackup(t, nc, "ORDERS", snap, 4096); err != nil {
		t.Fatal(err)
	}

	var n int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", strings.TrimPrefix(path, root), got, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d entries under the store: the test checks nothing", n)
	}
}
