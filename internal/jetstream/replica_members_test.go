package jetstream

import (
	"testing"

	"github.com/starling-mq/starling/internal/raftnode"
)

// The leader changes one member at a time: additions first, then the
// removal of others, its own removal last.
func TestMemberChange(t *testing.T) {
	tests := []struct {
		voters, want []uint64
		add, remove  uint64
	}{
		{[]uint64{1, 2, 3}, []uint64{1, 2, 3}, 0, 0},
		{[]uint64{1}, []uint64{1, 2, 3}, 2, 0},
		{[]uint64{1, 2}, []uint64{1, 2, 3}, 3, 0},
		{[]uint64{1, 2, 3}, []uint64{2, 4, 3}, 4, 0},    // replace: add first
		{[]uint64{1, 2, 3, 4}, []uint64{2, 4, 3}, 0, 1}, // then remove, here the leader itself
		{[]uint64{1, 2, 3}, []uint64{2}, 0, 3},          // others before itself
		{[]uint64{1, 2}, []uint64{2}, 0, 1},
	}
	for i, tt := range tests {
		st := raftnode.Status{ID: 1, Members: raftnode.Members{Voters: tt.voters}}
		add, remove := memberChange(st, tt.want)
		if add != tt.add || remove != tt.remove {
			t.Errorf("%d: voters %v want %v: +%d -%d, want +%d -%d", i, tt.voters, tt.want, add, remove, tt.add, tt.remove)
		}
	}
}
