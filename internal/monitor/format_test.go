package monitor

import (
	"testing"
	"time"
)

func TestUptime(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                     "0s",
		37*time.Second + 900*time.Millisecond: "37s",
		5 * time.Minute:                       "5m0s",
		time.Hour + 5*time.Second:             "1h0m5s",
		(2*24 + 3) * time.Hour:                "2d3h0m0s",
		(367 * 24) * time.Hour:                "1y2d0h0m0s",
	}
	for d, want := range tests {
		if got := uptime(d); got != want {
			t.Errorf("uptime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRTT(t *testing.T) {
	tests := map[time.Duration]string{
		0:                         "0s",
		276123 * time.Nanosecond:  "276µs",
		1234567 * time.Nanosecond: "1.234567ms",
		900 * time.Nanosecond:     "900ns",
	}
	for d, want := range tests {
		if got := rtt(d); got != want {
			t.Errorf("rtt(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPage(t *testing.T) {
	tests := []struct{ offset, limit, n, off, lim, lo, hi int }{
		{0, 0, 10, 0, 1024, 0, 10},
		{-5, 3, 10, 0, 3, 0, 3},
		{8, 5, 10, 8, 5, 8, 10},
		{20, 5, 10, 20, 5, 10, 10},
	}
	for _, tt := range tests {
		off, lim, lo, hi := page(tt.offset, tt.limit, tt.n, 1024)
		if off != tt.off || lim != tt.lim || lo != tt.lo || hi != tt.hi {
			t.Errorf("page(%d,%d,%d) = %d,%d,%d,%d", tt.offset, tt.limit, tt.n, off, lim, lo, hi)
		}
	}
}
