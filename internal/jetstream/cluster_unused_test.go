package jetstream

import (
	"log/slog"
	"slices"
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/vfs"
)

// TestDropUnusedMeta: a meta group this server founded (a snapshot at
// index 1) with no entry since is dropped at start, so the server founds
// again with the others; one with an entry past its founding, or a
// joiner's (no founding snapshot), is kept.
func TestDropUnusedMeta(t *testing.T) {
	founded := &pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: new(uint64(1)), Term: new(uint64(1)),
		ConfState: &pb.ConfState{Voters: []uint64{1, 2, 3}}}}
	entry := &pb.Entry{Index: new(uint64(2)), Term: new(uint64(2))}
	cases := []struct {
		name    string
		updates []raftlog.Update
		dropped bool
	}{
		{"founded, nothing since", []raftlog.Update{{Group: jscluster.MetaGroup, Snapshot: founded}}, true},
		{"founded, an entry since", []raftlog.Update{{Group: jscluster.MetaGroup, Snapshot: founded},
			{Group: jscluster.MetaGroup, Entries: []*pb.Entry{entry}}}, false},
		{"joined, empty", []raftlog.Update{{Group: jscluster.MetaGroup, HardState: &pb.HardState{Term: new(uint64(3))}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wal, err := raftlog.Open(vfs.Default, t.TempDir(), raftlog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer wal.Close()
			for _, u := range tc.updates {
				if err := wal.Save([]raftlog.Update{u}); err != nil {
					t.Fatal(err)
				}
			}
			c := &cluster{m: &Manager{log: slog.New(slog.DiscardHandler)}}
			if got := c.dropUnused(wal); got != tc.dropped {
				t.Fatalf("dropped %v, want %v", got, tc.dropped)
			}
			if kept := slices.Contains(wal.Groups(), jscluster.MetaGroup); kept == tc.dropped {
				t.Fatalf("group kept %v after dropUnused reported %v", kept, tc.dropped)
			}
		})
	}
}
