package jetstream

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/core"
	"github.com/starling-mq/starling/internal/jsapi"
)

// startManager runs JetStream on a core server that does not listen and
// returns the global account's: the tests call the API handlers directly.
func startManager(t *testing.T) *jsAccount {
	t.Helper()
	srv, err := core.New(core.Options{Host: "127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(srv, Config{StoreDir: t.TempDir()})
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

// fullDisk fails every metadata write as a full disk does, naming the
// file as the OS does.
var fullDisk = diskOps{
	mkdirAll: func(path string, _ fs.FileMode) error {
		return &fs.PathError{Op: "mkdir", Path: path, Err: syscall.ENOSPC}
	},
	writeFile: func(path string, _ []byte) error {
		return &fs.PathError{Op: "open", Path: path, Err: syscall.ENOSPC}
	},
}

func createStream(m *jsAccount, cfg string) *jsapi.ApiError {
	var c jsapi.StreamConfig
	_ = json.Unmarshal([]byte(cfg), &c)
	resp := m.streamCreate(&request{subject: "$JS.API.STREAM.CREATE." + c.Name, data: []byte(cfg)})
	return resp.(*jsapi.StreamCreateResponse).Error
}

// TestDiskFull: on a full disk a file stream is refused with an error
// that names no server path, and a memory stream, which needs no disk,
// is created and updated.
func TestDiskFull(t *testing.T) {
	m := startManager(t)
	m.disk = fullDisk
	e := createStream(m, `{"name":"F","subjects":["f"],"storage":"file"}`)
	if e == nil || e.ErrCode != uint16(jsapi.ErrStreamCreate) || e.Description != "mkdir: no space left on device" {
		t.Fatalf("file stream on a full disk: %+v", e)
	}
	if strings.Contains(e.Description, m.cfg.StoreDir) || strings.Contains(e.Description, "/") {
		t.Fatalf("error names a path: %q", e.Description)
	}
	if e := createStream(m, `{"name":"M","subjects":["m"],"storage":"memory"}`); e != nil {
		t.Fatalf("memory stream on a full disk: %+v", e)
	}
	if ent := m.lookup("M"); ent == nil {
		t.Fatal("memory stream not created")
	}
	resp := m.streamUpdate(&request{subject: "$JS.API.STREAM.UPDATE.M", data: []byte(`{"name":"M","subjects":["m","m2"],"storage":"memory"}`)})
	if e := resp.(*jsapi.StreamUpdateResponse).Error; e != nil {
		t.Fatalf("memory stream update on a full disk: %+v", e)
	}
}

// TestScrubPaths: the last guard removes the store directory from any
// error description.
func TestScrubPaths(t *testing.T) {
	m := &jsAccount{Manager: &Manager{cfg: Config{StoreDir: "/srv/starling/js"}, log: slog.New(slog.DiscardHandler)}}
	e := jsapi.NewError(jsapi.ErrStreamCreate, &fs.PathError{Op: "stat", Path: filepath.Join("/srv/starling/js", "streams", "S"), Err: syscall.EIO})
	m.scrubPaths(e)
	if strings.Contains(e.Description, "/srv/starling") {
		t.Fatalf("path kept: %q", e.Description)
	}
}
