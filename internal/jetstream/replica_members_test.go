package jetstream

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/raftnode"
	"github.com/starling-mq/starling/internal/vfs"
)

// The leader changes one member at a time: a new member joins as a
// learner and becomes a voter once caught up; then the others go,
// learners first, the leader itself last.
func TestMemberChange(t *testing.T) {
	const commit = 5000
	tests := []struct {
		name             string
		voters, learners []uint64
		match            uint64 // the learners' progress
		want             []uint64
		change           change
	}{
		{"as assigned", []uint64{1, 2, 3}, nil, 0, []uint64{1, 2, 3}, change{}},
		{"grow: a learner first", []uint64{1}, nil, 0, []uint64{1, 2, 3}, change{learn: 2}},
		{"a learner catching up", []uint64{1}, []uint64{2}, 10, []uint64{1, 2, 3}, change{wait: true}},
		{"a learner caught up", []uint64{1}, []uint64{2}, commit - 100, []uint64{1, 2, 3}, change{promote: 2}},
		{"the next one", []uint64{1, 2}, nil, 0, []uint64{1, 2, 3}, change{learn: 3}},
		{"replace: add first", []uint64{1, 2, 3}, nil, 0, []uint64{2, 4, 3}, change{learn: 4}},
		{"then remove, here the leader", []uint64{1, 2, 3, 4}, nil, 0, []uint64{2, 4, 3}, change{remove: 1}},
		{"others before itself", []uint64{1, 2, 3}, nil, 0, []uint64{2}, change{remove: 3}},
		{"the leader last", []uint64{1, 2}, nil, 0, []uint64{2}, change{remove: 1}},
		{"a learner no longer wanted", []uint64{1, 2, 3}, []uint64{4}, 0, []uint64{1, 2, 3}, change{remove: 4}},
	}
	for _, tt := range tests {
		st := raftnode.Status{ID: 1, Commit: commit, Members: raftnode.Members{Voters: tt.voters, Learners: tt.learners},
			Progress: map[uint64]raftnode.PeerProgress{}}
		for _, id := range tt.learners {
			st.Progress[id] = raftnode.PeerProgress{Match: tt.match}
		}
		if got := memberChange(st, tt.want); got != tt.change {
			t.Errorf("%s: voters %v learners %v want %v: %+v, want %+v", tt.name, tt.voters, tt.learners, tt.want, got, tt.change)
		}
	}
}

// A stream directory is opened for an assignment only if it was made for
// the same stream (its creation time): one left by an earlier stream of
// the same name goes.
func TestDropStale(t *testing.T) {
	fsys := vfs.NewMem()
	a := startManagerOn(t, fsys, "/store")
	then := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	cases := []struct {
		name     string
		created  time.Time
		assigned time.Time
		kept     bool
	}{
		{"the same stream", then, then, true},
		{"another stream of the name", then, then.Add(time.Second), false},
		{"no creation time to judge by", time.Time{}, then, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := a.saveStreamMeta(&streamMeta{Config: jsapi.StreamConfig{Name: "S"}, Created: tc.created}); err != nil {
				t.Fatal(err)
			}
			if err := a.dropStale("S", tc.assigned); err != nil {
				t.Fatal(err)
			}
			_, err := fsys.Stat(filepath.Join(a.streamDir("S"), metaFile))
			if kept := err == nil; kept != tc.kept {
				t.Fatalf("directory kept %v, want %v", kept, tc.kept)
			}
		})
	}
}
