package jetstream

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/vfs"
)

// startManagerOn runs JetStream on fsys, as startManager does on disk.
func startManagerOn(t *testing.T, fsys vfs.FS, storeDir string) *jsAccount {
	t.Helper()
	srv, err := core.New(core.Options{Host: "127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(srv, Config{StoreDir: storeDir, FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return m.account(globalAccount)
}

// TestEveryFileThroughVFS: JetStream on a memory file system keeps
// nothing on the real disk, and what it made durable — a stream's
// configuration and messages, a durable consumer's configuration and
// acknowledged state — survives a simulated crash (only synced data and
// directory entries kept).
func TestEveryFileThroughVFS(t *testing.T) {
	const storeDir = "/nonexistent-starling-vfs-test/store"
	mem := vfs.NewMem()
	m := startManagerOn(t, mem, storeDir)
	if e := createStream(m, `{"name":"S","subjects":["s.>"],"storage":"file"}`); e != nil {
		t.Fatal(e)
	}
	ent := m.lookup("S")
	for range 5 {
		ent.s.Ingest("s.a", "", nil, []byte("x"))
	}
	if err := ent.s.Store().Sync(); err != nil {
		t.Fatal(err)
	}
	resp := m.consumerCreate(&request{subject: "$JS.API.CONSUMER.CREATE.S.D", data: []byte(`{"stream_name":"S","config":{"durable_name":"D","ack_policy":"explicit"}}`)})
	if b, _ := json.Marshal(resp); resp.(*jsapi.ConsumerCreateResponse).Error != nil {
		t.Fatalf("consumer: %s", b)
	}
	if _, err := os.Stat("/nonexistent-starling-vfs-test"); !os.IsNotExist(err) {
		t.Fatalf("JetStream wrote to the real disk: %v", err)
	}

	crashed := mem.CrashClone()
	m2 := startManagerOn(t, crashed, storeDir)
	ent2 := m2.lookup("S")
	if ent2 == nil {
		t.Fatal("stream not recovered after the crash")
	}
	if n := ent2.s.Store().State().Msgs; n != 5 {
		t.Fatalf("recovered %d messages, want 5", n)
	}
	if c := ent2.consumer("D"); c == nil {
		t.Fatal("durable consumer not recovered after the crash")
	}
}
