package raftnet

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := backoff{min: 10 * time.Millisecond, max: 80 * time.Millisecond}
	tests := []struct {
		rnd  float64
		want time.Duration
	}{
		{0, 5 * time.Millisecond},         // 10ms, lowest draw
		{0.5, 15 * time.Millisecond},      // 20ms
		{0.999999, 40 * time.Millisecond}, // 40ms, highest draw
		{0, 40 * time.Millisecond},        // 80ms
		{0, 40 * time.Millisecond},        // capped at 80ms
	}
	for i, tc := range tests {
		got := b.next(tc.rnd)
		if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("attempt %d: got %v, want %v", i, got, tc.want)
		}
	}
	b.reset()
	if got := b.next(0); got != 5*time.Millisecond {
		t.Fatalf("after reset: got %v, want 5ms", got)
	}
}
