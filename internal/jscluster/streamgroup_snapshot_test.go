package jscluster

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/raftnode"
)

// fakeSnapshots records what a stream's state machine asks of the server.
type fakeSnapshots struct {
	consumers []byte
	restored  [][]byte
	fetches   []FetchTarget
}

func (f *fakeSnapshots) ConsumerState() ([]byte, error) { return f.consumers, nil }
func (f *fakeSnapshots) RestoreConsumers(b []byte) error {
	f.restored = append(f.restored, b)
	return nil
}
func (f *fakeSnapshots) Fetch(t FetchTarget) { f.fetches = append(f.fetches, t) }

// snapSM is a stream state machine over a memory store holding n
// messages, applied as entries 1..n.
func snapSM(t *testing.T, n int, every uint64) (*streamSM, *fakeSnapshots) {
	t.Helper()
	m, f := emptySM(t)
	m.hooks.Inline, m.every = false, every
	f.consumers = []byte(`["c"]`)
	s := m.s
	for i := 1; i <= n; i++ {
		b, ans := s.Propose("s", nil, []byte("x"))
		if ans != nil {
			t.Fatalf("propose %d: %+v", i, ans)
		}
		if _, err := m.Apply([]raftnode.Entry{{Index: uint64(i), Data: b}}); err != nil {
			t.Fatal(err)
		}
	}
	return m, f
}

func snapBytes(t *testing.T, index, last uint64) []byte {
	t.Helper()
	b, err := json.Marshal(streamSnapshot{Index: index, Last: last, Consumers: json.RawMessage(`["snap"]`)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What a stream's state machine does with a snapshot: from its own log
// it fetches only what its store lacks; from the leader it fetches
// unless it already applied the snapshot's index; either way the
// consumers come from the snapshot.
func TestStreamSnapshotRestore(t *testing.T) {
	tests := []struct {
		name         string
		received     bool
		index, last  uint64
		wantFetch    bool
		wantHad      uint64
		wantIndexNow uint64
	}{
		{"own log, store complete", false, 5, 5, false, 0, 5},
		{"own log, store ahead", false, 3, 3, false, 0, 3},
		{"own log, store short", false, 9, 8, true, 5, 5},
		{"from the leader, behind", true, 9, 8, true, 5, 5},
		{"from the leader, already applied", true, 4, 4, false, 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, f := snapSM(t, 5, 0)
			var err error
			if tt.received {
				err = m.Received(snapBytes(t, tt.index, tt.last))
			} else {
				err = m.Restore(snapBytes(t, tt.index, tt.last))
			}
			if got := errors.Is(err, raftnode.ErrFetching); got != tt.wantFetch || (!got && err != nil) {
				t.Fatalf("err %v, want fetching %v", err, tt.wantFetch)
			}
			if len(f.restored) != 1 || string(f.restored[0]) != `["snap"]` {
				t.Fatalf("consumers restored %q", f.restored)
			}
			if tt.wantFetch {
				if len(f.fetches) != 1 || f.fetches[0].Had != tt.wantHad || f.fetches[0].Last != tt.last || f.fetches[0].Index != tt.index {
					t.Fatalf("fetches %+v", f.fetches)
				}
				if m.Fetched() {
					t.Fatal("Fetched before the fetch ended")
				}
			} else if len(f.fetches) != 0 || !m.Fetched() {
				t.Fatalf("fetched %+v", f.fetches)
			}
			if got := m.index.Load(); got != tt.wantIndexNow {
				t.Fatalf("index %d, want %d", got, tt.wantIndexNow)
			}
		})
	}
}

// A file stream's state machine syncs its store every few entries and
// then offers the index the sync began at, once; a memory stream never.
func TestStreamDurableSnapshot(t *testing.T) {
	m, _ := snapSM(t, 5, 0)
	if _, _, ok, _ := m.DurableSnapshot(); ok {
		t.Fatal("a stream that keeps its whole log offered a snapshot")
	}
	m, _ = snapSM(t, 5, 4)
	var idx uint64
	var data []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		var err error
		if idx, data, ok, err = m.DurableSnapshot(); err != nil {
			t.Fatal(err)
		} else if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot after the store's sync")
		}
		time.Sleep(time.Millisecond)
	}
	snap, err := decodeStreamSnapshot(data)
	if err != nil || idx != 5 || snap.Index != 5 || snap.Last != 5 || string(snap.Consumers) != `["c"]` {
		t.Fatalf("snapshot at %d: %+v, %v", idx, snap, err)
	}
	if _, _, ok, _ := m.DurableSnapshot(); ok {
		t.Fatal("the same snapshot offered twice")
	}
}
