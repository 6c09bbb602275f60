package jsapi

import (
	"maps"
	"testing"
	"time"
)

func TestConsumerRequiredAPILevel(t *testing.T) {
	later := time.Now().Add(time.Hour)
	var zero time.Time
	for _, tc := range []struct {
		name string
		cfg  ConsumerConfig
		want int
	}{
		{"plain", ConsumerConfig{}, 0},
		{"zero pause (natscli sends it)", ConsumerConfig{PauseUntil: &zero}, 0},
		{"paused", ConsumerConfig{PauseUntil: &later}, 1},
		{"pinned", ConsumerConfig{PriorityPolicy: PriorityPinnedClient, PriorityGroups: []string{"A"}}, 1},
		{"overflow", ConsumerConfig{PriorityPolicy: PriorityOverflow, PriorityGroups: []string{"A"}}, 1},
	} {
		if got := ConsumerRequiredAPILevel(tc.cfg); got != tc.want {
			t.Errorf("%s: level %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMetadata(t *testing.T) {
	// A configuration sent back from a reply loses the reply-only keys.
	sent := map[string]string{"owner": "team", MetaServerVersion: "2.11.0", MetaServerLevel: "1", MetaRequiredLevel: "1"}
	stored := StoredMetadata(sent, 0)
	want := map[string]string{"owner": "team", MetaRequiredLevel: "0"}
	if !maps.Equal(stored, want) {
		t.Fatalf("stored %v, want %v", stored, want)
	}
	reply := ReplyMetadata(stored, "2.11.0", 1)
	want = map[string]string{"owner": "team", MetaRequiredLevel: "0", MetaServerVersion: "2.11.0", MetaServerLevel: "1"}
	if !maps.Equal(reply, want) {
		t.Fatalf("reply %v, want %v", reply, want)
	}
	if _, ok := stored[MetaServerVersion]; ok {
		t.Fatal("ReplyMetadata changed its input")
	}
	if got := StoredMetadata(nil, 1); !maps.Equal(got, map[string]string{MetaRequiredLevel: "1"}) {
		t.Fatalf("nil metadata: %v", got)
	}
}
