package jetstream

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/consumer"
	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/snapshot"
	"github.com/starling-mq/starling/internal/vfs"
)

func TestArchiveStateRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		st   consumer.State
		want snapshot.ConsumerState
	}{
		{
			name: "fresh, delivers from 10",
			st:   consumer.State{Next: 10, FloorS: 9},
			want: snapshot.ConsumerState{Delivered: snapshot.SequencePair{Stream: 9}, AckFloor: snapshot.SequencePair{Stream: 9}},
		},
		{
			name: "pending and redelivered",
			st: consumer.State{Next: 31, Delivered: 12, LastStream: 30, FloorS: 20, FloorC: 5,
				Pending: []consumer.PendingEntry{{Stream: 22, Consumer: 7, Deliveries: 3}, {Stream: 30, Consumer: 12, Deliveries: 1}}},
			want: snapshot.ConsumerState{
				Delivered: snapshot.SequencePair{Consumer: 12, Stream: 30}, AckFloor: snapshot.SequencePair{Consumer: 5, Stream: 20},
				Pending:     map[uint64]snapshot.Pending{22: {Consumer: 7, Time: now.UnixNano()}, 30: {Consumer: 12, Time: now.UnixNano()}},
				Redelivered: map[uint64]uint64{22: 2},
			},
		},
	}
	for _, tt := range tests {
		got := archiveState(tt.st, now)
		if !reflect.DeepEqual(*got, tt.want) {
			t.Fatalf("%s: archived %+v, want %+v", tt.name, *got, tt.want)
		}
		back := restoredState(got, jsapi.ConsumerConfig{})
		if back.Next != tt.st.Next || back.Delivered != tt.st.Delivered || back.LastStream != tt.st.LastStream ||
			back.FloorS != tt.st.FloorS || back.FloorC != tt.st.FloorC || !reflect.DeepEqual(back.Pending, tt.st.Pending) {
			t.Fatalf("%s: restored %+v, want %+v", tt.name, *back, tt.st)
		}
	}
}

// Archived states are made consistent instead of refused, and a
// last-per-subject consumer that has not started begins afresh.
func TestRestoredStateRepairs(t *testing.T) {
	st := &snapshot.ConsumerState{
		Delivered: snapshot.SequencePair{Consumer: 3, Stream: 10},
		AckFloor:  snapshot.SequencePair{Consumer: 4, Stream: 12}, // past the delivery
		Pending:   map[uint64]snapshot.Pending{5: {Consumer: 1}, 13: {Consumer: 5}, 99: {Consumer: 9}},
	}
	got := restoredState(st, jsapi.ConsumerConfig{})
	if got.Next != 13 || got.LastStream != 12 || got.Delivered != 4 || len(got.Pending) != 0 {
		t.Fatalf("repaired %+v", *got)
	}
	if restoredState(&snapshot.ConsumerState{}, jsapi.ConsumerConfig{DeliverPolicy: jsapi.DeliverLastPerSubject}) != nil {
		t.Fatal("fresh last-per-subject consumer given a state")
	}
	if restoredState(nil, jsapi.ConsumerConfig{}) != nil {
		t.Fatal("no state made up")
	}
}

func TestRestoredConfig(t *testing.T) {
	zero := time.Time{}
	later := time.Unix(1800000000, 0)
	cfg := restoredConfig(jsapi.ConsumerConfig{Durable: "D", PauseUntil: &zero}, "D")
	if cfg.PauseUntil != nil || cfg.Name != "D" {
		t.Fatalf("zero pause kept: %+v", cfg)
	}
	if cfg := restoredConfig(jsapi.ConsumerConfig{PauseUntil: &later}, "E"); cfg.PauseUntil == nil || cfg.Name != "E" {
		t.Fatalf("pause dropped: %+v", cfg)
	}
}

func TestSnapshotWindow(t *testing.T) {
	for _, tt := range []struct{ chunk, window, wantChunk, wantWindow int }{
		{0, 0, 128 << 10, 8 << 20},
		{100, 100, 1 << 10, 1 << 10},
		{64 << 20, 1 << 30, 1 << 20, 32 << 20},
		{512 << 10, 1 << 10, 512 << 10, 512 << 10}, // a window holds a chunk at least
	} {
		c, w := snapshotWindow(tt.chunk, tt.window)
		if c != tt.wantChunk || w != tt.wantWindow {
			t.Errorf("snapshotWindow(%d, %d) = %d, %d, want %d, %d", tt.chunk, tt.window, c, w, tt.wantChunk, tt.wantWindow)
		}
	}
}

func TestEmptyRequest(t *testing.T) {
	for body, want := range map[string]bool{"": true, " ": true, "{}": true, " { } ": true, `{"a":1}`: false, "null": false, "[": false} {
		if got := emptyRequest([]byte(body)); got != want {
			t.Errorf("emptyRequest(%q) = %v", body, got)
		}
	}
}

func TestSnapshotStatus(t *testing.T) {
	for err, want := range map[error]string{
		errNoInterest:              "408 No Interest",
		errNoFlowResponse:          "408 No Flow Response",
		errors.New("disk\r\nfull"): "500 disk  full",
	} {
		if got := snapshotStatus(err); got != want {
			t.Errorf("%v: %q, want %q", err, got, want)
		}
	}
}

func TestClearStreamDir(t *testing.T) {
	dir := t.TempDir()
	half := filepath.Join(dir, "half")
	if err := os.MkdirAll(filepath.Join(half, "msgs"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := (&jsAccount{Manager: &Manager{fs: vfs.Default}}).clearStreamDir(half); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover kept: %v", err)
	}
	kept := filepath.Join(dir, "kept")
	if err := os.MkdirAll(kept, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kept, metaFile), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&jsAccount{Manager: &Manager{fs: vfs.Default}}).clearStreamDir(kept); err == nil {
		t.Fatal("an unrecovered stream's directory would be deleted")
	}
	if err := (&jsAccount{Manager: &Manager{fs: vfs.Default}}).clearStreamDir(filepath.Join(dir, "none")); err != nil {
		t.Fatal(err)
	}
}
