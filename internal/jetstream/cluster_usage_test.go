package jetstream

import "testing"

func TestAccountUsage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		streams   []streamUsage
		mem       uint64
		store     uint64
		consumers int
	}{
		{name: "none"},
		// The figures of a three-server nats-server cluster: an R3 file
		// stream of 391 bytes, an R1 of 361 and an R3 memory stream of 221.
		{name: "per replica", streams: []streamUsage{
			{replicas: 3, bytes: 391, consumers: 1},
			{replicas: 1, bytes: 361, consumers: 1},
			{replicas: 3, memory: true, bytes: 221},
		}, mem: 663, store: 1534, consumers: 2},
		// An assignment without peers (not yet placed) still counts once.
		{name: "unplaced", streams: []streamUsage{{bytes: 10, consumers: 2}}, store: 10, consumers: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, store, consumers := accountUsage(tc.streams)
			if mem != tc.mem || store != tc.store || consumers != tc.consumers {
				t.Fatalf("got mem %d store %d consumers %d, want %d %d %d", mem, store, consumers, tc.mem, tc.store, tc.consumers)
			}
		})
	}
}
